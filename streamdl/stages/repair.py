"""Repair of clipped samples, soft saturation and gaps of digital silence, as a chain stage on the signal before the STFT.

Both damages leave marks in the samples themselves, so they are found and repaired there, ahead of
the spectral stages (the denoiser, the restorer), which then see whole speech:

- **Clipping**: a side (positive or negative) counts as clipped once ``CLIPPED_RUNS`` runs of two or more
  samples have sat on its peak; from then on every sample on that peak is restored by
  :func:`~streamdl.dsp.declip.fill_clipped`. A clean signal touches its peak once, so it is never
  changed. A signal clipped near full scale (a level above ``HEADROOM``) is turned down, over one hop
  once the clipping is found, so that the clip level lands at ``HEADROOM`` and the peaks restored above it
  fit under full scale.
- **Soft saturation** (a tanh-like overdrive, no samples held on the peak): found and undone by
  :mod:`streamdl.dsp.saturation` once enough half cycles crowd below the peak (and fewer than half as many
  runs sit on it: a saturation driven hard is held on its peak too); it takes the place of the clipping
  repair. The output is turned down, like the clipping's, so that the restored peaks fit in full scale.
- **Gaps**: a run of ``SHORTEST_GAP`` to ``longest_gap`` exact zeros after sound (not at the start, not
  after silence) is filled with the last pitch period before it repeated forward, crossfaded across the
  gap into the first period after it repeated backward (:mod:`streamdl.dsp.conceal`). Longer runs are
  silence someone meant (an edit, a pause), and stay.

Streaming with a lookahead: each hop out is the input ``lookahead`` samples earlier, so that a clipped
run's far side and a gap's end, with a pitch period after it, can be seen. A signal with neither damage
passes unchanged, bit for bit (but for short runs of zeros right after sound: a dropout or not, they are
filled).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from streamdl.dsp.conceal import Timing, extension, pitch_period
from streamdl.dsp.declip import CEILING, HISTORY, fill_clipped
from streamdl.dsp.saturation import SaturationTracker, desaturated
from streamdl.errors import StreamdlError

CLIPPED_RUNS = 3  # runs on a side's peak before that side counts as clipped
RAIL = 1e-4  # a sample within this fraction of the peak sits on it
HEADROOM = 1.0 / CEILING  # a clip level above this is turned down to it, so that restored peaks fit in full scale
HARD_OVER_SOFT = 2  # runs held on the peak per half cycle crowding below it from which clipping is hard, not soft saturation
SHORTEST_GAP = 32  # zeros in a row that can be a gap (2 ms at 16 kHz; real speech crosses zero one sample at a time)
SILENT_RMS = 1e-4  # a gap needs sound before it: the audio before it above this RMS (-80 dBFS)


@njit(cache=True)
def _rail_runs(x: np.ndarray, before: float, peak: float, runs: int) -> tuple[float, int]:
    """Follow one side's peak over ``x`` (float, that side positive; ``before``: the sample preceding it): the
    new peak and the count of runs of two or more samples on it (starting afresh whenever the peak rises)."""
    on_before, prev = False, before
    on_prev = prev >= peak * (1.0 - RAIL) and peak > 0.0
    for v in x:
        if v > peak * (1.0 + RAIL):
            peak, runs, on_before, on_prev = v, 0, False, True
            continue
        on = v >= peak * (1.0 - RAIL) and peak > 0.0
        if on and on_prev and not on_before:
            runs += 1
        on_before, on_prev = on_prev, on
    return peak, runs


class StreamingRepair:
    """Signal stage before the STFT at 16 kHz: float32 (hop,) in -> the repaired hop out,
    ``delay_samples`` (= ``lookahead``) later.

    Args:
        hop: samples per call.
        lookahead: samples seen past the hop being repaired, a multiple of ``hop`` (default 1280, 80 ms):
            gaps up to ``longest_gap`` = lookahead less the longest pitch period (64 ms) are filled.
    """

    name = "repair"

    def __init__(self, hop: int = 160, lookahead: int = 1280, sample_rate: int = 16000):
        if lookahead < hop or lookahead % hop:
            raise StreamdlError(f"the repair's lookahead ({lookahead} samples) must be a positive multiple of the hop ({hop})")
        self.hop, self.delay_samples, self.sample_rate = hop, lookahead, sample_rate
        self._timing = Timing.at(sample_rate)
        self.longest_gap = lookahead - self._timing.longest
        if self.longest_gap < SHORTEST_GAP:
            raise StreamdlError(f"the repair's lookahead ({lookahead} samples) must see a gap and a pitch period after it: "
                                f"give at least {SHORTEST_GAP + self._timing.longest}")  # fmt: skip
        self._history = max(HISTORY, self._timing.history)
        self.reset()

    def reset(self) -> None:
        n = self._history + self.hop + self.delay_samples
        self._raw = np.zeros(n, np.float32)  # the input as it came
        self._x = np.zeros(n)  # the same, repaired up to the hop being repaired
        self._peaks, self._runs = [0.0, 0.0], [0, 0]  # positive side, negative side (as magnitudes)
        self._saturation = SaturationTracker(RAIL)
        self.gain = 1.0  # the output's gain (below 1 once clipping near full scale is found)

    @property
    def saturation_level(self) -> float:
        """The soft saturation's level found (inf: none, or hard clipping)."""
        return np.inf if self._hard_clipped else self._saturation.level

    @property
    def _hard_clipped(self) -> bool:
        """Whether half cycles held on the peak outnumber those crowding below it ``HARD_OVER_SOFT`` times."""
        return sum(self._runs) >= HARD_OVER_SOFT * self._saturation.near

    @property
    def clipping(self) -> tuple[bool, bool]:
        """Whether the positive and the negative side count as clipped."""
        return self._runs[0] >= CLIPPED_RUNS, self._runs[1] >= CLIPPED_RUNS

    def __call__(self, hop: np.ndarray) -> np.ndarray:
        h, start = self.hop, self._history
        self._raw[:-h], self._x[:-h] = self._raw[h:], self._x[h:]
        self._raw[-h:] = hop
        self._x[-h:] = hop
        before = float(self._raw[-h - 1])
        for side, sign in ((0, 1.0), (1, -1.0)):
            self._peaks[side], self._runs[side] = _rail_runs(sign * self._raw[-h:], sign * before, self._peaks[side], self._runs[side])
        saturation = self._saturation.update(self._raw[-h:])
        if self._hard_clipped:
            saturation = np.inf
        if not self._raw[start : start + h].all():
            self._fill_gaps(start, start + h)
        pos, neg = self.clipping
        if saturation < np.inf:
            out = desaturated(self._x[start : start + h], saturation)
            restored_peak = float(desaturated(self._saturation.peak, saturation))
            gain = min(self.gain, 1.0 / restored_peak) if restored_peak > 1.0 else self.gain
        else:
            if pos or neg:
                level_pos = self._peaks[0] * (1.0 - RAIL) if pos else np.inf
                level_neg = -self._peaks[1] * (1.0 - RAIL) if neg else -np.inf
                clipped = (self._raw >= level_pos) | (self._raw <= level_neg)
                if clipped[start : start + h].any():
                    fill_clipped(self._x, clipped, start, start + h, self._peaks[0], -self._peaks[1])
            out = self._x[start : start + h]
            level = max(self._peaks[0] if pos else 0.0, self._peaks[1] if neg else 0.0)
            gain = min(self.gain, HEADROOM / level) if level > HEADROOM else self.gain
        if gain == 1.0:
            return out.astype(np.float32)
        ramp = self.gain + (gain - self.gain) * np.arange(1, h + 1) / h
        self.gain = gain
        return (out * ramp).astype(np.float32)

    def _fill_gaps(self, start: int, stop: int) -> None:
        """Fill the gaps that begin in ``[start, stop)`` (buffer indices), each whole: a gap is seen to its end."""
        raw, x = self._raw, self._x
        for j in np.flatnonzero(raw[start:stop] == 0.0) + start:
            if raw[j - 1] == 0.0:  # not where a run begins: judged (filled, or kept as silence) with its beginning
                continue
            end = j + np.argmax(raw[j:] != 0.0) if raw[j:].any() else len(raw)
            history = x[j - self._history : j]
            if not SHORTEST_GAP <= end - j <= self.longest_gap or np.sqrt(np.mean(history**2)) < SILENT_RMS:
                continue
            lag = pitch_period(history, self._timing.shortest, self._timing.longest)[0]
            n = end - j
            forward = extension(history[-lag:].copy(), 0, n, *self._timing.fade)
            backward = extension(x[end : end + lag][::-1].copy(), 0, n, *self._timing.fade)[::-1]
            w = np.arange(1, n + 1) / (n + 1.0)
            x[j:end] = (1.0 - w) * forward + w * backward
