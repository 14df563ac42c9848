"""Streaming sound tagger: log-mel frames in, per-label probabilities out every 20 ms.

Input is the same STFT the denoiser sees (16 kHz, n_fft 320, hop 160), real tensors
(B, T, n_bins, 2). Pairs of hops are pooled into one 20 ms tagger frame of 64 log-mel bands, so
the network runs at 50 Hz, half the hop rate. Everything is causal; the algorithmic latency is the
STFT frame plus the second hop of a pair, 30 ms.

Both sequence models (their ``arch``) share a front end of three causal 2-D convolution blocks
over (time, mel band), each halving the bands, so a pattern is recognised wherever it sits in
frequency; its state is the last ``kernel - 1`` input frames of each block.

- ``"crnn"``: a GRU; state = (block 1, 2, 3 inputs, GRU hidden).
- ``"attention"``: one causal multi-head self-attention layer over a bounded window of past
  frames (``window`` frames, 0.64 s by default) and a feed-forward layer; state = (block 1, 2, 3
  inputs, key/value cache). At the start of a stream the cache holds zeros, in ``forward`` and in
  ``step`` alike, so chunked and whole-signal outputs are equal.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from streamdl.dsp.filterbank import mel_filterbank
from streamdl.errors import StreamdlError
from streamdl.models.configs import TaggerConfig

State = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


class CausalBlock(nn.Module):
    """3 x 3 convolution over (time, band), causal in time, batch-normalised, ReLU, bands halved.

    x (B, C_in, T, F), buf (B, C_in, kernel - 1, F) -> (B, C_out, T, F // 2), new buf.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, (kernel, 3), padding=(0, 1))
        self.norm = nn.BatchNorm2d(c_out)
        self.context = kernel - 1

    def forward(self, x: torch.Tensor, buf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([buf, x], dim=2)
        y = F.relu(self.norm(self.conv(x)))
        return F.avg_pool2d(y, (1, 2)), x[:, :, x.shape[2] - self.context :]


class Tagger(nn.Module):
    """Spectrum (B, T, n_bins, 2), T a multiple of ``pool`` -> label logits (B, T // pool, labels)."""

    __constants__ = ["attention"]  # TorchScript then compiles only this arch's branch
    __jit_unused_properties__ = ["frame_shape"]  # Python-side only

    def __init__(self, config: TaggerConfig = TaggerConfig()):
        super().__init__()
        self.config = config
        c = config
        self.attention = c.arch == "attention"
        self.pool, self.n_mels, self.context = c.pool, c.n_mels, c.kernel - 1
        self.hidden, self.heads, self.window = c.hidden, c.heads, c.window
        mel = mel_filterbank(c.stft.n_bins, c.stft.sample_rate, c.n_mels, fmin=50.0)
        self.register_buffer("mel", torch.from_numpy(mel).T.contiguous())  # (n_bins, n_mels)
        widths = (1, *c.channels)
        self.block_inputs = list(widths[:3])  # plain ints for the scripted paths
        self.block1, self.block2, self.block3 = (CausalBlock(widths[i], widths[i + 1], c.kernel) for i in range(3))
        self.proj = nn.Linear(c.channels[-1] * c.n_mels // 8, c.hidden)
        if self.attention:
            self.qkv = nn.Linear(c.hidden, 3 * c.hidden)
            self.att_out = nn.Linear(c.hidden, c.hidden)
            self.norm1 = nn.LayerNorm(c.hidden)
            self.ffn = nn.Sequential(nn.Linear(c.hidden, 2 * c.hidden), nn.GELU(), nn.Linear(2 * c.hidden, c.hidden))
            self.norm2 = nn.LayerNorm(c.hidden)
        else:
            self.gru = nn.GRU(c.hidden, c.hidden, batch_first=True)
        self.head = nn.Linear(c.hidden, len(c.labels))
        nn.init.constant_(self.head.bias, -2.0)  # start near the labels' low base rates

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """Shape of one ``step`` input without the batch: ``pool`` STFT frames."""
        return self.config.frame_shape

    @torch.no_grad()
    def with_labels(self, labels: tuple[str, ...]) -> Tagger:
        """This model with ``labels``, its own followed by new ones: the old outputs are unchanged, the
        new ones start as a fresh head's (near zero, threshold 0.5) for fine-tuning to learn."""
        old = self.config.labels
        if labels[: len(old)] != old:
            raise StreamdlError(f"the tagger's labels {', '.join(old)} must stay first, in order, when labels are added")
        thresholds = self.config.thresholds and self.config.thresholds + (0.5,) * (len(labels) - len(old))
        new = Tagger(dataclasses.replace(self.config, labels=labels, thresholds=thresholds)).to(self.mel.device)
        state = self.state_dict()
        state["head.weight"] = torch.cat([state["head.weight"], torch.zeros_like(new.head.weight[len(old) :])])
        state["head.bias"] = torch.cat([state["head.bias"], new.head.bias[len(old) :]])
        new.load_state_dict(state)
        return new.train(self.training)

    def init_state(self, batch: int = 1) -> State:
        """Stream state before any input (see :meth:`TaggerConfig.initial_state`), on the model's device."""
        return tuple(torch.from_numpy(s).to(self.mel.device) for s in self.config.initial_state(batch))

    def features(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, T, n_bins, 2) -> pooled log-mel (B, T // pool, n_mels): (dB + 20) / 20, mean ~0 and std ~1 on training scenes."""
        power = spec.pow(2).sum(-1)
        b, t, n = power.shape
        power = power[:, : t // self.pool * self.pool].reshape(b, t // self.pool, self.pool, n).mean(2)
        return (10.0 * torch.log10(power @ self.mel + 1e-10) + 20.0) / 20.0

    def _attend(self, x: torch.Tensor, cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Causal self-attention over the last ``window`` frames: x (B, T, D), key/value cache (B, W, 2D) -> (B, T, D), new cache."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=2)
        kv = torch.cat([cache, torch.cat([k, v], dim=2)], dim=1)  # (B, W + T, 2D)
        keys, values = kv[:, :, :d], kv[:, :, d:]
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
        return self.att_out(out), kv[:, kv.shape[1] - self.window :]

    def forward_chunk(self, spec: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Any whole number of tagger frames: (B, pool * T, n_bins, 2), state -> logits (B, T, labels), state."""
        s1, s2, s3, s4 = state
        x = self.features(spec).unsqueeze(1)  # (B, 1, T, n_mels)
        x, s1 = self.block1(x, s1)
        x, s2 = self.block2(x, s2)
        x, s3 = self.block3(x, s3)  # (B, C, T, n_mels // 8)
        z = F.relu(self.proj(x.transpose(1, 2).flatten(2)))  # (B, T, hidden)
        if self.attention:
            a, s4 = self._attend(z, s4)
            z = self.norm1(z + a)
            z = self.norm2(z + self.ffn(z))
        else:
            z, s4 = self.gru(z, s4)
        return self.head(z), (s1, s2, s3, s4)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Whole signal: (B, T, n_bins, 2) -> logits (B, T // pool, labels)."""
        return self.forward_chunk(spec, self.init_state(spec.shape[0]))[0]

    def step(self, frame: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One tagger frame: (B, pool, n_bins, 2), state -> probabilities (B, labels), new state."""
        logits, state = self.forward_chunk(frame, state)
        return torch.sigmoid(logits[:, 0]), state
