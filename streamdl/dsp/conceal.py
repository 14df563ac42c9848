"""Concealment of missing audio by pitch-period extension: the last period before a gap repeated
forward, the first period after it repeated backward, each fading after ``FADE_START_S``.

:func:`pitch_period` finds the period; :func:`extension` makes either continuation. The gap repair
(:mod:`streamdl.stages.repair`) blends the two across a gap; :class:`ReadyContinuation` keeps the
continuation of a live output ready for the audio callback to play while the worker is late. Any
sample rate: times are in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

PERIOD_S = (0.0025, 0.016)  # pitch periods looked for: 400 Hz down to 62.5 Hz
HISTORY_S = 0.03  # audio the period is measured on
FADE_START_S = 0.02  # a continuation keeps its level this long ...
FADE_S = 0.04  # ... then fades to silence over this
PERIODIC = 0.3  # the live continuation repeats audio whose period correlates at least this well, else is silent
READY_S = 0.06  # the continuation kept ready for an audio callback
CROSSFADE_S = 0.005  # after playing it, the callback crossfades the real output in over this long


@dataclass(frozen=True)
class Timing:
    """The times above in samples at one sample rate: the pitch lags looked for, the audio a period is
    measured on (enough for the longest lag to count), and a continuation's (fade start, fade length)."""

    shortest: int
    longest: int
    history: int
    fade: tuple[int, int]

    @classmethod
    def at(cls, rate: int) -> Timing:
        shortest, longest = (int(round(s * rate)) for s in PERIOD_S)
        return cls(shortest, longest, max(int(HISTORY_S * rate), 2 * longest + 1), (int(FADE_START_S * rate), int(FADE_S * rate)))


@njit(cache=True)
def pitch_period(history: np.ndarray, shortest: int, longest: int) -> tuple[int, float]:
    """The lag in ``[shortest, longest]`` (samples) with the highest normalised autocorrelation of ``history``
    (float (n,), n > 2 * longest for the longest lag to count), and that correlation; ``shortest`` when it is silent.

    Coarse to fine: every ``shortest // 20``-th lag over every as many samples, then each lag around the best."""
    step = max(shortest // 20, 1)
    lag, _ = _best_lag(history[::step].copy(), shortest // step, longest // step)
    return _best_lag(history, max(shortest, lag * step - step), min(longest, lag * step + step))


@njit(cache=True)
def _best_lag(history: np.ndarray, shortest: int, longest: int) -> tuple[int, float]:
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


class ReadyContinuation:
    """A continuation of a live output kept ready for its audio callback, which may not compute.

    The worker calls ``follow(y)`` with each block it queues (mono float32 (n,)), which makes the
    continuation of the latest ``HISTORY_S`` the ready one (its last period repeated and faded, or
    silence where it was not periodic: a click or noise repeated would sound wrong), and ``clear()``
    when the stream has ended. The callback calls ``play`` on each output buffer. Two buffers: the
    worker fills one while the callback reads the other.
    """

    def __init__(self, rate: int, channels: int):
        self._timing = Timing.at(rate)
        self._history = np.zeros(self._timing.history)
        self._spare = np.zeros((2, int(READY_S * rate), channels), np.float32)
        self._ready = 0  # the buffer the callback reads
        self._used = 0  # its frames played since real output last came (callback)
        n = int(CROSSFADE_S * rate)
        self._fade_in = ((np.arange(n) + 1.0) / (n + 1.0))[:, None].astype(np.float32)  # (frames, 1)
        self._fade_out = 1.0 - self._fade_in
        self._scratch = np.zeros((n, channels), np.float32)
        self.follow(np.zeros(1, np.float32))  # the kernels loaded (or compiled) now, not in the first live hop

    def follow(self, y: np.ndarray) -> None:
        """(worker) ``y`` was queued: the continuation after it becomes the ready one."""
        n = min(len(y), len(self._history))
        if n == 0:
            return
        self._history[:-n] = self._history[n:]
        self._history[-n:] = y[len(y) - n :]
        lag, correlation = pitch_period(self._history, self._timing.shortest, self._timing.longest)
        period = self._history[-lag:] if correlation >= PERIODIC else np.zeros(1)
        self._spare[1 - self._ready] = extension(period, 0, self._spare.shape[1], *self._timing.fade)[:, None]
        self._ready = 1 - self._ready

    def clear(self) -> None:
        """(worker) Nothing follows: silence is what is ready."""
        self._spare[1 - self._ready] = 0.0
        self._ready = 1 - self._ready

    def play(self, out: np.ndarray, start: int, got: int) -> None:
        """(callback) ``out[start : start + got]`` holds real output, the rest of ``out`` (frames, channels) none:
        crossfade the real output in if a continuation played before it, and play the continuation (as far
        as it reaches) where nothing came. No allocation, no lock."""
        spare = self._spare[self._ready]
        if got and self._used:
            n = min(got, len(self._fade_in), len(spare) - self._used)
            np.multiply(spare[self._used : self._used + n], self._fade_out[:n], out=self._scratch[:n])
            out[start : start + n] *= self._fade_in[:n]
            out[start : start + n] += self._scratch[:n]
        if got:
            self._used = 0
        late = len(out) - start - got
        if late:
            n = min(late, len(spare) - self._used)
            out[start + got : start + got + n] = spare[self._used : self._used + n]
            self._used += n
