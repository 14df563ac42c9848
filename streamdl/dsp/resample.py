"""Sample-rate conversion between a device or file rate and the model rate (soxr)."""

from __future__ import annotations

import math

import numpy as np
import soxr
from numba import njit

from streamdl.errors import StreamdlError
from streamdl.jit import compile_notice


def fitted(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` cut or zero-padded to ``n`` samples (a resampler's output is a sample or two off)."""
    return np.pad(x[:n], (0, max(0, n - len(x))))


def _check_rates(*rates: int) -> None:
    for rate in rates:
        if not 1000 <= rate <= 768000:
            raise StreamdlError(f"unsupported sample rate {rate} Hz; use a rate between 1 kHz and 768 kHz")


def resample(x: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Whole-signal, zero-delay resampling: float32 (frames, ...) at in_rate -> out_rate."""
    _check_rates(in_rate, out_rate)
    if in_rate == out_rate:
        return x.astype(np.float32, copy=False)
    return soxr.resample(x, in_rate, out_rate, quality="HQ").astype(np.float32, copy=False)


ZERO_CROSSINGS = 16  # of the windowed sinc on each side: the filter's length, its steepness, its delay
CUTOFF = 0.9  # the pass band ends at this share of the lower rate's Nyquist frequency
KAISER_BETA = 8.6  # window shape: about 90 dB of stop-band rejection


class StreamResampler:
    """Streaming resampler for live audio: mono float32 (frames,) at ``in_rate`` -> float32 at ``out_rate``.

    A polyphase FIR (a Kaiser-windowed sinc, cut at 0.9 x the lower rate's Nyquist): every call returns
    exactly the output samples its input completes, so a steady stream of blocks comes out as a steady
    stream (480 frames at 48 kHz in, 160 out, every time) with a fixed delay of ``delay_s`` (about 1 ms),
    where a block resampler releases its output in bursts tens of milliseconds apart. With equal rates
    blocks pass through untouched. Blocks of any size give the same samples as one long block.
    """

    def __init__(self, in_rate: int, out_rate: int):
        _check_rates(in_rate, out_rate)
        self.in_rate, self.out_rate = in_rate, out_rate
        g = math.gcd(in_rate, out_rate)
        self.up, self.down = out_rate // g, in_rate // g
        fc = CUTOFF * 0.5 * min(in_rate, out_rate) / (self.up * in_rate)  # cycles per sample of the upsampled grid
        # an odd, symmetric filter whose delay is a whole number of samples at the higher of the two rates
        # (so that a signal sent down and back up can be subtracted from itself, sample for sample)
        step = self.up if in_rate > out_rate else self.down  # grid samples per sample of the higher rate
        half = step * math.ceil(ZERO_CROSSINGS / (2 * fc) / step)
        n = np.arange(2 * half + 1) - half
        taps = 2 * fc * np.sinc(2 * fc * n) * np.kaiser(len(n), KAISER_BETA) * self.up
        per_phase = -(-len(taps) // self.up)
        self._taps = np.zeros(per_phase * self.up, np.float32)
        self._taps[: len(taps)] = taps  # zeros after: a whole number of taps per branch
        self._history = np.zeros(per_phase - 1, np.float32)  # the inputs before the current block
        self._next = 0  # where the next output falls on the upsampled grid, counted from the current block's start
        self.delay_s = 0.0 if self.up == self.down else half / (self.up * in_rate)
        if self.up != self.down:
            with compile_notice():  # compile (or load from Numba's cache) now, not in a live worker
                self(np.zeros(self.down, np.float32))
            self.reset()

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.up == self.down:
            return block
        x = np.ascontiguousarray(block, np.float32)  # one layout: one compiled kernel
        count = max(0, -(-(self.up * len(x) - self._next) // self.down))  # outputs this block completes
        out = np.empty(count, np.float32)
        self._next = _polyphase(self._history, x, self._taps, self.up, self.down, self._next, out)
        return out

    def reset(self) -> None:
        self._history[:] = 0.0
        self._next = 0


@njit(cache=True, nogil=True)
def _polyphase(history, x, taps, up, down, start, out):
    """Fill ``out`` with the resampled [history | x] from grid position ``start`` on (stepping by ``down``);
    shift the newest inputs into ``history``; return the next output's grid position for the next block."""
    keep, n = history.shape[0], x.shape[0]
    position = start
    for k in range(out.shape[0]):
        i, phase = position // up, position % up  # the newest input this output sees, and which branch
        acc = 0.0
        for m in range(keep + 1):
            j = i - m
            acc += taps[phase + m * up] * (x[j] if j >= 0 else history[keep + j])
        out[k] = acc
        position += down
    if n >= keep:
        history[:] = x[n - keep :]
    else:
        history[: keep - n] = history[n:].copy()
        history[keep - n :] = x
    return position - up * n
