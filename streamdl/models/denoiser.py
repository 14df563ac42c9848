"""Causal speech denoiser: ERB-band gains for the whole spectrum plus deep filtering of the low bins.

Input and output are STFT spectra at 16 kHz (n_fft 320, hop 160: 10 ms frames), real tensors
(B, T, n_bins, 2). Every layer is causal (convolutions look back only, GRUs run forward, the deep
filter uses the current and past frames), so the algorithmic latency is the STFT frame, 20 ms.

Why two stages: gains on 32 ERB bands are cheap and handle broadband noise, but a gain cannot
split a voice from a harmonic hum inside one band; a short complex filter over the current and
past frames of each low bin (deep filtering, as in DeepFilterNet) can, and the low bins are where
voiced speech and hum overlap.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from streamdl.dsp.filterbank import bands_to_bins, erb_filterbank, normalized
from streamdl.errors import StreamdlError
from streamdl.models.configs import GATE_SCALE, DenoiserConfig
from streamdl.models.layers import CausalConv

GROWABLE = ("df_bins", "df_order", "gru_hidden", "output_gate", "noise_floor")  # what Denoiser.grown may enlarge



def can_grow(old: DenoiserConfig, new: DenoiserConfig) -> bool:
    """Whether ``Denoiser.grown`` can take a model of config ``old`` to ``new``: they differ only in
    ``GROWABLE`` parts, none of them smaller in ``new``."""
    same_rest = dataclasses.replace(new, **{k: getattr(old, k) for k in GROWABLE}) == old
    return same_rest and all(getattr(new, k) >= getattr(old, k) for k in GROWABLE)


def grown_alike(models: list[Denoiser]) -> list[Denoiser]:
    """Denoisers each grown to the largest of every growable part among them, so that their weights line
    up (outputs unchanged); one that differs elsewhere is left as it is."""
    union = dataclasses.replace(models[0].config, **{k: max(getattr(m.config, k) for m in models) for k in GROWABLE})
    return [m.grown(union) if m.config != union and can_grow(m.config, union) else m for m in models]


def _silent(layer: nn.Linear) -> nn.Linear:
    """``layer`` with zero weights and bias: a new head that outputs nothing until trained."""
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Denoiser(nn.Module):
    """Spectrum (B, T, n_bins, 2) -> enhanced spectrum, same shape; ~0.5 M parameters."""
    __jit_unused_properties__ = ["frame_shape"]  # Python-side only

    def __init__(self, config: DenoiserConfig = DenoiserConfig()):
        super().__init__()
        self.config = config
        c = config
        # plain ints for the scripted paths (TorchScript cannot read the dataclass)
        self.df_bins, self.df_order, self.compress = c.df_bins, c.df_order, c.compress
        self.conv_channels, self.context = c.conv_channels, c.conv_kernel - 1
        self.gru_hidden, self.gru_layers = c.gru_hidden, c.gru_layers
        self.noise_floor = c.noise_floor
        self.floor_at, self.extra_at, self.n_feat = c.floor_at, c.extra_at, c.n_feat  # conv1's inputs: band levels, low bins, (noise_floor) floors, extras
        self.max_gain = c.max_gain
        self.gate_scale = GATE_SCALE
        self.floor_rise, self.floor_fall = c.floor_rates
        fb = erb_filterbank(c.stft.n_bins, c.stft.sample_rate, c.erb_bands)
        self.register_buffer("erb", torch.from_numpy(normalized(fb)).T.contiguous())  # (n_bins, bands)
        self.register_buffer("erb_inv", torch.from_numpy(bands_to_bins(fb)).T.contiguous())  # (bands, n_bins)
        self.conv1 = CausalConv(self.n_feat, c.conv_channels, c.conv_kernel)
        self.conv2 = CausalConv(c.conv_channels, c.conv_channels, c.conv_kernel)
        self.gru = nn.GRU(c.conv_channels, c.gru_hidden, c.gru_layers, batch_first=True)
        self.gain_head = nn.Linear(c.gru_hidden + c.conv_channels, c.erb_bands)
        self.df_head = _silent(nn.Linear(c.gru_hidden + c.conv_channels, c.df_bins * c.df_order * 2))  # a pure gain model at first
        # The deep filter adds to the gained spectrum, so silencing a low bin takes the two to cancel;
        # the gate scales their sum instead. It starts open (1) and never boosts (at most 1).
        self.gate_head = _silent(nn.Linear(c.gru_hidden + c.conv_channels, c.erb_bands)) if c.output_gate else None

    @property
    def frame_shape(self) -> tuple[int, int]:
        """Shape of one ``step`` input without the batch: one STFT frame."""
        return self.config.frame_shape

    def init_state(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Stream state before any input (see :meth:`DenoiserConfig.initial_state`), on the model's device."""
        return tuple(torch.from_numpy(s).to(self.erb.device) for s in self.config.initial_state(batch))

    def _features(self, spec: torch.Tensor, conv1_buf: torch.Tensor, extra: Optional[torch.Tensor]) -> torch.Tensor:
        """(B, T, n_bins, 2) -> (B, T, n_feat): band levels ((dB + 60) / 30), compressed low bins, with
        ``noise_floor`` the bands' floors, tracked on from the last frame in ``conv1_buf``, then ``extra``
        (B, T, extra_inputs) when the config has extra inputs."""
        power = spec.pow(2).sum(-1)  # (B, T, n_bins)
        level = (10.0 * torch.log10(power @ self.erb + 1e-10) + 60.0) / 30.0  # (B, T, bands)
        low = spec[:, :, : self.df_bins]  # (B, T, df_bins, 2)
        mag = power[:, :, : self.df_bins, None].clamp_min(1e-12)
        low = low * mag.pow((self.compress - 1.0) / 2.0)
        parts = [level, 3.0 * low.flatten(2)]
        if self.noise_floor:
            parts.append(self.track_floor(level, conv1_buf[:, self.floor_at : self.extra_at, -1]))
        if extra is not None:
            parts.append(extra)
        return torch.cat(parts, dim=2)

    def track_floor(self, level: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
        """Noise floor per band: band levels (B, T, bands), the floor before them (B, bands) ->
        floors (B, T, bands). It follows a level below it fast (``FLOOR_FALL_S``) and one above it
        slowly (``FLOOR_RISE_S``), so it sits near the noise between words; level minus floor is
        then a local SNR, whatever the noise's spectrum."""
        floors = []
        for t in range(level.shape[1]):
            rate = torch.where(level[:, t] < floor, self.floor_fall, self.floor_rise)
            floor = floor + rate * (level[:, t] - floor)
            floors.append(floor)
        return torch.stack(floors, dim=1)

    def forward_chunk(
        self, spec: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], extra: Optional[torch.Tensor] = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Any number of frames from a state: (B, T, n_bins, 2), state, the extra inputs (B, T, extra_inputs)
        if the config has any -> enhanced, new state."""
        conv1_buf, conv2_buf, h, past = state
        gains, coefs, (conv1_buf, conv2_buf, h) = self.filters(spec, (conv1_buf, conv2_buf, h), extra)
        out, past = self.apply_filters(spec, gains, coefs, past)
        return out, (conv1_buf, conv2_buf, h, past)

    def filters(
        self, spec: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], extra: Optional[torch.Tensor] = None
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """What the network decides from its input: (B, T, n_bins, 2), (conv1, conv2, GRU) state, extra
        inputs -> bin gains (B, T, n_bins, at most ``max_gain``), deep-filter taps (B, T, df_order, df_bins, 2), new state."""
        conv1_buf, conv2_buf, h = state
        feat = self._features(spec, conv1_buf, extra).transpose(1, 2)  # (B, n_feat, T)
        e1, conv1_buf = self.conv1(feat, conv1_buf)
        e1 = F.relu(e1)
        e2, conv2_buf = self.conv2(e1, conv2_buf)
        e2 = F.relu(e2).transpose(1, 2)  # (B, T, C)
        g, h = self.gru(e2, h)
        z = torch.cat([g, e2], dim=2)  # (B, T, hidden + C)
        gains = self.max_gain * torch.sigmoid(self.gain_head(z)) @ self.erb_inv  # (B, T, n_bins)
        coefs = torch.tanh(self.df_head(z)).view(z.shape[0], z.shape[1], self.df_order, self.df_bins, 2)
        if self.gate_head is not None:  # gate * (gains * X + filter(X)), folded into both
            gate = torch.clamp(2.0 * torch.sigmoid(self.gate_scale * self.gate_head(z)), max=1.0) @ self.erb_inv  # (B, T, n_bins)
            gains = gains * gate
            coefs = coefs * gate[:, :, None, : self.df_bins, None]
        return gains, coefs, (conv1_buf, conv2_buf, h)

    def apply_filters(
        self, spec: torch.Tensor, gains: torch.Tensor, coefs: torch.Tensor, past: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gains, plus the deep filter over the low bins, on a spectrum (B, T, n_bins, 2) whose past
        low-bin frames are ``past``: (enhanced, new past). Linear in ``spec`` and ``past``."""
        order, n_low, steps = self.df_order, self.df_bins, spec.shape[1]
        out = spec * gains.unsqueeze(-1)
        low = torch.cat([past, spec[:, :, :n_low]], dim=1)  # (B, order-1+T, df_bins, 2)
        # frames[:, t, i] is the low-bin frame i hops before output frame t, as tap i expects
        frames = torch.stack([low[:, order - 1 - i : order - 1 - i + steps] for i in range(order)], dim=2)
        re, im, a, b = frames[..., 0], frames[..., 1], coefs[..., 0], coefs[..., 1]  # (B, T, order, df_bins)
        filtered = torch.stack([(a * re - b * im).sum(2), (a * im + b * re).sum(2)], dim=-1)  # complex multiply, taps summed
        out = torch.cat([out[:, :, :n_low] + filtered, out[:, :, n_low:]], dim=2)
        return out, low[:, steps:]  # the last order - 1 frames

    @torch.no_grad()
    def grown(self, config: DenoiserConfig) -> Denoiser:
        """This model widened to ``config`` (more deep-filtered bins, more deep-filter taps, a wider
        GRU, an output gate, noise-floor inputs; nothing else may change) with the same output: the new parts start freshly
        initialised but silent (their outgoing weights are zero, the gate open), so fine-tuning starts
        from this model's quality."""
        old = self.config
        if not can_grow(old, config):
            raise StreamdlError(
                "a denoiser can only grow its deep-filtered bins, its deep-filter taps, its GRU width, an output gate and noise-floor inputs; "
                "start afresh for other changes"
            )
        new = Denoiser(config).to(self.erb.device)
        h, h_new = old.gru_hidden, config.gru_hidden
        new.conv1.conv.weight.zero_()  # inputs: band levels, then the low bins (newly filtered bins after these), then floors
        new.conv1.conv.weight[:, : self.floor_at] = self.conv1.conv.weight[:, : self.floor_at]
        if self.noise_floor:
            new.conv1.conv.weight[:, new.floor_at : new.extra_at] = self.conv1.conv.weight[:, self.floor_at : self.extra_at]
        new.conv1.conv.weight[:, new.extra_at :] = self.conv1.conv.weight[:, self.extra_at :]
        new.conv1.conv.bias.copy_(self.conv1.conv.bias)
        new.conv2.load_state_dict(self.conv2.state_dict())
        for name, w in self.gru.named_parameters():  # rows: reset, update and new gates of h units each
            w_new = getattr(new.gru, name).view(3, h_new, -1) if w.dim() == 2 else getattr(new.gru, name).view(3, h_new)
            w_old = w.view(3, h, -1) if w.dim() == 2 else w.view(3, h)
            if w.dim() == 2 and (name.startswith("weight_hh") or not name.endswith("_l0")):
                w_new[:, :h, h:] = 0.0  # the new units feed no old unit
                w_new[:, :h, :h] = w_old
            else:
                w_new[:, :h] = w_old
        heads = [(new.gain_head, self.gain_head, slice(None)), (new.df_head, self.df_head, self._df_rows(config))]
        if self.gate_head is not None:
            heads.append((new.gate_head, self.gate_head, slice(None)))
        for head, old_head, rows in heads:  # inputs: GRU output (old units, then new ones), then conv features
            head.weight.zero_()
            head.bias.zero_()
            head.weight[rows, :h] = old_head.weight[:, :h]
            head.weight[rows, h_new:] = old_head.weight[:, h:]
            head.bias[rows] = old_head.bias
        return new.train(self.training)

    def _df_rows(self, config: DenoiserConfig) -> torch.Tensor:
        """Indices of this model's deep-filter head outputs among those of a grown ``config``'s head
        (taps, bins, re/im: the new taps reach further back, the new bins lie higher)."""
        layout = torch.arange(config.df_order * config.df_bins * 2).view(config.df_order, config.df_bins, 2)
        return layout[: self.df_order, : self.df_bins].reshape(-1)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Whole signal: (B, T, n_bins, 2) -> enhanced (B, T, n_bins, 2)."""
        return self.forward_chunk(spec, self.init_state(spec.shape[0]))[0]

    def step(
        self, frame: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """One hop: (B, n_bins, 2), state -> (B, n_bins, 2), new state."""
        out, state = self.forward_chunk(frame.unsqueeze(1), state)
        return out.squeeze(1), state
