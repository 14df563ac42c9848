"""Soft saturation (an overdriven preamp: ``y = L tanh(x / L)``) found in a stream and undone.

Found from the peaks of the half cycles (the largest magnitude between two sign changes): in speech
the loud half cycles reach all sorts of heights and few come near the loudest, but a saturation
squeezes every loud one towards its level ``L``. So the stream counts as saturated once ``DETECT`` half
cycles have peaked within ``NEAR`` of its peak ``P`` (below it: runs held on the peak are hard clipping,
which :mod:`streamdl.dsp.declip` repairs).

Its level is then the one whose inverse, ``x = L atanh(y / L)``, leaves only ``KEEP`` half-cycle peaks
within ``NEAR`` of the restored peak, as in whole speech: the ``KEEP + 1``-th largest half-cycle peak ``p``
solves ``atanh(p / L) = (1 - NEAR) atanh(P / L)``. A level more than ``MILD`` above the peak is not
trusted (whole speech that was already compressed gives such levels), and nothing is undone.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

NEAR = 0.05  # a half cycle near the peak peaks within this fraction of it
DETECT = 40  # half cycles near the peak before a stream counts as saturated
KEEP = 3  # half cycles near the restored peak that whole speech has
MILD = 0.03  # a level more than this fraction above the peak: not trusted, nothing undone
CLOSEST = 1e-5  # the level is held this fraction above the peak at least (the inverse's gain there: about 6)
TRACKED = 1024  # the largest half-cycle peaks kept


@njit(cache=True)
def _half_cycle_peaks(x: np.ndarray, sign: float, running: float, out: np.ndarray) -> tuple[float, float, int]:
    """The peaks of the half cycles that end in ``x`` into ``out`` (their count returned), given the sign
    and the running peak of the half cycle ``x`` starts in; returns (sign, running peak, count)."""
    count = 0
    for v in x:
        s = 1.0 if v > 0.0 else (-1.0 if v < 0.0 else sign)
        if s != sign:
            if running > 0.0:
                out[count] = running
                count += 1
            sign, running = s, 0.0
        a = abs(v)
        if a > running:
            running = a
    return sign, running, count


@njit(cache=True)
def _near_peaks(x: np.ndarray, sign: float, running: float, peak: float, rail: float, out: np.ndarray) -> tuple[float, float, float, int]:
    """:func:`_half_cycle_peaks` of ``x``, keeping in ``out`` only those within ``NEAR`` below the stream's
    peak (raised by ``x``) and off its rail; returns (sign, running peak, stream's peak, count)."""
    for v in x:
        peak = max(peak, abs(v))
    sign, running, n = _half_cycle_peaks(x, sign, running, out)
    count = 0
    for i in range(n):
        if (1.0 - NEAR) * peak < out[i] < peak * (1.0 - rail):
            out[count] = out[i]
            count += 1
    return sign, running, peak, count


def level_for(peaks: np.ndarray, peak: float) -> float:
    """The saturation level that leaves ``KEEP`` of ``peaks`` (half-cycle peaks below ``peak``, largest
    first) within ``NEAR`` of the restored peak, or inf when they are not that crowded."""
    p = peaks[KEEP]
    if p <= (1.0 - NEAR) * peak:
        return math.inf
    lo, hi = peak * (1.0 + CLOSEST), peak * (1.0 + MILD)
    if math.atanh(p / hi) <= (1.0 - NEAR) * math.atanh(peak / hi):
        return math.inf  # a level above hi would do: too mild to trust
    if math.atanh(p / lo) > (1.0 - NEAR) * math.atanh(peak / lo):
        return lo
    for _ in range(40):  # bisection on the log of the level
        mid = math.sqrt(lo * hi)
        if math.atanh(p / mid) > (1.0 - NEAR) * math.atanh(peak / mid):
            hi = mid
        else:
            lo = mid
    return lo


class SaturationTracker:
    """Follows one stream's half-cycle peaks; :attr:`level` is its saturation level (inf: none found)."""

    def __init__(self, rail: float):
        self.rail = rail  # a peak within this fraction of the stream's peak sits on it (hard clipping): not counted
        self.peak = 0.0
        self.near = 0  # half cycles kept that peaked within NEAR of the peak (below the rail)
        self.level = math.inf
        self._sign, self._running = 1.0, 0.0
        self._top = np.zeros(0)  # the half-cycle peaks near the stream's peak and below its rail, largest first
        self._new = np.empty(4096)

    def update(self, x: np.ndarray) -> float:
        """Take the next samples; return the level."""
        if len(x) > len(self._new):
            self._new = np.empty(len(x))
        self._sign, self._running, peak, n = _near_peaks(x, self._sign, self._running, self.peak, self.rail, self._new)
        if peak == self.peak and not n:
            return self.level  # nothing near the peak changed
        self.peak = peak
        top = np.concatenate([self._top, self._new[:n]])
        top = top[(top < peak * (1.0 - self.rail)) & (top > peak * (1.0 - NEAR))]
        self._top = -np.sort(-top)[:TRACKED]
        self.near = len(self._top)
        self.level = level_for(self._top, peak) if self.near >= DETECT else math.inf
        return self.level


def desaturated(y: np.ndarray | float, level: float) -> np.ndarray | float:
    """``y`` (samples, or one value) through the inverse of a saturation at ``level``: ``level * atanh(y / level)``."""
    return level * np.arctanh(np.clip(y / level, -1.0 + 1e-12, 1.0 - 1e-12))
