import pytest
import torch

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import load_model
from streamdl.models.export import step_function
from tests.models.parity import assert_export_equals_eager
from tests.models.test_tagger import _model, _spectrum


def _with_running_stats(model):
    """``model`` with batch-norm statistics away from their initial 0 and 1, so that folding them into the
    kernel's convolutions is tested."""
    g = torch.Generator().manual_seed(1)
    for block in (model.block1, model.block2, model.block3):
        block.norm.running_mean.normal_(0.0, 0.3, generator=g)
        block.norm.running_var.uniform_(0.5, 2.0, generator=g)
    return model


def _frames(pool: int, count: int = 12) -> list[torch.Tensor]:
    spec = _spectrum(batch=1, frames=pool * count, seed=3)
    return [spec[:, t : t + pool] for t in range(0, pool * count, pool)]


@pytest.mark.parametrize("changes", [{}, {"kernel": 2}, {"kernel": 4}, {"pool": 1}, {"pool": 3}, {"n_mels": 32, "channels": (8, 16, 24)}, {"hidden": 64}],
                         ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")  # fmt: skip
def test_kernel_equals_eager_for_every_shape(changes):
    model = _with_running_stats(_model("crnn", **changes))
    assert_export_equals_eager(model, _frames(model.pool), "numba", atol=1e-5)


def test_kernel_equals_eager_on_the_shipped_weights():
    model = load_model(shipped_model_path("tagger"), "tagger")
    assert_export_equals_eager(model, [3 * f for f in _frames(model.pool, 30)], "numba", atol=1e-5)


def test_the_attention_tagger_has_no_kernel():
    with pytest.raises(StreamdlError, match="CRNN taggers and codecs only"):
        step_function(_model("attention"), "numba")
