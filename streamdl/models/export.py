"""Exporting a streaming model's ``step`` for deployment, behind one small interface.

Backends: ``"eager"`` (the PyTorch module as is), ``"torchscript"`` (scripted, frozen and
optimised for inference; the CUDA path), ``"onnx"`` (ONNX Runtime, the fastest CPU path for
models without a kernel, when installed), ``"numba"`` (a model's step compiled as one Numba
kernel, the fastest CPU path; denoisers and CRNN taggers, see :mod:`streamdl.models.denoiser_kernel`
and :mod:`streamdl.models.tagger_kernel`).
Every backend returns a callable ``f(frame, *state) -> (out, *state)`` on tensors of the shapes
:meth:`step` documents, and tests hold each one to the eager model.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from streamdl.errors import StreamdlError

BACKENDS = ("eager", "torchscript", "onnx", "numba")


class _StepModule(torch.nn.Module):
    """``step`` with a flat signature (frame, *state) -> (out, *state), which exporters need."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, frame: torch.Tensor, s0: torch.Tensor, s1: torch.Tensor, s2: torch.Tensor, s3: torch.Tensor):
        out, (s0, s1, s2, s3) = self.model.step(frame, (s0, s1, s2, s3))
        return out, s0, s1, s2, s3


def to_torchscript(model: torch.nn.Module) -> torch.jit.ScriptModule:
    """Scripted, frozen step function; runs on the device the model is on."""
    with warnings.catch_warnings():  # torch 2.13 marks TorchScript as deprecated; it is still the CUDA path
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(_StepModule(model).eval())
        return torch.jit.optimize_for_inference(torch.jit.freeze(scripted))


def to_onnx_bytes(model: torch.nn.Module) -> bytes:
    """The step function as an ONNX model (CPU), serialised."""
    frame = torch.zeros(1, *model.frame_shape, dtype=getattr(model, "frame_dtype", torch.float32))
    example = (frame, *model.init_state(1))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_StepModule(model).eval(), example, buf, dynamo=False, opset_version=17,
                          input_names=["frame", "s0", "s1", "s2", "s3"], output_names=["out", "o0", "o1", "o2", "o3"])  # fmt: skip
    return buf.getvalue()


class _OnnxStep:
    """ONNX Runtime session with the step signature, on numpy float32 arrays."""

    def __init__(self, onnx_bytes: bytes):
        try:
            import onnxruntime as ort
        except ImportError:
            raise StreamdlError("the onnx backend needs onnxruntime: pip install 'streamdl[onnx]'") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self._names = [i.name for i in self._session.get_inputs()]

    def __call__(self, frame, *state):
        outs = self._session.run(None, dict(zip(self._names, (frame, *state))))
        return tuple(outs)


def step_function(model: torch.nn.Module, backend: str = "torchscript"):
    """The model's step for ``backend``; eager and torchscript take tensors, onnx numpy arrays."""
    if backend == "eager":
        return _StepModule(model).eval()
    if backend == "torchscript":
        return to_torchscript(model)
    if backend == "onnx":
        return _OnnxStep(to_onnx_bytes(model))
    if backend == "numba":
        kernel = _kernel_class(model)
        if kernel is None:
            raise StreamdlError(f"the numba backend runs denoisers and CRNN taggers only, not this {type(model).__name__}; use onnx or torchscript")
        return kernel(model)
    raise StreamdlError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def _kernel_class(model: torch.nn.Module):
    """The Numba kernel that runs ``model``'s step (denoisers, CRNN taggers), or None."""
    from streamdl.models.denoiser import Denoiser
    from streamdl.models.tagger import Tagger

    if isinstance(model, Denoiser):
        from streamdl.models.denoiser_kernel import DenoiserKernel

        return DenoiserKernel
    if isinstance(model, Tagger) and not model.attention:
        from streamdl.models.tagger_kernel import TaggerKernel

        return TaggerKernel
    return None


def has_kernel(model: torch.nn.Module) -> bool:
    """Whether ``model`` has a Numba kernel (the "numba" backend)."""
    return _kernel_class(model) is not None


def uses_numpy(backend: str) -> bool:
    return backend in ("onnx", "numba")


def as_backend_state(state: tuple[torch.Tensor, ...], backend: str) -> tuple:
    return tuple(np.ascontiguousarray(s.cpu().numpy()) for s in state) if uses_numpy(backend) else state


class StreamStep:
    """A model's exported ``step`` together with its stream state, on numpy float32 frames.

    ``StreamStep(model, backend, device)(frame)`` takes one step input (1, *model.frame_shape)
    and returns the output as a numpy array; ``reset()`` starts a new stream.
    """

    def __init__(self, model: torch.nn.Module, backend: str, device: str = "cpu"):
        if uses_numpy(backend) and device != "cpu":
            raise StreamdlError(f"the {backend} backend runs on the CPU only; use --device cpu, or --backend torchscript on {device}")
        self.model, self.backend, self.device = model, backend, device
        self._step = step_function(model, backend)
        self.reset()

    def reset(self) -> None:
        self._state = as_backend_state(self.model.init_state(1), self.backend)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        if uses_numpy(self.backend):
            out, *self._state = self._step(frame, *self._state)
            return np.asarray(out)
        with torch.inference_mode():  # the torch runtimes only: the numpy ones need no autograd switch
            out, *self._state = self._step(torch.from_numpy(frame).to(self.device), *self._state)
        return out.cpu().numpy()
