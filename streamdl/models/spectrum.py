"""Torch STFT / overlap-add matching :mod:`streamdl.dsp.stft` frame for frame, for training losses.

Spectra are real tensors (..., frames, n_bins, 2) holding (real, imag), the layout every model uses
so that it exports cleanly (TorchScript and ONNX handle real tensors everywhere).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from streamdl.dsp.stft import STFTConfig, analysis_window, synthesis_window


class Spectrum(torch.nn.Module):
    """Waveform (B, samples) <-> spectrum (B, frames, n_bins, 2), same framing as the streaming STFT."""

    def __init__(self, config: STFTConfig):
        super().__init__()
        self.config = config
        self.n_fft, self.hop = config.n_fft, config.hop
        self.register_buffer("window", torch.from_numpy(analysis_window(config.n_fft)), persistent=False)
        self.register_buffer("synth", torch.from_numpy(synthesis_window(analysis_window(config.n_fft), config.hop)), persistent=False)

    def stft(self, x: torch.Tensor) -> torch.Tensor:
        """(B, samples) -> (B, ceil(samples / hop), n_bins, 2)."""
        frames = -(-x.shape[-1] // self.hop)
        x = F.pad(x, (self.n_fft - self.hop, frames * self.hop - x.shape[-1]))
        spec = torch.fft.rfft(x.unfold(-1, self.n_fft, self.hop) * self.window)  # (B, T, n_bins)
        return torch.view_as_real(spec)

    def istft(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, T, n_bins, 2) -> (B, T * hop), delayed by n_fft - hop like the streaming synthesis."""
        frames = torch.fft.irfft(torch.view_as_complex(spec.contiguous()), self.n_fft) * self.synth  # (B, T, n_fft)
        length = (frames.shape[1] - 1) * self.hop + self.n_fft
        out = F.fold(frames.transpose(1, 2), (1, length), (1, self.n_fft), stride=(1, self.hop))
        return out[:, 0, 0, : frames.shape[1] * self.hop]
