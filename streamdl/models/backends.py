"""Which runtime runs a model's step, and where: names, checks and the automatic choice, all without
PyTorch (the runtimes themselves are :mod:`streamdl.models.kernels` and :mod:`streamdl.models.export`)."""

from __future__ import annotations

import importlib.util

from streamdl.errors import StreamdlError

BACKENDS = ("eager", "torchscript", "onnx", "numba")
DEVICES = ("cpu", "cuda")


def pick_backend(device: str, config) -> str:
    """The fastest measured runtime for the model ``config`` describes on ``device``: on the CPU its Numba
    kernel if it has one (denoisers, restorers, CRNN taggers, codecs), else ONNX Runtime when installed; TorchScript
    otherwise and on CUDA."""
    from streamdl.models.kernels import kernel_for  # Numba, only once a model is to run

    if device != "cpu":
        return "torchscript"
    if kernel_for(config) is not None:
        return "numba"
    return "onnx" if importlib.util.find_spec("onnxruntime") else "torchscript"


def check_backend(backend: str, device: str) -> str:
    """``backend`` checked: one of :data:`BACKENDS`, and one that runs on ``device``."""
    if backend not in BACKENDS:
        raise StreamdlError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend in ("onnx", "numba") and device != "cpu":
        raise StreamdlError(f"the {backend} backend runs on the CPU only; use --device cpu, or --backend torchscript on {device}")
    return backend


def compute_device(device: str) -> str:
    """``device`` ("cpu" or "cuda") checked: a one-line error for another name or a missing GPU."""
    if device not in DEVICES:
        raise StreamdlError(f"unknown device {device!r}; use cpu or cuda")
    if device == "cuda":
        import torch  # only CUDA needs it

        if not torch.cuda.is_available():
            raise StreamdlError("CUDA was asked for but PyTorch sees no GPU; use --device cpu")
    return device
