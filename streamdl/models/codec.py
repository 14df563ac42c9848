"""Streaming speech codec at 16 kHz: low-overlap MDCT, coded envelope and shapes, a recurrent post-filter.

Each 20 ms frame (320 samples) is windowed over 400 samples (5 ms ramps) and turned into 320 MDCT
coefficients, 25 Hz apart, which reconstruct exactly by overlap-add. What is sent per frame, as
10-bit codes (:class:`~streamdl.models.configs.CodecConfig` ``layouts``):

- the **envelope**: log RMS in 20 bands, predicted from the last frame's decoded one, the prediction
  error coded by residual vector quantization (RVQ);
- the **shapes**: coefficients divided by their band's RMS, coded by RVQ in two groups (0-1.6 and
  1.6-4 kHz); at low rates the upper group is not sent. A group may be coded as magnitudes only
  (``magnitude_groups``), its signs left to noise.

The decoder sums the chosen codebook entries, and a GRU post-filter (which sees them, the envelope
and how many codes each part had) estimates the signed shapes and the magnitude of every
coefficient, by regression. Each coefficient's signed estimate is topped up with noise to its
estimated magnitude (all noise above the signed groups, e.g. above 4 kHz), and each band is scaled
to unit energy and then to the decoded envelope, so every band keeps its energy. A lost frame
(codes < 0) is concealed: the envelope decays from the last one, and the post-filter carries the
shapes on from its memory.

Codebooks are learned by k-means (:mod:`streamdl.training.codec`), the post-filter by regression on
the codes they give. Algorithmic latency: one frame plus one ramp, 25 ms.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from streamdl.dsp.mdct import band_matrices, mdct_basis
from streamdl.models.configs import CodecConfig

State = tuple[torch.Tensor, ...]
LOSS_DECAY = math.log(0.8)  # a lost frame's envelope: the last one, 2 dB quieter
FLOOR = 1e-9  # power floor of a band (silence)
FLAT = math.log(math.e - 1.0)  # softplus(FLAT) = 1: the magnitude head's starting point


def nearest(x: torch.Tensor, book: torch.Tensor, norms: torch.Tensor | None = None) -> torch.Tensor:
    """Index of the entry of ``book`` (K, D), whose squared norms (K,) may be given, nearest to each row of x (M, D) -> (M,)."""
    return torch.addmm(book.pow(2).sum(-1) if norms is None else norms, x, book.T, alpha=-2.0).argmin(-1)


def rvq_search(x: torch.Tensor, books: torch.Tensor, n: int, norms: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual VQ of x (M, D) with the first n codebooks (S, K, D), whose squared norms (S, K) may be
    given -> (codes (M, n), quantized (M, D))."""
    residual, codes = x, []
    for k in range(n):
        book = books[k]
        idx = nearest(residual, book, None if norms is None else norms[k])
        residual = residual - book[idx]
        codes.append(idx)
    return torch.stack(codes, -1) if codes else x.new_zeros((len(x), 0), dtype=torch.long), x - residual


def rvq_sum(codes: torch.Tensor, books: torch.Tensor) -> torch.Tensor:
    """codes (..., n), codebooks (S, K, D) -> the sum of the chosen entries (..., D), in one gather."""
    n, size = codes.shape[-1], books.shape[1]
    rows = codes.clamp_min(0) + torch.arange(n, device=codes.device) * size  # entry j of codebook k: row k * size + j
    return books[:n].reshape(n * size, -1)[rows].sum(-2)


def noise_signs(frame_index: torch.Tensor, bins: int) -> torch.Tensor:
    """Pseudo-random +-1 (B, T, bins) for frames ``frame_index`` (B, T): the same frame, the same noise,
    so decoding in chunks equals decoding at once."""
    seed = frame_index.to(torch.int64)[..., None] * bins + torch.arange(bins, device=frame_index.device)
    for _ in range(3):  # a few rounds of a 31-bit linear congruential generator mix neighbouring seeds apart
        seed = (seed * 1103515245 + 12345) % 2147483648
    return ((seed >> 16) % 2).to(torch.float32) * 2.0 - 1.0


class Codec(nn.Module):
    """Samples (B, T * frame) at 16 kHz <-> codes (B, T, n) int64, n one of the config's ``layouts``."""

    def __init__(self, config: CodecConfig = CodecConfig()):
        super().__init__()
        self.config = c = config
        average, expand = band_matrices(c.band_edges, c.frame)
        self.register_buffer("basis", torch.from_numpy(mdct_basis(c.frame, c.overlap)), persistent=False)
        self.register_buffer("average", torch.from_numpy(average), persistent=False)
        self.register_buffer("expand", torch.from_numpy(expand), persistent=False)
        self.register_buffer("envelope_mean", torch.zeros(c.bands))
        self.register_buffer("envelope_books", torch.zeros(c.envelope_stages, c.codebook_size, c.bands))
        for i, ((a, b), stages) in enumerate(zip(c.shape_groups, c.group_stages)):
            self.register_buffer(f"shape_books{i}", torch.zeros(stages, c.codebook_size, b - a))
        for name in self._book_names():  # the codebooks' squared norms, for the search
            self.register_buffer(f"{name}_norms", torch.zeros(getattr(self, name).shape[:2]), persistent=False)
        self.register_load_state_dict_post_hook(lambda module, _: module.refresh_norms())
        self.inp = nn.Linear(c.coded_bins + c.bands + 1 + len(c.shape_groups), c.hidden)
        self.gru = nn.GRU(c.hidden, c.hidden, batch_first=True)
        self.out = nn.Linear(c.hidden, c.signed_bins + c.frame)
        nn.init.zeros_(self.out.weight)  # an untrained post-filter passes the decoded shapes through, magnitudes flat
        nn.init.constant_(self.out.bias, 0.0)
        nn.init.constant_(self.out.bias[c.signed_bins :], FLAT)
        self.active = c.default_quantizers  # codes a frame ``step`` sends, unless set

    @property
    def frame_shape(self) -> tuple[int]:
        """One ``step`` input without the batch: a frame of samples."""
        return self.config.frame_shape

    def shape_books(self, group: int) -> torch.Tensor:
        return getattr(self, f"shape_books{group}")

    def _book_names(self) -> list[str]:
        return ["envelope_books"] + [f"shape_books{i}" for i in range(len(self.config.shape_groups))]

    @torch.no_grad()
    def refresh_norms(self) -> None:
        """Recompute the codebooks' squared norms (after loading or changing the codebooks)."""
        for name in self._book_names():
            getattr(self, f"{name}_norms").copy_(getattr(self, name).pow(2).sum(-1))

    def _state(self, arrays) -> State:
        return tuple(torch.from_numpy(s).to(self.basis.device) for s in arrays)

    def encoder_state(self, batch: int = 1) -> State:
        return self._state(self.config.encoder_state(batch))

    def decoder_state(self, batch: int = 1) -> State:
        return self._state(self.config.decoder_state(batch))

    def init_state(self, batch: int = 1) -> State:
        return self.encoder_state(batch) + self.decoder_state(batch)

    # analysis and synthesis

    def analyse(self, x: torch.Tensor, history: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Samples (B, T * frame) after ``history`` (B, overlap) -> (log band RMS (B, T, bands), band-
        normalised coefficients (B, T, frame), the new history)."""
        c = self.config
        signal = torch.cat([history, x], -1)
        coefficients = signal.unfold(-1, c.frame + c.overlap, c.frame) @ self.basis
        log_rms = 0.5 * torch.log(coefficients.pow(2) @ self.average + FLOOR)
        return log_rms, coefficients * torch.exp(-log_rms @ self.expand), signal[:, signal.shape[-1] - c.overlap :]

    def synthesise(self, coefficients: torch.Tensor, tail: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coefficients (B, T, frame), the last frame's ramp (B, overlap) -> (samples (B, T * frame), new ramp)."""
        c = self.config
        b, t = coefficients.shape[:2]
        frames = coefficients @ self.basis.T  # (B, T, frame + overlap)
        ramps = torch.cat([frames[..., c.frame :], frames.new_zeros(b, t, c.frame - c.overlap)], -1)
        out = torch.cat([frames[..., : c.frame].reshape(b, -1), frames.new_zeros(b, c.frame)], -1)
        out[:, c.frame :] += ramps.reshape(b, -1)
        out[:, : c.overlap] += tail
        return out[:, : t * c.frame], out[:, t * c.frame : t * c.frame + c.overlap]

    # the two ends

    def encode_chunk(self, x: torch.Tensor, state: State, n: int) -> tuple[torch.Tensor, State]:
        """Samples (B, T * frame), encoder state, n codes a frame -> codes (B, T, n) int64, new state."""
        c = self.config
        history, envelope = state
        log_rms, shapes, history = self.analyse(x, history)
        env_n, group_n = c.layout(n)
        env_codes = []
        for t in range(log_rms.shape[1]):  # closed loop: predict from what the decoder will have
            prediction = c.envelope_memory * envelope
            codes, q = rvq_search(log_rms[:, t] - self.envelope_mean - prediction, self.envelope_books, env_n, self.envelope_books_norms)
            envelope = prediction + q
            env_codes.append(codes)
        b, t = shapes.shape[:2]
        parts = [torch.stack(env_codes, 1)]
        for i, ((lo, hi), g) in enumerate(zip(c.shape_groups, group_n)):
            norms, part = getattr(self, f"shape_books{i}_norms"), shapes[..., lo:hi].reshape(b * t, -1)
            part = part.abs() if c.magnitude_groups[i] else part
            parts.append(rvq_search(part, self.shape_books(i), g, norms)[0].reshape(b, t, g))
        return torch.cat(parts, -1), (history, envelope)

    def decode_envelope(self, codes: torch.Tensor, envelope: torch.Tensor, env_n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Envelope codes (B, T, env_n) (< 0: lost), decoded envelope so far less its mean (B, bands)
        -> decoded log band RMS less the mean (B, T, bands), the last one."""
        c, out = self.config, []
        q = rvq_sum(codes[..., :env_n], self.envelope_books)
        lost = codes[..., 0] < 0
        for t in range(codes.shape[1]):
            coded = c.envelope_memory * envelope + q[:, t]
            envelope = torch.where(lost[:, t, None], envelope + LOSS_DECAY, coded)
            out.append(envelope)
        return torch.stack(out, 1), envelope

    def decoded_shapes(self, codes: torch.Tensor, n: int) -> torch.Tensor:
        """Codes (B, T, n) -> the sum of the shape codebook entries (B, T, coded_bins); zero where lost."""
        c = self.config
        env_n, group_n = c.layout(n)
        parts, start = [], env_n
        for i, g in enumerate(group_n):
            lo, hi = c.shape_groups[i]
            parts.append(rvq_sum(codes[..., start : start + g], self.shape_books(i)) if g else codes.new_zeros((*codes.shape[:2], hi - lo), dtype=torch.float32))
            start += g
        return torch.cat(parts, -1) * (codes[..., :1] >= 0)

    def layout_features(self, codes: torch.Tensor, n: int) -> torch.Tensor:
        """(B, T, 1 + groups): the share of each part's codebooks that was sent; zero where lost."""
        c = self.config
        env_n, group_n = c.layout(n)
        share = torch.tensor([env_n / c.envelope_stages] + [g / s for g, s in zip(group_n, c.group_stages)], device=codes.device)
        return share * (codes[..., :1] >= 0)

    def postfilter(self, shapes: torch.Tensor, envelope: torch.Tensor, layout: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decoded shapes (B, T, coded_bins), envelope less mean (B, T, bands), layout features, GRU hidden
        -> (estimated signed shapes (B, T, signed_bins), estimated magnitudes of all coefficients
        (B, T, frame), new hidden)."""
        h, hidden = self.gru(torch.tanh(self.inp(torch.cat([shapes, envelope, layout], -1))), hidden)
        out, signed = self.out(h), self.config.signed_bins
        return shapes[..., :signed] + out[..., :signed], torch.nn.functional.softplus(out[..., signed:]), hidden

    def fill(self, estimate: torch.Tensor, magnitudes: torch.Tensor, frame_index: torch.Tensor) -> torch.Tensor:
        """Estimated signed shapes (B, T, signed_bins) and magnitudes (B, T, frame) -> unit-energy bands
        (B, T, frame): each coefficient's signed estimate (none above the signed bins) is topped up with
        noise to its estimated magnitude, then each band is scaled to unit energy."""
        c = self.config
        shapes = torch.nn.functional.pad(estimate, (0, c.frame - c.signed_bins))
        missing = (magnitudes.pow(2) - shapes.pow(2)).clamp_min(0.0).sqrt()
        filled = shapes + missing * noise_signs(frame_index, c.frame)
        return filled * (torch.rsqrt(filled.pow(2) @ self.average + 1e-12) @ self.expand)

    def decode_chunk(self, codes: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Codes (B, T, n) (a frame of codes < 0: lost), decoder state -> samples (B, T * frame), new state."""
        envelope, hidden, tail, count = state
        n, t = codes.shape[-1], codes.shape[1]
        envelopes, envelope = self.decode_envelope(codes, envelope, self.config.layout(n)[0])
        estimate, magnitudes, hidden = self.postfilter(self.decoded_shapes(codes, n), envelopes, self.layout_features(codes, n), hidden)
        frame_index = count[:, None] + torch.arange(t, device=codes.device)
        coefficients = self.fill(estimate, magnitudes, frame_index) * torch.exp((envelopes + self.envelope_mean) @ self.expand)
        samples, tail = self.synthesise(coefficients, tail)
        return samples, (envelope, hidden, tail, count + t)

    def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """Whole-signal round trip: samples (B, T * frame), n codes a frame -> decoded samples, ``overlap`` later."""
        codes, _ = self.encode_chunk(x, self.encoder_state(x.shape[0]), n)
        return self.decode_chunk(codes, self.decoder_state(x.shape[0]))[0]

    def step(self, frame: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Round trip of one frame at the set bitrate: samples (B, frame), state -> decoded (B, frame), new state."""
        codes, sent = self.encode_chunk(frame, state[:2], self.active)
        out, received = self.decode_chunk(codes, state[2:])
        return out, sent + received
