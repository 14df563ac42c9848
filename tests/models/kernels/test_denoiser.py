import dataclasses

import pytest
import torch

from streamdl.assets import shipped_model_path
from streamdl.models.checkpoint import load_model
from streamdl.models.denoiser import Denoiser
from tests.models.parity import assert_export_equals_eager
from tests.models.test_denoiser import SMALL, lively


def _frames(count: int = 10) -> list[torch.Tensor]:
    spec = 0.1 * torch.randn(1, count, SMALL.stft.n_bins, 2, generator=torch.Generator().manual_seed(3))
    return [spec[:, t] for t in range(count)]


@pytest.mark.parametrize("changes", [{}, {"gru_layers": 1}, {"gru_layers": 3}, {"df_order": 1}, {"df_order": 2}, {"conv_kernel": 2},
                                     {"conv_kernel": 4, "noise_floor": True}, {"output_gate": True, "df_bins": 40}],
                         ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")  # fmt: skip
def test_kernel_equals_eager_for_every_shape(changes):
    torch.manual_seed(0)
    model = lively(Denoiser(dataclasses.replace(SMALL, **changes)).eval())
    assert_export_equals_eager(model, _frames(), "numba", atol=1e-5)


def test_kernel_equals_eager_on_the_shipped_weights():
    model = load_model(shipped_model_path("denoiser"), "denoiser")
    assert_export_equals_eager(model, [10 * f for f in _frames(30)], "numba", atol=1e-5)
