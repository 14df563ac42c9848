"""Streaming neural speech codec: STFT frames -> residual-VQ codes -> STFT frames, causal both ends.

The codec works on the STFT the rest of streamdl uses (16 kHz, n_fft 320, hop 160); a codec
frame is ``pool`` = 2 hops (20 ms), so there are 50 code vectors a second. Each frame is coded by
residual vector quantization: quantizer k codes what quantizers 0..k-1 left over, each with
``codebook_size`` = 1024 entries (10 bits). The bitrate is set by how many quantizers are sent:
6 for 3 kbps, 12 for 6 kbps, 24 for 12 kbps; one model serves them all (trained with quantizer
dropout). Algorithmic latency: the STFT frame plus the second hop of a pair, 30 ms.

Why the STFT domain: the encoder and decoder run once per 20 ms on 161 bins instead of on every
sample, so both ends together cost a few hundred microseconds per frame on one CPU thread, and
the decoder's output goes through the same overlap-add synthesis as the denoiser's.

``encode_chunk`` / ``decode_chunk`` stream each end with its own state (``encoder_state``:
conv1 and conv2 inputs; ``decoder_state``: conv inputs and GRU hidden); ``step`` runs the round
trip with both.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from streamdl.models.configs import CodecConfig
from streamdl.models.layers import CausalConv

State = tuple[torch.Tensor, ...]



class ResidualVQ(nn.Module):
    """Residual vector quantization: x (B, T, D) -> quantized (B, T, D), codes (B, T, n) int64.

    Quantizer k codes what quantizers 0..k-1 left over. Codebooks are not trained by gradients but
    as moving averages of the vectors assigned to each entry (decay ``decay``), started from the
    first batch's vectors; an entry that goes unused is restarted on a vector of the batch
    (SoundStream's recipe: it keeps every entry, so every bit, in use). The gradient passes
    straight through to the encoder, which a commitment loss pulls towards its codes.
    """

    def __init__(self, quantizers: int, codebook_size: int, dim: int, decay: float = 0.99, commitment: float = 0.1):
        super().__init__()
        self.decay, self.commitment = decay, commitment
        self.register_buffer("codebooks", torch.randn(quantizers, codebook_size, dim) * 0.1)
        self.register_buffer("norms", self.codebooks.pow(2).sum(-1))  # (n, K): |entry|^2 for the search
        self.register_buffer("usage", torch.ones(quantizers, codebook_size))  # moving-average counts
        self.register_buffer("started", torch.zeros(quantizers, dtype=torch.bool))

    def _nearest(self, residual: torch.Tensor, k: int) -> torch.Tensor:
        """Index of the entry of codebook k nearest to each vector (N, D) -> (N,)."""
        return torch.addmm(self.norms[k], residual, self.codebooks[k].T, alpha=-2.0).argmin(-1)

    def _search(self, flat: torch.Tensor, n: int, learn: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Vectors (N, D) -> codes (N, n) and what the n quantizers leave over (N, D); with ``learn``,
        each codebook first takes a moving-average step towards the residuals it codes."""
        residual, codes = flat, []
        for k in range(n):
            if learn and not torch.jit.is_scripting():  # exports never learn
                self._update(k, residual)
            idx = self._nearest(residual, k)
            residual = residual - self.codebooks[k].index_select(0, idx)
            codes.append(idx)
        return torch.stack(codes, -1), residual

    def encode(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """x (B, T, D) -> codes (B, T, n): the search alone, for streaming."""
        return self._search(x.reshape(-1, x.shape[-1]), n, False)[0].reshape(x.shape[0], x.shape[1], n)

    def forward(self, x: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training pass: (quantized with straight-through gradient, codes, commitment loss
        ``commitment`` * |x - quantized|^2 / |x|^2, which pulls the encoder towards its codes)."""
        flat = x.detach().reshape(-1, x.shape[-1])
        codes, residual = self._search(flat, n, self.training)
        quantized = (flat - residual).reshape(x.shape)
        loss = self.commitment * (x - quantized).pow(2).mean() / x.detach().pow(2).mean().clamp_min(1e-8)
        return x + (quantized - x).detach(), codes.reshape(x.shape[0], x.shape[1], n), loss

    @torch.no_grad()
    def _update(self, k: int, vectors: torch.Tensor) -> None:
        """One moving-average step of codebook k towards the vectors it is assigned (N, D)."""
        size = self.codebooks.shape[1]
        if not self.started[k]:  # start from the data: entries are random vectors of the first batch
            self._restart(k, torch.ones(size, dtype=torch.bool, device=vectors.device), vectors)
            self.started[k] = True
        idx = self._nearest(vectors, k)
        counts = torch.bincount(idx, minlength=size).to(vectors.dtype)
        sums = self.codebooks[k] * self._smoothed(k)[:, None]  # the moving-average sum each entry stands for
        sums.mul_(self.decay).add_(torch.zeros_like(sums).index_add_(0, idx, vectors), alpha=1 - self.decay)
        self.usage[k].mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.codebooks[k] = sums / self._smoothed(k)[:, None]
        self._restart(k, self.usage[k] < 1e-3 * self.usage[k].sum() / size, vectors)  # entries nearly never chosen

    def _smoothed(self, k: int) -> torch.Tensor:
        """Usage of codebook k kept away from zero (Laplace smoothing), same total."""
        total, size = self.usage[k].sum(), self.usage.shape[1]
        return (self.usage[k] + 1e-5) / (total + size * 1e-5) * total

    def _restart(self, k: int, dead: torch.Tensor, vectors: torch.Tensor) -> None:
        """Put the ``dead`` entries of codebook k on random vectors of the batch, then refresh its norms."""
        count = int(dead.sum())
        if count:
            pick = torch.randint(len(vectors), (count,), device=vectors.device)
            self.codebooks[k][dead] = vectors[pick]
            self.usage[k][dead] = 1.0
        self.norms[k] = self.codebooks[k].pow(2).sum(-1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, T, n) -> the sum of the chosen vectors (B, T, D)."""
        n, size = codes.shape[-1], self.codebooks.shape[1]
        offsets = torch.arange(n, device=codes.device) * size  # entry j of codebook k is row k * size + j
        return F.embedding(codes + offsets, self.codebooks[:n].reshape(n * size, -1)).sum(-2)


class Codec(nn.Module):
    """Spectrum (B, T, n_bins, 2), T a multiple of ``pool`` -> codes (B, T // pool, n) -> spectrum."""

    def __init__(self, config: CodecConfig = CodecConfig()):
        super().__init__()
        self.config = config
        c = config
        self.pool, self.n_bins, self.compress, self.hidden = c.pool, c.stft.n_bins, c.compress, c.hidden
        self.context = c.kernel - 1
        n_in = c.pool * c.stft.n_bins * 2
        self.enc1 = CausalConv(n_in, c.hidden, c.kernel)
        self.enc2 = CausalConv(c.hidden, c.hidden, c.kernel)
        self.to_latent = nn.Linear(c.hidden, c.latent)
        self.rvq = ResidualVQ(c.quantizers, c.codebook_size, c.latent)
        self.from_latent = nn.Linear(c.latent, c.hidden)
        self.dec1 = CausalConv(c.hidden, c.hidden, c.kernel)
        self.gru = nn.GRU(c.hidden, c.hidden, batch_first=True)
        self.out = nn.Linear(c.hidden, n_in)
        self.active = c.quantizers // 2  # quantizers ``step`` sends (12 of 24: 6 kbps); see set_bitrate

    def set_bitrate(self, kbps: float) -> None:
        """Choose what ``step`` sends (3, 6, 12 kbps, ...); export after setting it."""
        self.active = self.config.quantizers_for(kbps)

    __jit_unused_properties__ = ["frame_shape"]  # Python-side only

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """Shape of one ``step`` input without the batch: ``pool`` STFT frames."""
        return (self.pool, self.n_bins, 2)

    def encoder_state(self, batch: int = 1) -> State:
        """The sending end's stream state (see :meth:`CodecConfig.encoder_state`), on the model's device."""
        return tuple(torch.from_numpy(s).to(self.out.weight.device) for s in self.config.encoder_state(batch))

    def decoder_state(self, batch: int = 1) -> State:
        """The receiving end's stream state (see :meth:`CodecConfig.decoder_state`), on the model's device."""
        return tuple(torch.from_numpy(s).to(self.out.weight.device) for s in self.config.decoder_state(batch))

    def init_state(self, batch: int = 1) -> State:
        """The round trip's stream state: the encoder's, then the decoder's."""
        return self.encoder_state(batch) + self.decoder_state(batch)

    def _squash(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, T, n_bins, 2) -> magnitude-compressed (B, T // pool, pool * n_bins * 2)."""
        mag = spec.pow(2).sum(-1, keepdim=True).clamp_min(1e-12)
        x = spec * mag.pow((self.compress - 1.0) / 2.0)
        b, t = x.shape[0], x.shape[1] // self.pool
        return x[:, : t * self.pool].reshape(b, t, -1)

    def _unsquash(self, y: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`_squash`: (B, T, pool * n_bins * 2) -> (B, T * pool, n_bins, 2)."""
        x = y.reshape(y.shape[0], y.shape[1] * self.pool, self.n_bins, 2)
        mag = x.pow(2).sum(-1, keepdim=True).clamp_min(1e-12)
        return x * mag.pow((1.0 / self.compress - 1.0) / 2.0)

    def _encode_latent(self, spec: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        s1, s2 = state
        x, s1 = self.enc1(self._squash(spec).transpose(1, 2), s1)
        x, s2 = self.enc2(F.relu(x), s2)
        return self.to_latent(F.relu(x).transpose(1, 2)), (s1, s2)

    def encode_chunk(self, spec: torch.Tensor, state: State, n: int) -> tuple[torch.Tensor, State]:
        """(B, pool * T, n_bins, 2), encoder state, n quantizers -> codes (B, T, n) int64, new state."""
        z, state = self._encode_latent(spec, state)
        return self.rvq.encode(z, n), state

    def decode_chunk(self, codes: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """codes (B, T, n), decoder state -> spectrum (B, pool * T, n_bins, 2), new state."""
        return self._decode_latent(self.rvq.decode(codes), state)

    def _decode_latent(self, q: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        s3, s4 = state
        x, s3 = self.dec1(F.relu(self.from_latent(q)).transpose(1, 2), s3)
        x, s4 = self.gru(F.relu(x).transpose(1, 2), s4)
        return self._unsquash(self.out(x)), (s3, s4)

    def forward(self, spec: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: (B, T, n_bins, 2), n quantizers -> reconstructed spectrum, VQ loss."""
        q, _, vq_loss = self.rvq(self._encode_latent(spec, self.encoder_state(spec.shape[0]))[0], n)
        return self._decode_latent(q, self.decoder_state(spec.shape[0]))[0], vq_loss

    def step(self, frame: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Round trip of one codec frame at the set bitrate: (B, pool, n_bins, 2), state -> decoded, new state."""
        codes, sent = self.encode_chunk(frame, state[:2], self.active)
        out, received = self.decode_chunk(codes, state[2:])
        return out, sent + received


class CodecEncoder(nn.Module):
    """The sending end as a streaming model of its own: ``step`` (B, pool, n_bins, 2) spectrum frames
    -> codes (B, 1, active) int64 at the codec's set bitrate; state: the encoder's."""

    __jit_unused_properties__ = ["frame_shape"]

    def __init__(self, codec: Codec):
        super().__init__()
        self.codec = codec

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        return self.codec.frame_shape

    def init_state(self, batch: int = 1) -> State:
        return self.codec.encoder_state(batch)

    def step(self, frame: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        return self.codec.encode_chunk(frame, state, self.codec.active)


class CodecDecoder(nn.Module):
    """The receiving end as a streaming model of its own: ``step`` codes (B, 1, active) int64 ->
    (B, pool, n_bins, 2) spectrum frames; state: the decoder's."""

    __jit_unused_properties__ = ["frame_shape", "frame_dtype"]

    def __init__(self, codec: Codec):
        super().__init__()
        self.codec = codec

    @property
    def frame_shape(self) -> tuple[int, int]:
        return (1, self.codec.active)

    @property
    def frame_dtype(self) -> torch.dtype:
        return torch.int64

    def init_state(self, batch: int = 1) -> State:
        return self.codec.decoder_state(batch)

    def step(self, codes: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        return self.codec.decode_chunk(codes, state)
