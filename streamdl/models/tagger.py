"""Streaming sound tagger: log-mel frames in, per-label probabilities out every 20 ms.

Input is the same STFT the denoiser sees (16 kHz, n_fft 320, hop 160), real tensors
(B, T, n_bins, 2). Pairs of hops are pooled into one 20 ms tagger frame of 64 log-mel bands, so
the network runs at 50 Hz, half the hop rate. Everything is causal; the algorithmic latency is the
STFT frame plus the second hop of a pair, 30 ms.

Two sequence models share the causal convolution front end (their ``arch``):

- ``"crnn"``: a third causal convolution and a GRU; state = (conv1, conv2, conv3 inputs, GRU hidden).
- ``"attention"``: one causal multi-head self-attention layer over a bounded window of past
  frames (``window`` frames, 0.64 s by default) and a feed-forward layer; state = (conv1, conv2
  inputs, key cache, value cache). At the start of a stream the caches hold zeros, in ``forward``
  and in ``step`` alike, so chunked and whole-signal outputs are equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from streamdl.data.tags import LABELS
from streamdl.dsp.filterbank import mel_filterbank
from streamdl.dsp.stft import STFTConfig
from streamdl.models.denoiser import CausalConv

State = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class TaggerConfig:
    stft: STFTConfig = field(default_factory=STFTConfig)  # 16 kHz, 10 ms hop
    labels: tuple[str, ...] = LABELS
    arch: str = "crnn"  # "crnn" or "attention"
    pool: int = 2  # STFT hops per tagger frame (20 ms)
    n_mels: int = 64
    channels: int = 128  # width of the causal convolutions
    kernel: int = 3
    hidden: int = 128  # GRU width, or attention model width
    heads: int = 4
    window: int = 32  # attention: past frames each frame may see (32 x 20 ms = 0.64 s)

    @classmethod
    def from_dict(cls, d: dict) -> TaggerConfig:
        return cls(**{**d, "stft": STFTConfig(**d["stft"]), "labels": tuple(d["labels"])})


class Tagger(nn.Module):
    """Spectrum (B, T, n_bins, 2), T a multiple of ``pool`` -> label logits (B, T // pool, labels)."""

    __constants__ = ["attention"]  # TorchScript then compiles only this arch's branch
    __jit_unused_properties__ = ["frame_shape"]  # Python-side only

    def __init__(self, config: TaggerConfig = TaggerConfig()):
        super().__init__()
        if config.arch not in ("crnn", "attention"):
            raise ValueError(f"unknown tagger arch {config.arch!r}")
        self.config = config
        c = config
        self.attention = c.arch == "attention"
        self.pool, self.n_mels, self.channels, self.context = c.pool, c.n_mels, c.channels, c.kernel - 1
        self.hidden, self.heads, self.window = c.hidden, c.heads, c.window
        mel = mel_filterbank(c.stft.n_bins, c.stft.sample_rate, c.n_mels, fmin=50.0)
        self.register_buffer("mel", torch.from_numpy(mel).T.contiguous())  # (n_bins, n_mels)
        self.conv1 = CausalConv(c.n_mels, c.channels, c.kernel)
        self.conv2 = CausalConv(c.channels, c.channels, c.kernel)
        if self.attention:
            self.proj = nn.Linear(c.channels, c.hidden)
            self.qkv = nn.Linear(c.hidden, 3 * c.hidden)
            self.att_out = nn.Linear(c.hidden, c.hidden)
            self.norm1 = nn.LayerNorm(c.hidden)
            self.ffn = nn.Sequential(nn.Linear(c.hidden, 2 * c.hidden), nn.GELU(), nn.Linear(2 * c.hidden, c.hidden))
            self.norm2 = nn.LayerNorm(c.hidden)
        else:
            self.conv3 = CausalConv(c.channels, c.channels, c.kernel)
            self.gru = nn.GRU(c.channels, c.hidden, batch_first=True)
        self.head = nn.Linear(c.hidden, len(c.labels))
        nn.init.constant_(self.head.bias, -2.0)  # start near the labels' low base rates

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """Shape of one ``step`` input without the batch: ``pool`` STFT frames."""
        return (self.pool, self.config.stft.n_bins, 2)

    def init_state(self, batch: int = 1) -> State:
        dev = self.mel.device
        buf1 = torch.zeros(batch, self.n_mels, self.context, device=dev)
        buf2 = torch.zeros(batch, self.channels, self.context, device=dev)
        if self.attention:
            cache = torch.zeros(batch, self.window, self.hidden, device=dev)
            return buf1, buf2, cache, cache.clone()
        return buf1, buf2, torch.zeros(batch, self.channels, self.context, device=dev), torch.zeros(1, batch, self.hidden, device=dev)

    def features(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, T, n_bins, 2) -> pooled log-mel (B, T // pool, n_mels), about -1 (silence) to 3 (full scale)."""
        power = spec.pow(2).sum(-1)
        b, t, n = power.shape
        power = power[:, : t // self.pool * self.pool].reshape(b, t // self.pool, self.pool, n).mean(2)
        return (10.0 * torch.log10(power @ self.mel + 1e-10) + 60.0) / 30.0

    def _attend(self, x: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Causal self-attention over the last ``window`` frames: x (B, T, D) -> (B, T, D), new caches."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=2)
        keys, values = torch.cat([k_cache, k], dim=1), torch.cat([v_cache, v], dim=1)  # (B, W + T, D)
        hd = d // self.heads
        qh = q.reshape(b, t, self.heads, hd).transpose(1, 2)
        kh = keys.reshape(b, self.window + t, self.heads, hd).transpose(1, 2)
        vh = values.reshape(b, self.window + t, self.heads, hd).transpose(1, 2)
        i = torch.arange(t, device=x.device).unsqueeze(1)
        j = torch.arange(self.window + t, device=x.device).unsqueeze(0)
        allowed = (j > i) & (j <= i + self.window)  # frame i sees itself and the window - 1 frames before it
        scores = (qh @ kh.transpose(2, 3)) / (hd**0.5)
        scores = scores.masked_fill(~allowed, float("-inf"))
        out = (scores.softmax(-1) @ vh).transpose(1, 2).reshape(b, t, d)
        return self.att_out(out), keys[:, keys.shape[1] - self.window :], values[:, values.shape[1] - self.window :]

    def forward_chunk(self, spec: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Any whole number of tagger frames: (B, pool * T, n_bins, 2), state -> logits (B, T, labels), state."""
        s1, s2, s3, s4 = state
        x = self.features(spec).transpose(1, 2)  # (B, n_mels, T)
        x, s1 = self.conv1(x, s1)
        x, s2 = self.conv2(F.relu(x), s2)
        x = F.relu(x)
        if self.attention:
            z = self.proj(x.transpose(1, 2))
            a, s3, s4 = self._attend(z, s3, s4)
            z = self.norm1(z + a)
            z = self.norm2(z + self.ffn(z))
        else:
            x, s3 = self.conv3(x, s3)
            z, s4 = self.gru(F.relu(x).transpose(1, 2), s4)
        return self.head(z), (s1, s2, s3, s4)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Whole signal: (B, T, n_bins, 2) -> logits (B, T // pool, labels)."""
        return self.forward_chunk(spec, self.init_state(spec.shape[0]))[0]

    def step(self, frame: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One tagger frame: (B, pool, n_bins, 2), state -> probabilities (B, labels), new state."""
        logits, state = self.forward_chunk(frame, state)
        return torch.sigmoid(logits[:, 0]), state
