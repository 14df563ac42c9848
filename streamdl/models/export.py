"""Running a streaming model's ``step`` for deployment, behind one small interface.

Backends: ``"eager"`` (the PyTorch module as is), ``"torchscript"`` (traced, frozen and optimised
for inference; the CUDA path), ``"onnx"`` (ONNX Runtime, the fastest CPU path for models without
a kernel, when installed), ``"numba"`` (a model's step compiled as one Numba kernel, the fastest
CPU path; see :mod:`streamdl.models.kernels`). Every backend returns a callable with the model's
own step signature ``f(frame, state) -> (out, state)``, ``state`` a tuple of any length; eager and
torchscript take tensors, onnx and numba numpy arrays. Tests hold each one to the eager model.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from streamdl.errors import StreamdlError
from streamdl.models.backends import BACKENDS, check_backend
from streamdl.models.kernels import kernel_for, numpy_state


class _StepModule(torch.nn.Module):
    """``model.step`` as a module's ``forward(frame, state) -> (out, state)``, which exporters trace."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, frame: torch.Tensor, state: tuple[torch.Tensor, ...]):
        return self.model.step(frame, state)


def _example(model: torch.nn.Module) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """A zero step input and the initial state, batch 1, on the model's device."""
    state = model.init_state(1)
    frame = torch.zeros(1, *model.frame_shape, dtype=getattr(model, "frame_dtype", torch.float32), device=state[0].device)
    return frame, state


def to_torchscript(model: torch.nn.Module) -> torch.jit.ScriptModule:
    """The step traced for batch 1, frozen and optimised; runs on the device the model is on.

    A step has no data-dependent control flow, so tracing records all of it, whatever the
    length of the model's state."""
    with warnings.catch_warnings():  # torch 2.13 marks TorchScript as deprecated; it is still the CUDA path
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(_StepModule(model).eval(), _example(model))
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


def to_onnx_bytes(model: torch.nn.Module) -> bytes:
    """The step as a serialised ONNX model (CPU); inputs ``frame, state0..``, outputs ``out, new_state0..``."""
    example = _example(model)
    count = len(example[1])
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_StepModule(model).eval(), example, buf, dynamo=False, opset_version=17,
                          input_names=["frame", *(f"state{i}" for i in range(count))],
                          output_names=["out", *(f"new_state{i}" for i in range(count))])  # fmt: skip
    return buf.getvalue()


class _OnnxStep:
    """An ONNX Runtime session with the step signature, on numpy float32 arrays, one thread."""

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

    def __call__(self, frame: np.ndarray, state: tuple) -> tuple:
        out, *state = self._session.run(None, dict(zip(self._names, (frame, *state))))
        return out, tuple(state)


def step_function(model: torch.nn.Module, backend: str = "torchscript"):
    """The model's step for ``backend``, with the signature ``(frame, state) -> (out, state)``."""
    if backend == "eager":
        return _StepModule(model).eval()
    if backend == "torchscript":
        return to_torchscript(model)
    if backend == "onnx":
        return _OnnxStep(to_onnx_bytes(model))
    if backend == "numba":
        return kernel_of(model)
    raise StreamdlError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def numpy_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The model's state dict as numpy arrays (what kernels and weights files hold)."""
    return {name: t.detach().cpu().numpy() for name, t in model.state_dict().items()}


def kernel_of(model: torch.nn.Module):
    """``model``'s step as a Numba kernel (step signature on numpy arrays); a one-line error for a model without one."""
    kernel = kernel_for(model.config)
    if kernel is None:
        raise StreamdlError(f"the numba backend runs denoisers, restorers, CRNN taggers and codecs only, not this {type(model).__name__}; use onnx or torchscript")
    return kernel(model.config, numpy_arrays(model), **({"quantizers": model.active} if hasattr(model, "active") else {}))  # a codec: its set bitrate


def uses_numpy(backend: str) -> bool:
    """Whether ``backend`` takes numpy arrays (onnx, numba) rather than tensors."""
    return backend in ("onnx", "numba")


def backend_state(state: tuple[torch.Tensor, ...], backend: str) -> tuple:
    """A model's stream state in the form ``backend`` takes."""
    return numpy_state(state) if uses_numpy(backend) else state


class StreamStep:
    """A model's exported ``step`` together with its stream state, on numpy float32 frames.

    ``StreamStep(model, backend, device)(frame)`` takes one step input (1, *model.frame_shape)
    and returns the output as a numpy array; ``reset()`` starts a new stream.
    """

    def __init__(self, model: torch.nn.Module, backend: str, device: str = "cpu"):
        self.model, self.backend, self.device = model, check_backend(backend, device), device
        self._step = step_function(model, backend)
        self.reset()

    def reset(self) -> None:
        self._state = backend_state(self.model.init_state(1), self.backend)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        if uses_numpy(self.backend):
            out, self._state = self._step(frame, self._state)
            return np.asarray(out)
        with torch.inference_mode():  # the torch runtimes only: the numpy ones need no autograd switch
            out, self._state = self._step(torch.from_numpy(frame).to(self.device), self._state)
        return out.cpu().numpy()
