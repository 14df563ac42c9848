"""Shared check: an exported step equals the eager model's step, outputs and states, frame after frame."""

import numpy as np
import pytest
import torch

from streamdl.models.export import backend_state, step_function, uses_numpy


@torch.no_grad()
def assert_export_equals_eager(model, frames: list[torch.Tensor], backend: str, atol: float = 2e-5) -> None:
    """``frames``: step inputs (1, *model.frame_shape), fed in order to both."""
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    step = step_function(model, backend)
    state, eager_state = backend_state(model.init_state(1), backend), model.init_state(1)
    for frame in frames:
        ref, eager_state = model.step(frame, eager_state)
        out, state = step(frame.numpy() if uses_numpy(backend) else frame, state)
        np.testing.assert_allclose(np.asarray(out), ref.numpy(), atol=atol, rtol=1e-4)
    assert len(state) == len(eager_state)
    for s, e in zip(state, eager_state):  # the states agree too, not only the outputs
        np.testing.assert_allclose(np.asarray(s), e.numpy(), atol=atol, rtol=1e-4)


@torch.no_grad()
def assert_chunked_equals_whole(model, spec: torch.Tensor, chunk: int) -> None:
    """``model.forward_chunk`` over ``spec`` (B, T, ...) in chunks of ``chunk`` frames, then frame by frame
    through ``model.step``, each equals ``model(spec)``."""
    whole = model(spec)
    state, parts = model.init_state(spec.shape[0]), []
    for start in range(0, spec.shape[1], chunk):
        out, state = model.forward_chunk(spec[:, start : start + chunk], state)
        parts.append(out)
    torch.testing.assert_close(torch.cat(parts, 1), whole, atol=1e-5, rtol=1e-4)
    state, steps = model.init_state(spec.shape[0]), []
    for t in range(spec.shape[1]):
        out, state = model.step(spec[:, t], state)
        steps.append(out)
    torch.testing.assert_close(torch.stack(steps, 1), whole, atol=1e-5, rtol=1e-4)
