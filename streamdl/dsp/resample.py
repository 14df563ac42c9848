"""Sample-rate conversion between a device or file rate and the model rate (soxr)."""

from __future__ import annotations

import numpy as np
import soxr

from streamdl.errors import StreamdlError


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


class StreamResampler:
    """Streaming resampler for live blocks: float32 (frames, channels) in, a variable number out.

    Output lags the input by soxr's filter delay (about 1 ms with quality "HQ" at the rates
    used here). With equal rates it passes blocks through untouched.
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int = 1):
        _check_rates(in_rate, out_rate)
        self.in_rate, self.out_rate = in_rate, out_rate
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, channels, dtype="float32", quality="HQ")

    def __call__(self, block: np.ndarray, *, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return block
        return self._stream.resample_chunk(block, last=last)
