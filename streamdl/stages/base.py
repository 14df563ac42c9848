"""The shape every model stage of the chain shares: a model, where and how its step runs, and its stream state."""

from __future__ import annotations

import torch

from streamdl.assets import shipped_model_path
from streamdl.models.checkpoint import load_model
from streamdl.models.export import StreamStep, compute_device, pick_backend


class ModelStage:
    """Base of :class:`~streamdl.stages.denoiser.StreamingDenoiser`, :class:`~streamdl.stages.tagger.StreamingTagger`
    and :class:`~streamdl.stages.codec.StreamingCodec`: a chain calls a stage once per hop with one STFT
    frame, complex64 (n_bins,).

    Args:
        model: the PyTorch model, or None for the package's shipped ``kind`` model.
        device: "cpu" or "cuda".
        backend: "eager", "torchscript", "onnx", "numba", or "auto": the fastest the model has on the
            device (:func:`~streamdl.models.export.pick_backend`).

    The weights live in the model; the stream state lives in the exported steps (``self._steps``, one
    per module of :meth:`step_modules`), which :meth:`reset` starts afresh.
    """

    kind = ""  # the shipped model it loads, and its name in a chain and in `streamdl bench`

    def __init__(self, model: torch.nn.Module | None = None, *, device: str = "cpu", backend: str = "auto"):
        self.device = compute_device(device)
        self.model = (model if model is not None else self.shipped_model()).to(self.device).eval()
        self.backend = pick_backend(self.device, self.model) if backend == "auto" else backend
        self._steps = [StreamStep(module, self.backend, self.device) for module in self.step_modules()]

    @property
    def name(self) -> str:
        return self.kind

    @classmethod
    def shipped_model(cls) -> torch.nn.Module:
        """The package's trained model of this stage's kind."""
        return load_model(shipped_model_path(cls.kind), cls.kind)

    def step_modules(self) -> list[torch.nn.Module]:
        """The streaming modules whose steps this stage runs (the model itself, unless a stage splits it)."""
        return [self.model]

    def reset(self) -> None:
        """A new stream: every step's state from zero."""
        for step in self._steps:
            step.reset()
