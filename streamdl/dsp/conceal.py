"""Concealment of missing audio by pitch-period extension: the last period before a gap repeated
forward, the first period after it repeated backward, each fading after ``FADE_START_S``.

:func:`pitch_period` finds the period; :func:`extension` makes either continuation. The gap repair
(:mod:`streamdl.stages.repair`) blends the two across a gap; :class:`Concealer` fills the hops the live
engine had to drop, from the output it played last. Any sample rate: times are in seconds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PERIOD_S = (0.0025, 0.016)  # pitch periods looked for: 400 Hz down to 62.5 Hz
HISTORY_S = 0.03  # audio the period is measured on
FADE_START_S = 0.01  # a continuation keeps its level this long ...
FADE_S = 0.03  # ... then fades to silence over this
PERIODIC = 0.3  # the live concealment repeats audio whose period correlates at least this well, else plays silence


@njit(cache=True)
def pitch_period(history: np.ndarray, shortest: int, longest: int) -> tuple[int, float]:
    """The lag in ``[shortest, longest]`` (samples) with the highest normalised autocorrelation of ``history``
    (float (n,), n > 2 * longest for the longest lag to count), and that correlation; ``shortest`` when it is silent."""
    best, lag_best = -2.0, shortest
    n = len(history)
    for lag in range(shortest, min(longest, n // 2) + 1):
        a, b = history[lag:], history[: n - lag]
        c = np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b) + 1e-20)
        if c > best:
            best, lag_best = c, lag
    return lag_best, best


@njit(cache=True)
def extension(period: np.ndarray, offset: int, n: int, fade_start: int, fade: int) -> np.ndarray:
    """Samples ``offset .. offset + n`` of ``period`` (float (P,)) repeated forward, float64 (n,): at full level
    until ``fade_start`` samples, then falling linearly to silence over ``fade``. Reversed in time (a period
    and the result), the same makes a backward continuation."""
    out = np.empty(n)
    p = len(period)
    for k in range(n):
        m = offset + k
        gain = min(max(1.0 - (m - fade_start) / fade, 0.0), 1.0)
        out[k] = period[m % p] * gain
    return out


class Concealer:
    """Fills missing stretches of a mono stream with a continuation of what came before.

    ``played(y)`` passes each block of real output through (float32 (n,)), remembering the latest
    ``HISTORY_S``; ``missing(n)`` returns n samples to play instead of lost audio: silence where that
    audio was not periodic (a click, noise), which repeated would sound wrong. After a stretch was
    filled, the next ``blend`` samples that arrive are crossfaded from the continuation into the real
    output, which hides the restart of whatever produced it.
    """

    def __init__(self, rate: int, blend: int):
        self.rate, self.blend = rate, blend
        self._shortest, self._longest = (int(round(s * rate)) for s in PERIOD_S)
        self._history = np.zeros(max(int(HISTORY_S * rate), 2 * self._longest + 1))
        self._period = np.zeros(1)
        self._offset = 0  # samples of the current continuation used so far
        self._tail = 0  # samples still to crossfade into real output

    def missing(self, n: int) -> np.ndarray:
        """n samples continuing the output (fading to silence), float32 (n,)."""
        if self._tail == 0 and self._offset == 0:  # a new stretch: measure the period once
            lag, correlation = pitch_period(self._history, self._shortest, self._longest)
            self._period = self._history[-lag:].copy() if correlation >= PERIODIC else np.zeros(1)
        out = extension(self._period, self._offset, n, int(FADE_START_S * self.rate), int(FADE_S * self.rate))
        self._offset += n
        self._tail = self.blend
        self._remember(out)
        return out.astype(np.float32)

    def played(self, y: np.ndarray) -> np.ndarray:
        """Real output ``y`` (float32 (n,)), crossfaded from the continuation over its first samples after
        a filled stretch; the returned array is ``y`` itself, changed in place."""
        k = min(self._tail, len(y))
        if k:
            done = self.blend - self._tail
            w = (done + np.arange(1, k + 1)) / (self.blend + 1.0)
            cont = extension(self._period, self._offset, k, int(FADE_START_S * self.rate), int(FADE_S * self.rate))
            y[:k] = (w * y[:k] + (1.0 - w) * cont).astype(np.float32)
            self._offset += k
            self._tail -= k
        if self._tail == 0:
            self._offset = 0
        self._remember(y)
        return y

    def _remember(self, y: np.ndarray) -> None:
        n = min(len(y), len(self._history))
        if n == 0:
            return
        self._history[:-n] = self._history[n:]
        self._history[-n:] = y[len(y) - n :]
