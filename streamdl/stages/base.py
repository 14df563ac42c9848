"""The shape every model stage of the chain shares: a model, where and how its step runs, and its stream state."""

from __future__ import annotations

from pathlib import Path

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.models.backends import check_backend, compute_device, pick_backend
from streamdl.models.kernels import KernelStep, kernel_for
from streamdl.models.weights import is_weights_file, read_weights


class ModelStage:
    """Base of :class:`~streamdl.stages.denoiser.StreamingDenoiser`, :class:`~streamdl.stages.restorer.StreamingRestorer`,
    :class:`~streamdl.stages.tagger.StreamingTagger` and :class:`~streamdl.stages.codec.StreamingCodec`: a chain calls a stage once per hop with one STFT
    frame, complex64 (n_bins,), or, for a signal stage (the codec), with the hop's float32 samples.

    Args:
        model: a PyTorch model, a model file (a weights file, ``.npz``, or a training checkpoint,
            ``.pt``), or None for the package's shipped ``kind`` model.
        device: "cpu" or "cuda".
        backend: "eager", "torchscript", "onnx", "numba", or "auto": the fastest the model has on the
            device (:func:`~streamdl.models.backends.pick_backend`).

    A weights file run by its Numba kernel (the CPU default for denoisers, restorers and taggers) never loads
    PyTorch. ``config`` is the model's config; ``model`` the PyTorch model, when one was loaded. The
    stream state lives in the steps (``self._steps``, one per module of :meth:`step_modules`), which
    :meth:`reset` starts afresh.
    """

    kind = ""  # the shipped model it loads, and its name in a chain and in `streamdl bench`

    def __init__(self, model=None, *, device: str = "cpu", backend: str = "auto"):
        self.device = compute_device(device)
        self._origin = model if isinstance(model, (str, Path)) else self.shipped_model() if model is None else "the model"
        self.model, self.config, arrays = self._read(model)
        self.backend = check_backend(pick_backend(self.device, self.config) if backend == "auto" else backend, self.device)
        on_kernel = self.backend == "numba" and kernel_for(self.config) is not None
        self._steps = self._kernel_steps(arrays) if on_kernel else self._torch_steps(arrays)

    def _read(self, model):
        """(PyTorch model or None, config, weights arrays or None) for the ``model`` argument."""
        if model is not None and not isinstance(model, (str, Path)):
            return model, model.config, None
        if is_weights_file(self._origin):
            _, config, arrays = read_weights(self._origin, self.kind)
            return None, config, arrays
        from streamdl.models.checkpoint import load_model

        module = load_model(self._origin, self.kind)
        return module, module.config, None

    def _kernel_steps(self, arrays) -> list:
        """The model's Numba kernel on its weights (from the file, or from the PyTorch model)."""
        if arrays is None:
            from streamdl.models.export import numpy_arrays

            arrays = numpy_arrays(self.model)
        try:
            return [KernelStep(kernel_for(self.config)(self.config, arrays, **self.kernel_options()))]
        except StreamdlError as e:  # arrays that do not fit the config: say which file
            raise StreamdlError(f"{self._origin}: {e}") from None

    def _torch_steps(self, arrays) -> list:
        """The steps of :meth:`step_modules` on a PyTorch runtime (the model built from the file's arrays if need be)."""
        from streamdl.models.export import StreamStep

        if self.model is None:
            from streamdl.models.checkpoint import model_from_arrays

            self.model = model_from_arrays(self.kind, self.config, arrays, self._origin)
        self.model = self.model.to(self.device).eval()
        return [StreamStep(module, self.backend, self.device) for module in self.step_modules()]

    @property
    def name(self) -> str:
        return self.kind

    @classmethod
    def shipped_model(cls) -> Path:
        """The package's trained model file of this stage's kind."""
        return shipped_model_path(cls.kind)

    def kernel_options(self) -> dict:
        """What this stage's kernel is built with besides the config and the weights (the codec: its bitrate)."""
        return {}

    def step_modules(self) -> list:
        """The PyTorch modules whose steps this stage runs on a backend other than a kernel (the model
        itself, unless a stage splits it)."""
        return [self.model]

    def reset(self) -> None:
        """A new stream: every step's state from zero."""
        for step in self._steps:
            step.reset()
