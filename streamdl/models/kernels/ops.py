"""Numba building blocks shared by the models' step kernels (batch 1, float32, no GIL).

Elementwise work is written as scalar loops: Numba compiles array expressions with broadcasting
checks whose error path alone takes tens of seconds to compile.
"""

from __future__ import annotations

import math

import numba
import numpy as np


class StepKernel:
    """A model's ``step`` as a compiled function ``step(frame, *state, *weights) -> (out, state)``, called
    with the model's step signature ``(frame, state) -> (out, state)`` on numpy float32 arrays (batch 1).

    Subclasses set :meth:`supports` (which models they run) and pass their weights to ``__init__``.
    """

    @classmethod
    def supports(cls, model) -> bool:
        """Whether this kernel runs ``model``'s step."""
        raise NotImplementedError

    def __init__(self, model, step, weights: tuple):
        self._step, self._weights = step, weights
        # compile (or load from Numba's cache) now, not on a live stream's first hop
        self(np.zeros((1, *model.frame_shape), np.float32), numpy_state(model.init_state(1)))

    def __call__(self, frame: np.ndarray, state: tuple) -> tuple:
        return self._step(frame, *state, *self._weights)


def numpy_state(state: tuple) -> tuple:
    """A model's stream state (tensors) as contiguous numpy arrays, the kernels' and ONNX Runtime's form."""
    return tuple(np.ascontiguousarray(s.detach().cpu().numpy()) for s in state)


@numba.njit(cache=True, nogil=True)
def affine(w: np.ndarray, x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """w @ x + b (BLAS matrix-vector product)."""
    y = np.dot(w, x)
    for i in range(y.shape[0]):
        y[i] += b[i]
    return y


@numba.njit(cache=True, nogil=True)
def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@numba.njit(cache=True, nogil=True)
def gru_cell(w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """One GRU step with PyTorch's equations (gate order: reset, update, new): input x, hidden h -> new hidden."""
    hid = h.shape[0]
    gi = affine(w_ih, x, b_ih)
    gh = affine(w_hh, h, b_hh)
    out = np.empty(hid, dtype=np.float32)
    for j in range(hid):
        r = sigmoid(gi[j] + gh[j])
        z = sigmoid(gi[hid + j] + gh[hid + j])
        n = math.tanh(gi[2 * hid + j] + r * gh[2 * hid + j])
        out[j] = (1.0 - z) * n + z * h[j]
    return out


def f32(t) -> np.ndarray:
    """A tensor's values as a contiguous float32 numpy array (the kernels' weights)."""
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)
