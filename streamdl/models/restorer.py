"""Causal speech restorer: the missing high band of band-limited speech (telephone, voice messages,
low-rate files), rebuilt at 16 kHz.

Input and output are STFT spectra at 16 kHz (n_fft 320, hop 160), real tensors (B, T, n_bins, 2);
every part looks only at the current and past frames, so the algorithmic latency is the STFT frame, 20 ms.

How: a running long-term power spectrum finds where the speech stops, the cutoff (see
:meth:`Restorer.cutoffs`). The bins above it are filled with copies of the band below it, shifted
by an even number of bins, so that a copy's phase turns from hop to hop as a real partial's would
(a shift of s bins turns it by s * pi per 10 ms hop). A denoiser-shaped network
(:class:`~streamdl.models.denoiser.Denoiser`, told which bands were filled) then sets every band's
level, with gains up to ``max_gain``: the envelope of the rebuilt band, which plays ``band_gain_db`` below
that level once trained (PESQ-WB rewards a quiet band). Below the cutoff the input passes as it came, so
while nothing is missing (no cutoff found) all of it does.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from streamdl.models.configs import RestorerConfig
from streamdl.models.denoiser import Denoiser


class Restorer(nn.Module):
    """Spectrum (B, T, n_bins, 2) -> restored spectrum, same shape."""
    __jit_unused_properties__ = ["frame_shape"]

    def __init__(self, config: RestorerConfig = RestorerConfig()):
        super().__init__()
        self.config = config
        c = config
        self.network = Denoiser(c.network)
        with torch.no_grad():  # start as the identity: every band's gain 1 (a sigmoid of 1 / max_gain)
            self.network.gain_head.bias.fill_(-math.log(c.network.max_gain - 1.0))
        self.memory_rate, self.stopband_db = c.memory_rate, c.stopband_db
        self.band_gain = 10.0 ** (c.band_gain_db / 20.0)
        (self.lowest_bin, self.highest_bin), (self.ref_lo, self.ref_hi) = c.cutoff_bins, c.reference_bins
        self.register_buffer("bins", torch.arange(c.network.stft.n_bins), persistent=False)
        self.register_buffer("sources", torch.from_numpy(c.fill_sources()), persistent=False)  # (n_bins + 1, n_bins)

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self.config.frame_shape

    def init_state(self, batch: int = 1) -> tuple[torch.Tensor, ...]:
        """Stream state before any input (see :meth:`RestorerConfig.initial_state`), on the model's device."""
        return tuple(torch.from_numpy(s).to(self.network.erb.device) for s in self.config.initial_state(batch))

    def long_term(self, power: torch.Tensor, mean: torch.Tensor, count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The running mean power spectrum after each frame: powers (B, T, n_bins), the mean (B, n_bins)
        and frame count (B, 1) before them -> means (B, T, n_bins), last mean, count. It is the plain mean
        of the frames so far until ``memory_s`` of them, then forgets with that time constant."""
        means = []
        for t in range(power.shape[1]):
            count = count + 1.0
            mean = mean + torch.clamp(1.0 / count, min=self.memory_rate) * (power[:, t] - mean)
            means.append(mean)
        return torch.stack(means, dim=1), mean, count

    def cutoffs(self, means: torch.Tensor, stopband_db: torch.Tensor | float | None = None) -> torch.Tensor:
        """The first missing bin of each frame's long-term spectrum (B, T, n_bins) -> (B, T) int64: the
        lowest bin from which every bin up to the top lies ``stopband_db`` (default: the config's; or one
        per frame, (B, T, 1)) below the spectrum's peak over ``reference_hz``, if it lies within
        ``cutoff_hz``; n_bins otherwise (nothing is missing)."""
        level = 10.0 * torch.log10(means + 1e-12)
        peak = level[..., self.ref_lo : self.ref_hi].amax(-1, keepdim=True)
        stopband = self.stopband_db if stopband_db is None else stopband_db
        top_loud = torch.where(level >= peak - stopband, self.bins, -1).amax(-1)  # the highest bin not missing
        cutoff = torch.clamp(top_loud + 1, min=self.lowest_bin)
        return torch.where(cutoff <= self.highest_bin, cutoff, self.bins.shape[0])

    def filled(self, spec: torch.Tensor, cutoff: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The spectrum (B, T, n_bins, 2) with every bin from ``cutoff`` (B, T) up a copy of one below it
        (:meth:`RestorerConfig.fill_sources`), and the share of each ERB band so filled (B, T, bands)."""
        above = self.bins >= cutoff[..., None]  # (B, T, n_bins)
        out = torch.gather(spec, 2, self.sources[cutoff][..., None].expand(-1, -1, -1, 2))
        return out, above.to(spec.dtype) @ self.network.erb

    def forward_chunk(self, spec: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Any number of frames from a state: (B, T, n_bins, 2), state -> restored, new state."""
        mean, count = state[0], state[1]
        seen = count + torch.arange(1, spec.shape[1] + 1, device=spec.device)  # frames seen at each frame (B, T)
        means, mean, count = self.long_term(spec.pow(2).sum(-1), mean, count)
        c = self.config
        stopband = torch.where(seen >= c.settle_frames, c.stopband_db, c.settle_stopband_db)[..., None]  # (B, T, 1)
        cutoff = self.cutoffs(means, stopband)
        filled, share = self.filled(spec, cutoff)
        out, net_state = self.network.forward_chunk(filled, state[2:], share)
        if not self.training:  # the network learns the band's level; in use it plays quieter (RestorerConfig.band_gain_db)
            out = out * self.band_gain
        missing = (self.bins >= cutoff[..., None])[..., None]  # (B, T, n_bins, 1); the rest passes as it came
        return torch.where(missing, out, spec), (mean, count) + net_state

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Whole signal: (B, T, n_bins, 2) -> restored (B, T, n_bins, 2)."""
        return self.forward_chunk(spec, self.init_state(spec.shape[0]))[0]

    def step(self, frame: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """One hop: (B, n_bins, 2), state -> (B, n_bins, 2), new state."""
        out, state = self.forward_chunk(frame.unsqueeze(1), state)
        return out.squeeze(1), state
