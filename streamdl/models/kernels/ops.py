"""Numba building blocks shared by the models' step kernels (batch 1, float32, no GIL).

Elementwise work is written as scalar loops: Numba compiles array expressions with broadcasting
checks whose error path alone takes tens of seconds to compile.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streamdl.errors import StreamdlError
from streamdl.jit import compile_notice


class StepKernel:
    """A model's ``step`` as a compiled function ``step(frame, *state, *weights) -> (out, state)``, called
    with the model's step signature ``(frame, state) -> (out, state)`` on numpy float32 arrays (batch 1).

    A kernel is built from the model's config and its weights as numpy arrays named as in the PyTorch
    model's state dict (from a model, or a weights file read without PyTorch). Subclasses say which
    configs they run (:meth:`supports`) and pass the compiled step and its weights to ``__init__``.
    """

    @classmethod
    def supports(cls, config) -> bool:
        """Whether this kernel runs the step of the model that ``config`` describes."""
        raise NotImplementedError

    def __init__(self, config, step, weights: tuple):
        self.config = config
        self._step, self._weights = step, weights
        with compile_notice():  # compile (or load from Numba's cache) now, not on a live stream's first hop
            self(np.zeros((1, *config.frame_shape), np.float32), self.initial_state())

    def initial_state(self) -> tuple[np.ndarray, ...]:
        """The stream state before any input, batch 1 (the config's one definition of it)."""
        return self.config.initial_state(1)

    def __call__(self, frame: np.ndarray, state: tuple) -> tuple:
        return self._step(frame, *state, *self._weights)


def array(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``arrays[name]`` as contiguous float32; a one-line error when it is missing or its shape is not
    ``shape`` (what the config says), naming the array."""
    if name not in arrays:
        raise StreamdlError(f"the weights hold no {name!r}: they are not this model's (its config asks for it)")
    if tuple(arrays[name].shape) != tuple(shape):
        raise StreamdlError(f"the weights' {name!r} is {tuple(arrays[name].shape)} but the config asks for {tuple(shape)}; "
                            "the arrays do not match the config stored with them")  # fmt: skip
    return np.ascontiguousarray(arrays[name], dtype=np.float32)


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


def numpy_state(state: tuple) -> tuple:
    """A model's stream state (tensors) as contiguous numpy arrays, the kernels' and ONNX Runtime's form."""
    return tuple(np.ascontiguousarray(s.detach().cpu().numpy()) for s in state)
