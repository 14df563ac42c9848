"""The codec's round trip (``Codec.step``) as one Numba kernel: encoder and decoder of one 20 ms frame
in a compiled call, reading the weights file without PyTorch.

The eager step is ~150 small operators (a codebook search is a 1024-row matrix-vector product and
an argmin, up to 24 times a frame); here each is a BLAS product and a loop. Tests hold it to the
eager step frame by frame. It holds no GIL while it runs.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streamdl.dsp.mdct import band_matrices, mdct_basis
from streamdl.models.configs import CodecConfig
from streamdl.models.kernels.ops import StepKernel, affine, array, gru_cell


class CodecKernel(StepKernel):
    """``Codec.step`` for one stream (batch 1) at ``quantizers`` codes a frame: samples (1, frame) float32
    and the state of ``config.initial_state(1)`` -> decoded samples (1, frame), new state."""

    @classmethod
    def supports(cls, config) -> bool:
        return isinstance(config, CodecConfig)

    def __init__(self, config: CodecConfig, arrays: dict[str, np.ndarray], quantizers: int | None = None):
        c = config
        n = quantizers or c.default_quantizers
        env_n, group_n = c.layout(n)
        get = lambda name, *shape: array(arrays, name, shape)  # noqa: E731
        average, expand = band_matrices(c.band_edges, c.frame)
        env_books = get("envelope_books", c.envelope_stages, c.codebook_size, c.bands)
        books = [get(f"shape_books{i}", g, c.codebook_size, hi - lo) for i, ((lo, hi), g) in enumerate(zip(c.shape_groups, c.group_stages))]
        features = c.coded_bins + c.bands + 1 + len(c.shape_groups)
        layout = [env_n / c.envelope_stages] + [g / s for g, s in zip(group_n, c.group_stages)]
        basis = mdct_basis(c.frame, c.overlap)
        weights = (
            np.ascontiguousarray(basis.T), basis, np.ascontiguousarray(average.T), np.argmax(expand, 0).astype(np.int64),
            get("envelope_mean", c.bands), env_books, (env_books**2).sum(-1),
            tuple(books), tuple((b**2).sum(-1) for b in books), np.array([lo for lo, _ in c.shape_groups], np.int64),
            np.array(c.magnitude_groups, np.bool_), np.array(group_n, np.int64), env_n, np.array(layout, np.float32),
            get("inp.weight", c.hidden, features), get("inp.bias", c.hidden),
            get("gru.weight_ih_l0", 3 * c.hidden, c.hidden), get("gru.weight_hh_l0", 3 * c.hidden, c.hidden),
            get("gru.bias_ih_l0", 3 * c.hidden), get("gru.bias_hh_l0", 3 * c.hidden),
            get("out.weight", c.signed_bins + c.frame, c.hidden), get("out.bias", c.signed_bins + c.frame),
            c.signed_bins, np.float32(c.envelope_memory),
        )  # fmt: skip
        super().__init__(config, _step, weights)


@numba.njit(cache=True, nogil=True)
def _search(x: np.ndarray, books: np.ndarray, norms: np.ndarray, n: int, codes_out: np.ndarray, quantized: np.ndarray) -> None:
    """Residual VQ of x (D,) with the first n codebooks (S, K, D): the codes into ``codes_out``, their sum into ``quantized``."""
    residual = x.copy()
    for k in range(n):
        scores = np.dot(books[k], residual)
        best, best_score = 0, np.inf
        for j in range(scores.shape[0]):
            score = norms[k, j] - 2.0 * scores[j]
            if score < best_score:
                best, best_score = j, score
        codes_out[k] = best
        for d in range(residual.shape[0]):
            residual[d] -= books[k, best, d]
            quantized[d] += books[k, best, d]


@numba.njit(cache=True, nogil=True)
def _noise_sign(frame_index: int, k: int, bins: int) -> float:
    seed = np.int64(frame_index) * bins + k
    for _ in range(3):
        seed = (seed * 1103515245 + 12345) % 2147483648
    return 1.0 if (seed >> 16) % 2 else -1.0


@numba.njit(cache=True, nogil=True)
def _step(frame, history_state, enc_env_state, dec_env_state, h_state, tail_state, count_state, analysis, basis, average, band_of, env_mean,
          env_books, env_norms, books, norms, starts, magnitude, group_n, env_n, layout, inp_w, inp_b, w_ih, w_hh, b_ih, b_hh, out_w, out_b,
          signed, memory):  # fmt: skip
    """One frame for batch 1: samples (1, frame), state as ``CodecConfig.initial_state(1)`` -> decoded (1, frame), new state."""
    n_frame, ramp, bands = frame.shape[1], history_state.shape[1], env_mean.shape[0]
    signal = np.empty(n_frame + ramp, dtype=np.float32)
    signal[:ramp] = history_state[0]
    signal[ramp:] = frame[0]
    coef = np.dot(analysis, signal)  # (frame,)
    power = np.dot(average, coef * coef)
    log_rms = np.empty(bands, dtype=np.float32)
    for b in range(bands):
        log_rms[b] = 0.5 * math.log(power[b] + 1e-9)
    shapes = np.empty(n_frame, dtype=np.float32)
    for k in range(n_frame):
        shapes[k] = coef[k] * math.exp(-log_rms[band_of[k]])
    # the sending end: envelope (closed loop), then each shape group
    codes = np.zeros(env_n + group_n.sum(), dtype=np.int64)
    prediction = memory * enc_env_state[0]
    q = np.zeros(bands, dtype=np.float32)
    _search(log_rms - env_mean - prediction, env_books, env_norms, env_n, codes[:env_n], q)
    new_enc_env = prediction + q
    at = env_n
    for i in range(len(books)):
        lo, dims = starts[i], books[i].shape[2]
        part = np.abs(shapes[lo : lo + dims]) if magnitude[i] else shapes[lo : lo + dims].copy()
        _search(part, books[i], norms[i], group_n[i], codes[at : at + group_n[i]], np.zeros(dims, dtype=np.float32))
        at += group_n[i]
    # the receiving end: envelope, decoded shapes, post-filter, noise fill, synthesis
    dec_env = memory * dec_env_state[0]
    for s in range(env_n):
        dec_env += env_books[s, codes[s]]
    coded = starts[-1] + books[-1].shape[2]
    features = np.zeros(coded + bands + layout.shape[0], dtype=np.float32)
    at = env_n
    for i in range(len(books)):
        for s in range(group_n[i]):
            features[starts[i] : starts[i] + books[i].shape[2]] += books[i][s, codes[at + s]]
        at += group_n[i]
    features[coded : coded + bands] = dec_env
    features[coded + bands :] = layout
    x = affine(inp_w, features, inp_b)
    for j in range(x.shape[0]):
        x[j] = math.tanh(x[j])
    h = gru_cell(w_ih, w_hh, b_ih, b_hh, x, h_state[0, 0])
    out = affine(out_w, h, out_b)
    count = count_state[0]
    filled = np.empty(n_frame, dtype=np.float32)
    for k in range(n_frame):
        estimate = features[k] + out[k] if k < signed else 0.0
        v = out[signed + k]
        magnitude_k = v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))  # softplus
        filled[k] = estimate + math.sqrt(max(magnitude_k * magnitude_k - estimate * estimate, 0.0)) * _noise_sign(int(count), k, n_frame)
    energy = np.dot(average, filled * filled)
    for k in range(n_frame):
        b = band_of[k]
        filled[k] *= math.exp(dec_env[b] + env_mean[b]) / math.sqrt(energy[b] + 1e-12)
    synthesis = np.dot(basis, filled)  # (frame + ramp,)
    decoded = np.empty((1, n_frame), dtype=np.float32)
    decoded[0] = synthesis[:n_frame]
    decoded[0, :ramp] += tail_state[0]
    new_history = np.empty_like(history_state)
    new_history[0] = signal[signal.shape[0] - ramp :]
    new_h = np.empty_like(h_state)
    new_h[0, 0] = h
    new_tail = np.empty_like(tail_state)
    new_tail[0] = synthesis[n_frame:]
    enc_env, dec_env_out, new_count = np.empty_like(enc_env_state), np.empty_like(dec_env_state), np.empty_like(count_state)
    enc_env[0], dec_env_out[0], new_count[0] = new_enc_env, dec_env, count + 1
    return decoded, (new_history, enc_env, dec_env_out, new_h, new_tail, new_count)
