"""Running a trained denoiser hop by hop: the stream state lives here, the weights in the model."""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import load_model, shipped_model_path
from streamdl.models.export import StreamStep, has_kernel


def pick_backend(device: str, model: torch.nn.Module | None = None) -> str:
    """The fastest measured runtime for ``model`` on ``device``: on the CPU its Numba kernel if it has
    one (denoisers, CRNN taggers), else ONNX Runtime when installed; TorchScript otherwise and on CUDA."""
    if device != "cpu":
        return "torchscript"
    if model is not None and has_kernel(model):
        return "numba"
    return "onnx" if importlib.util.find_spec("onnxruntime") else "torchscript"


def resolve_device(device: str) -> str:
    if device not in ("cpu", "cuda"):
        raise StreamdlError(f"unknown device {device!r}; use cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise StreamdlError("CUDA was asked for but PyTorch sees no GPU; use --device cpu")
    return device


class StreamingDenoiser:
    """Spectral stage: one STFT frame, complex64 (n_bins,), in -> the enhanced frame out.

    Args:
        model: a :class:`~streamdl.models.denoiser.Denoiser`, or None for the shipped weights.
        device: "cpu" or "cuda".
        backend: "eager", "torchscript", "onnx", "numba", or "auto" (see :func:`pick_backend`).
        attenuation_limit_db: the most the output may be quieter than the input, per bin (e.g. 12);
            None for no limit.
        mix: 1.0 fully processed, 0.0 the input untouched (dry/wet).

    Adds no latency beyond the STFT frame. The returned array is reused by the next call.
    """

    def __init__(self, model: torch.nn.Module | None = None, *, device: str = "cpu", backend: str = "auto",
                 attenuation_limit_db: float | None = None, mix: float = 1.0):  # fmt: skip
        self.device = resolve_device(device)
        self.model = (model if model is not None else load_model(shipped_model_path("denoiser"), "denoiser")).to(self.device).eval()
        self.backend = pick_backend(self.device, self.model) if backend == "auto" else backend
        self._step = StreamStep(self.model, self.backend, self.device)
        self.n_bins = self.model.config.stft.n_bins
        self.set_controls(attenuation_limit_db=attenuation_limit_db, mix=mix)
        self._out = np.zeros(self.n_bins, dtype=np.complex64)
        self._dry = np.zeros(self.n_bins, dtype=np.complex64)  # the input's share, so a hop allocates nothing
        self.reset()

    def set_controls(self, *, attenuation_limit_db: float | None = None, mix: float = 1.0) -> None:
        """Output = wet * enhanced + (1 - wet) * input, wet = min(mix, 1 - 10^(-limit/20))."""
        if not 0.0 <= mix <= 1.0:
            raise StreamdlError(f"mix must be between 0 and 1, got {mix}")
        if attenuation_limit_db is not None and attenuation_limit_db < 0:
            raise StreamdlError(f"the attenuation limit is a positive number of dB, got {attenuation_limit_db}")
        floor = 0.0 if attenuation_limit_db is None else 10 ** (-attenuation_limit_db / 20)
        wet = np.float32(min(mix, 1.0 - floor))
        self._wet_dry = (wet, np.float32(1.0) - wet)  # one assignment: a hop never sees half of a change from another thread

    def reset(self) -> None:
        self._step.reset()

    def __call__(self, spec: np.ndarray) -> np.ndarray:
        frame = spec.view(np.float32).reshape(1, self.n_bins, 2)
        out = self._step(frame)
        enhanced = out.reshape(-1).view(np.complex64)
        wet, dry = self._wet_dry
        np.multiply(enhanced, wet, out=self._out)
        if dry:
            np.multiply(spec, dry, out=self._dry)
            self._out += self._dry
        return self._out
