"""Numba kernels that run a model's ``step`` on the CPU in one compiled call, and which model has one.

A kernel is not a second model: it reads the weights of a PyTorch model (or of its weights file,
without PyTorch) and runs the same arithmetic; tests hold each one to the eager ``step``.
:func:`kernel_for` is the registry the ``numba`` backend asks; :class:`KernelStep` runs a kernel on
a stream.
"""

from __future__ import annotations

import numpy as np

from streamdl.models.kernels.codec import CodecKernel
from streamdl.models.kernels.denoiser import DenoiserKernel
from streamdl.models.kernels.ops import StepKernel, numpy_state
from streamdl.models.kernels.restorer import RestorerKernel
from streamdl.models.kernels.tagger import TaggerKernel

KERNELS: tuple[type[StepKernel], ...] = (DenoiserKernel, TaggerKernel, CodecKernel, RestorerKernel)

__all__ = ["KERNELS", "KernelStep", "StepKernel", "kernel_for", "numpy_state"]


def kernel_for(config) -> type[StepKernel] | None:
    """The kernel class that runs the step of the model ``config`` describes (denoisers, CRNN taggers, codecs, restorers), or None."""
    return next((kernel for kernel in KERNELS if kernel.supports(config)), None)


class KernelStep:
    """A kernel together with its stream state: ``step(frame)`` takes one step input (1, *frame_shape)
    float32 and returns the output; ``reset()`` starts a new stream."""

    def __init__(self, kernel: StepKernel):
        self.kernel = kernel
        self.reset()

    def reset(self) -> None:
        self._state = self.kernel.initial_state()

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        out, self._state = self.kernel(frame, self._state)
        return out
