"""The CRNN tagger's ``step`` as one Numba kernel: its CPU default, like the denoiser's kernel.

ONNX Runtime ran a tagger frame in about 70 us alone but about 170 us right after a denoiser hop,
which pushes ONNX Runtime's executor and the tagger's weights out of the core's cache; this
kernel reads the tagger's weights and runs the same arithmetic in one compiled call (each
convolution block as one matrix product over the frame's bands, batch norm folded into its
weights), with the step signature ``(frame, state) -> (probabilities, state)`` on numpy
float32 arrays. Tests hold it to the eager ``step`` frame by frame. The attention tagger has no
kernel (ONNX Runtime runs it).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streamdl.models.configs import TaggerConfig
from streamdl.models.kernels.ops import StepKernel, affine, array, gru_cell, sigmoid

BATCH_NORM_EPS = 1e-5  # PyTorch's BatchNorm2d default, which the tagger's blocks use


def _folded(arrays: dict[str, np.ndarray], block: str, c_in: int, c_out: int, kernel: int) -> tuple[np.ndarray, np.ndarray]:
    """A block's convolution with its (eval-mode) batch norm folded in: weights (C_out, C_in * kernel * 3), bias (C_out,)."""
    get = lambda name, *shape: array(arrays, f"{block}.{name}", shape)  # noqa: E731
    scale = get("norm.weight", c_out) / np.sqrt(get("norm.running_var", c_out) + BATCH_NORM_EPS)
    weight = get("conv.weight", c_out, c_in, kernel, 3) * scale[:, None, None, None]
    bias = (get("conv.bias", c_out) - get("norm.running_mean", c_out)) * scale + get("norm.bias", c_out)
    return np.ascontiguousarray(weight.reshape(c_out, -1), np.float32), bias.astype(np.float32)


class TaggerKernel(StepKernel):
    """``Tagger.step`` for one stream (batch 1, arch "crnn") on the CPU: frame (1, pool, n_bins, 2)
    float32 and the state of ``config.initial_state(1)`` -> probabilities (1, labels), new state."""

    @classmethod
    def supports(cls, config) -> bool:
        return isinstance(config, TaggerConfig) and config.arch == "crnn"

    def __init__(self, config: TaggerConfig, arrays: dict[str, np.ndarray]):
        c = config
        get = lambda name, *shape: array(arrays, name, shape)  # noqa: E731
        blocks = [_folded(arrays, f"block{i + 1}", c.block_inputs[i], c.channels[i], c.kernel) for i in range(3)]
        flat = c.channels[-1] * c.n_mels // 8
        weights = (
            np.ascontiguousarray(get("mel", c.stft.n_bins, c.n_mels).T),  # (n_mels, n_bins)
            *blocks[0], *blocks[1], *blocks[2],
            get("proj.weight", c.hidden, flat), get("proj.bias", c.hidden),
            get("gru.weight_ih_l0", 3 * c.hidden, c.hidden), get("gru.weight_hh_l0", 3 * c.hidden, c.hidden),
            get("gru.bias_ih_l0", 3 * c.hidden), get("gru.bias_hh_l0", 3 * c.hidden),
            get("head.weight", len(c.labels), c.hidden), get("head.bias", len(c.labels)),
        )  # fmt: skip
        super().__init__(config, _step, weights)


@numba.njit(cache=True, nogil=True)
def _block(buf: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One causal block on one frame: past inputs buf (C_in, kernel-1, F), this frame x (C_in, F) ->
    ReLU'd convolution pooled over band pairs (C_out, F // 2), new buf."""
    c_in, ctx, bands = buf.shape
    kt = ctx + 1
    window = np.empty((c_in, kt, bands), dtype=np.float32)
    for i in range(c_in):
        for t in range(ctx):
            for f in range(bands):
                window[i, t, f] = buf[i, t, f]
        for f in range(bands):
            window[i, ctx, f] = x[i, f]
    # patches (C_in * kernel * 3, F): row (i, t, j) holds input band f + j - 1 (zero past the edges)
    patches = np.zeros((c_in * kt * 3, bands), dtype=np.float32)
    for i in range(c_in):
        for t in range(kt):
            for j in range(3):
                row = (i * kt + t) * 3 + j
                for f in range(max(0, 1 - j), min(bands, bands + 1 - j)):
                    patches[row, f] = window[i, t, f + j - 1]
    y = np.dot(w, patches)  # (C_out, F)
    out = np.empty((y.shape[0], bands // 2), dtype=np.float32)
    for c in range(y.shape[0]):
        for g in range(bands // 2):
            out[c, g] = 0.5 * (max(y[c, 2 * g] + b[c], 0.0) + max(y[c, 2 * g + 1] + b[c], 0.0))
    return out, window[:, 1:].copy()


@numba.njit(cache=True, nogil=True)
def _step(frame, s1, s2, s3, h, mel, w1, b1, w2, b2, w3, b3, proj_w, proj_b, w_ih, w_hh, b_ih, b_hh, head_w, head_b):  # fmt: skip
    """One tagger frame for batch 1: frame (1, pool, n_bins, 2), state as ``TaggerConfig.initial_state(1)`` ->
    probabilities (1, labels), new state."""
    pool, n_bins = frame.shape[1], frame.shape[2]
    power = np.zeros(n_bins, dtype=np.float32)
    for p in range(pool):
        for k in range(n_bins):
            power[k] += (frame[0, p, k, 0] * frame[0, p, k, 0] + frame[0, p, k, 1] * frame[0, p, k, 1]) / pool
    level = np.dot(mel, power)
    x = np.empty((1, level.shape[0]), dtype=np.float32)
    for f in range(level.shape[0]):
        x[0, f] = (10.0 * math.log10(level[f] + 1e-10) + 20.0) / 20.0
    x1, n1 = _block(s1[0], x, w1, b1)
    x2, n2 = _block(s2[0], x1, w2, b2)
    x3, n3 = _block(s3[0], x2, w3, b3)
    z = affine(proj_w, x3.reshape(-1), proj_b)  # channel-major, as the model flattens (channels, bands)
    for i in range(z.shape[0]):
        z[i] = max(z[i], 0.0)
    hidden = gru_cell(w_ih, w_hh, b_ih, b_hh, z, h[0, 0])
    logits = affine(head_w, hidden, head_b)
    probs = np.empty((1, logits.shape[0]), dtype=np.float32)
    for i in range(logits.shape[0]):
        probs[0, i] = sigmoid(logits[i])
    return probs, (n1.reshape((1, *n1.shape)), n2.reshape((1, *n2.shape)), n3.reshape((1, *n3.shape)), hidden.reshape((1, 1, hidden.shape[0])))
