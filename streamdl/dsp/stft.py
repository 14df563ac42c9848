"""Streaming STFT analysis and overlap-add synthesis, compiled with Numba.

One hop of ``hop`` samples in gives one spectrum frame of ``n_fft // 2 + 1`` bins out, and one
frame in gives one hop out. The analysis frame at hop ``t`` covers input samples
``[t*hop + hop - n_fft, t*hop + hop)`` (zeros before the start), so analysis followed by synthesis
reproduces the input delayed by ``n_fft - hop`` samples (:attr:`STFTConfig.delay_samples`).
The offline :func:`stft` / :func:`istft` run the very same kernels over a whole signal, so their
frames equal the streaming ones bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rocket_fft  # noqa: F401  (registers np.fft for Numba)
from numba import njit

from streamdl.errors import StreamdlError
from streamdl.jit import compile_notice


@dataclass(frozen=True)
class STFTConfig:
    sample_rate: int = 16000  # Hz
    n_fft: int = 320  # frame length in samples (20 ms at 16 kHz); a multiple of hop
    hop: int = 160  # samples between frames (10 ms at 16 kHz)

    def __post_init__(self):
        if self.hop < 1 or self.n_fft < self.hop or self.n_fft % self.hop:
            raise StreamdlError(f"STFT frame length {self.n_fft} must be a positive multiple of the hop {self.hop}")

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def delay_samples(self) -> int:
        """Input-to-output shift of analysis + synthesis, in samples."""
        return self.n_fft - self.hop

    @property
    def algorithmic_latency_ms(self) -> float:
        """Time from a sample's arrival until the output that holds it can be complete (one frame)."""
        return 1000.0 * self.n_fft / self.sample_rate

    @property
    def hop_ms(self) -> float:
        return 1000.0 * self.hop / self.sample_rate


def analysis_window(n_fft: int) -> np.ndarray:
    """Periodic sqrt-Hann window, float32 (n_fft,)."""
    n = np.arange(n_fft)
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)).astype(np.float32)


def synthesis_window(window: np.ndarray, hop: int) -> np.ndarray:
    """Dual window that makes analysis + overlap-add an identity for this hop, float32."""
    n_fft = len(window)
    energy = np.zeros(hop, dtype=np.float64)
    for k in range(n_fft // hop):
        energy += window[k * hop : (k + 1) * hop].astype(np.float64) ** 2
    return (window / np.tile(energy, n_fft // hop)).astype(np.float32)


@njit(cache=True)
def _analysis_step(frame_buf, x, window, out):
    """Shift hop samples ``x`` into ``frame_buf`` (n_fft,) and write its windowed rfft to ``out``."""
    n_fft = frame_buf.shape[0]
    hop = x.shape[0]
    frame_buf[: n_fft - hop] = frame_buf[hop:]
    frame_buf[n_fft - hop :] = x
    out[:] = np.fft.rfft(frame_buf * window)


@njit(cache=True)
def _synthesis_step(ola_buf, spec, window, out):
    """Overlap-add the inverse of ``spec`` into ``ola_buf`` (n_fft,) and pop one hop into ``out``."""
    n_fft = ola_buf.shape[0]
    hop = out.shape[0]
    ola_buf += np.fft.irfft(spec, n_fft) * window
    out[:] = ola_buf[:hop]
    ola_buf[: n_fft - hop] = ola_buf[hop:]
    ola_buf[n_fft - hop :] = 0.0


@njit(cache=True)
def _stft_frames(x, window, hop, out):
    frame_buf = np.zeros(window.shape[0], dtype=np.float32)
    for t in range(out.shape[0]):
        _analysis_step(frame_buf, x[t * hop : (t + 1) * hop], window, out[t])


@njit(cache=True)
def _istft_frames(spec, window, hop, out):
    ola_buf = np.zeros(window.shape[0], dtype=np.float32)
    for t in range(spec.shape[0]):
        _synthesis_step(ola_buf, spec[t], window, out[t * hop : (t + 1) * hop])


class StreamingSTFT:
    """Hop in, spectrum frame out: float32 (hop,) -> complex64 (n_bins,).

    The returned array is reused by the next call; copy it to keep it. ``compiled=False`` runs the
    same step as plain Python and NumPy (the reference ``streamdl bench`` times it against).
    """

    def __init__(self, config: STFTConfig = STFTConfig(), *, compiled: bool = True):
        self.config = config
        self.window = analysis_window(config.n_fft)
        self._step = _analysis_step if compiled else _analysis_step.py_func
        self._frame_buf = np.zeros(config.n_fft, dtype=np.float32)
        self._out = np.zeros(config.n_bins, dtype=np.complex64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self._step(self._frame_buf, x, self.window, self._out)
        return self._out

    def reset(self) -> None:
        self._frame_buf[:] = 0.0


class StreamingISTFT:
    """Spectrum frame in, hop out: complex64 (n_bins,) -> float32 (hop,), overlap-added.

    The returned array is reused by the next call; copy it to keep it. ``compiled``: as for
    :class:`StreamingSTFT`.
    """

    def __init__(self, config: STFTConfig = STFTConfig(), *, compiled: bool = True):
        self.config = config
        self.window = synthesis_window(analysis_window(config.n_fft), config.hop)
        self._step = _synthesis_step if compiled else _synthesis_step.py_func
        self._ola_buf = np.zeros(config.n_fft, dtype=np.float32)
        self._out = np.zeros(config.hop, dtype=np.float32)

    def __call__(self, spec: np.ndarray) -> np.ndarray:
        self._step(self._ola_buf, spec, self.window, self._out)
        return self._out

    def reset(self) -> None:
        self._ola_buf[:] = 0.0


def stft(x: np.ndarray, config: STFTConfig = STFTConfig()) -> np.ndarray:
    """Whole-signal STFT: float (samples,) -> complex64 (frames, n_bins), frames = ceil(samples / hop).

    Equal, frame for frame, to feeding :class:`StreamingSTFT` hop by hop (the tail is zero-padded).
    """
    hop = config.hop
    frames = -(-len(x) // hop)
    padded = np.zeros(frames * hop, dtype=np.float32)
    padded[: len(x)] = x
    out = np.empty((frames, config.n_bins), dtype=np.complex64)
    _stft_frames(padded, analysis_window(config.n_fft), hop, out)
    return out


def istft(spec: np.ndarray, config: STFTConfig = STFTConfig()) -> np.ndarray:
    """Whole-signal overlap-add: complex (frames, n_bins) -> float32 (frames * hop,).

    Equal to feeding :class:`StreamingISTFT` frame by frame; ``istft(stft(x))`` is ``x`` delayed by
    ``config.delay_samples``.
    """
    out = np.empty(len(spec) * config.hop, dtype=np.float32)
    window = synthesis_window(analysis_window(config.n_fft), config.hop)
    _istft_frames(np.ascontiguousarray(spec, dtype=np.complex64), window, config.hop, out)
    return out


def warmup(config: STFTConfig = STFTConfig()) -> None:
    """Compile (or load from cache) the streaming kernels before a stream starts."""
    with compile_notice():
        StreamingISTFT(config)(StreamingSTFT(config)(np.zeros(config.hop, dtype=np.float32)))
