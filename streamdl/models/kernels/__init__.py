"""Numba kernels that run a model's ``step`` on the CPU in one compiled call, and which model has one.

A kernel is not a second model: it reads the weights of a PyTorch model and runs the same
arithmetic; tests hold each one to the eager ``step``. :func:`kernel_for` is the registry the
``numba`` backend asks.
"""

from __future__ import annotations

from streamdl.models.kernels.denoiser import DenoiserKernel
from streamdl.models.kernels.ops import StepKernel, numpy_state
from streamdl.models.kernels.tagger import TaggerKernel

KERNELS: tuple[type[StepKernel], ...] = (DenoiserKernel, TaggerKernel)

__all__ = ["KERNELS", "StepKernel", "kernel_for", "numpy_state"]


def kernel_for(model) -> type[StepKernel] | None:
    """The kernel class that runs ``model``'s step (denoisers, CRNN taggers), or None."""
    return next((kernel for kernel in KERNELS if kernel.supports(model)), None)
