"""The denoiser's ``step`` as one Numba kernel: the fastest CPU path, with no graph runtime between layers.

A hop of the shipped denoiser is about 0.74 M multiply-adds, one per weight (3 MB read per hop);
ONNX Runtime runs it as ~100 small operators and spends most of the hop between them. This
kernel reads the weights of a :class:`~streamdl.models.denoiser.Denoiser` and runs the same
arithmetic in one compiled call (matrix-vector products through BLAS, the rest in loops), on
numpy float32 arrays with the step signature ``(frame, state) -> (out, state)``: the whole
chain's per-hop median fell from 616 us (ONNX Runtime) to 344 us in one benchmark run
(``benchmarks/compare_denoisers.py``). It is not a second model: tests hold it to the
eager ``step`` frame by frame, for every growable option. It holds no GIL while it runs.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streamdl.models.configs import GATE_SCALE, DenoiserConfig
from streamdl.models.kernels.ops import StepKernel, affine, array, gru_cell, sigmoid


class DenoiserKernel(StepKernel):
    """``Denoiser.step`` for one stream (batch 1) on the CPU: frame (1, n_bins, 2) float32 and the
    state of ``config.initial_state(1)`` -> enhanced frame (1, n_bins, 2), new state."""

    @classmethod
    def supports(cls, config) -> bool:
        return isinstance(config, DenoiserConfig)

    def __init__(self, config: DenoiserConfig, arrays: dict[str, np.ndarray]):
        super().__init__(config, _step, (network_weights(config, arrays),))


def network_weights(c: DenoiserConfig, arrays: dict[str, np.ndarray], prefix: str = "") -> tuple:
    """What :func:`network_step` reads besides the frame and the state: the weights named ``prefix`` +
    their state-dict name in ``arrays``, and the config's numbers, as one tuple."""
    hid, chans, width = c.gru_hidden, c.conv_channels, c.gru_hidden + c.conv_channels
    get = lambda name, *shape: array(arrays, prefix + name, shape)  # noqa: E731
    gru_ih = [get(f"gru.weight_ih_l{i}", 3 * hid, chans if i == 0 else hid) for i in range(c.gru_layers)]
    gru_args = (  # the first layer's input weights apart: its input is the conv features, not the GRU width
        gru_ih[0], np.stack(gru_ih[1:] or [np.zeros((3 * hid, hid), np.float32)]),
        np.stack([get(f"gru.weight_hh_l{i}", 3 * hid, hid) for i in range(c.gru_layers)]),
        np.stack([get(f"gru.bias_ih_l{i}", 3 * hid) for i in range(c.gru_layers)]),
        np.stack([get(f"gru.bias_hh_l{i}", 3 * hid) for i in range(c.gru_layers)]),
    )  # fmt: skip
    empty = (np.zeros((0, 0), np.float32), np.zeros(0, np.float32))
    gate = (get("gate_head.weight", c.erb_bands, width), get("gate_head.bias", c.erb_bands)) if c.output_gate else empty
    rise, fall = c.floor_rates
    return (
        np.ascontiguousarray(get("erb", c.stft.n_bins, c.erb_bands).T),  # (bands, n_bins): every product a matrix times a vector
        np.ascontiguousarray(get("erb_inv", c.erb_bands, c.stft.n_bins).T),  # (n_bins, bands)
        get("conv1.conv.weight", chans, c.n_feat, c.conv_kernel).reshape(chans, -1), get("conv1.conv.bias", chans),
        get("conv2.conv.weight", chans, chans, c.conv_kernel).reshape(chans, -1), get("conv2.conv.bias", chans),
        *gru_args,
        get("gain_head.weight", c.erb_bands, width), get("gain_head.bias", c.erb_bands),
        get("df_head.weight", 2 * c.df_order * c.df_bins, width), get("df_head.bias", 2 * c.df_order * c.df_bins), *gate,
        c.df_bins, c.df_order, np.float32((c.compress - 1.0) / 2.0), c.floor_at if c.noise_floor else -1, c.extra_at,
        np.float32(fall), np.float32(rise), np.float32(GATE_SCALE), np.float32(c.max_gain),
    )  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _conv(buf: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Causal conv over [buf | x] (C_in, kernel): relu'd output (C_out,), new buf (C_in, kernel-1)."""
    c_in, ctx = buf.shape
    window = np.empty((c_in, ctx + 1), dtype=np.float32)
    for i in range(c_in):
        for t in range(ctx):
            window[i, t] = buf[i, t]
        window[i, ctx] = x[i]
    y = affine(w, window.reshape(-1), b)
    for i in range(y.shape[0]):
        y[i] = max(y[i], 0.0)
    return y, window[:, 1:].copy()


_NO_EXTRA = np.zeros(0, np.float32)


@numba.njit(cache=True, nogil=True)
def _step(frame, conv1_state, conv2_state, h, past_state, network):
    """One hop for batch 1: frame (1, n_bins, 2), state as ``DenoiserConfig.initial_state(1)`` -> out (1, n_bins, 2), new state."""
    return network_step(frame[0], _NO_EXTRA, conv1_state, conv2_state, h, past_state, network)


@numba.njit(cache=True, nogil=True)
def network_step(spec, extra, conv1_state, conv2_state, h, past_state, network):
    """The network's hop: spectrum (n_bins, 2), extra inputs (extra_inputs,), the state of
    ``DenoiserConfig.initial_state(1)``, :func:`network_weights` -> out (1, n_bins, 2), new state."""
    (erb, erb_inv, w1, b1, w2, b2, w_ih0, w_ih, w_hh, b_ih, b_hh, gain_w, gain_b, df_w, df_b, gate_w, gate_b,
     df_bins, df_order, compress_exp, floor_at, extra_at, floor_fall, floor_rise, gate_scale, max_gain) = network  # fmt: skip
    conv1, conv2, past = conv1_state[0], conv2_state[0], past_state[0]  # views without the batch
    n_bins, bands, layers, hid = spec.shape[0], erb.shape[0], h.shape[0], h.shape[2]
    # features: band levels ((dB + 60) / 30), compressed low bins, (noise_floor) the tracked floors, the extra inputs
    power = np.empty(n_bins, dtype=np.float32)
    for k in range(n_bins):
        power[k] = spec[k, 0] * spec[k, 0] + spec[k, 1] * spec[k, 1]
    level = np.dot(erb, power)
    feat = np.empty(conv1.shape[0], dtype=np.float32)
    for b in range(bands):
        level[b] = (10.0 * math.log10(level[b] + 1e-10) + 60.0) / 30.0
        feat[b] = level[b]
    for k in range(df_bins):
        scale = 3.0 * max(power[k], 1e-12) ** compress_exp
        feat[bands + 2 * k] = spec[k, 0] * scale
        feat[bands + 2 * k + 1] = spec[k, 1] * scale
    if floor_at >= 0:
        for b in range(bands):
            floor = conv1[floor_at + b, conv1.shape[1] - 1]
            rate = floor_fall if level[b] < floor else floor_rise
            feat[floor_at + b] = floor + rate * (level[b] - floor)
    for j in range(extra.shape[0]):
        feat[extra_at + j] = extra[j]
    e1, new_conv1 = _conv(conv1, feat, w1, b1)
    e2, new_conv2 = _conv(conv2, e1, w2, b2)
    # GRU layers
    new_h = np.empty((layers, 1, hid), dtype=np.float32)
    x = e2
    for layer in range(layers):
        x = gru_cell(w_ih0 if layer == 0 else w_ih[layer - 1], w_hh[layer], b_ih[layer], b_hh[layer], x, h[layer, 0])
        for j in range(hid):
            new_h[layer, 0, j] = x[j]
    # heads: band gains to bins, deep-filter taps, (output_gate) the gate folded into both
    zc = np.concatenate((x, e2))
    g = affine(gain_w, zc, gain_b)
    for b in range(bands):
        g[b] = max_gain * sigmoid(g[b])
    gains = np.dot(erb_inv, g)
    coefs = affine(df_w, zc, df_b).reshape(df_order, df_bins, 2)
    if gate_w.shape[0] > 0:
        g = affine(gate_w, zc, gate_b)
        for b in range(bands):
            g[b] = min(2.0 * sigmoid(gate_scale * g[b]), 1.0)
        gate = np.dot(erb_inv, g)
        for k in range(n_bins):
            gains[k] *= gate[k]
    # gains everywhere, plus the deep filter over the low bins: tap i sees the frame i hops back
    out = np.empty((1, n_bins, 2), dtype=np.float32)
    for k in range(n_bins):
        out[0, k, 0] = spec[k, 0] * gains[k]
        out[0, k, 1] = spec[k, 1] * gains[k]
    for k in range(df_bins):
        re_acc, im_acc = 0.0, 0.0
        for i in range(df_order):
            src = spec[k] if i == 0 else past[df_order - 1 - i, k]
            a, b = math.tanh(coefs[i, k, 0]), math.tanh(coefs[i, k, 1])
            if gate_w.shape[0] > 0:
                a, b = a * gate[k], b * gate[k]
            re_acc += a * src[0] - b * src[1]
            im_acc += a * src[1] + b * src[0]
        out[0, k, 0] += re_acc
        out[0, k, 1] += im_acc
    new_past = np.empty((1, df_order - 1, df_bins, 2), dtype=np.float32)
    for i in range(df_order - 1):
        src = spec if i == df_order - 2 else past[i + 1]
        for k in range(df_bins):
            new_past[0, i, k, 0] = src[k, 0]
            new_past[0, i, k, 1] = src[k, 1]
    return out, (new_conv1.reshape((1, *new_conv1.shape)), new_conv2.reshape((1, *new_conv2.shape)), new_h, new_past)
