"""The codec's Numba kernel equals the eager round trip, frame by frame, at each bitrate and with a magnitude group."""

import pytest
import torch

from streamdl.models.configs import CodecConfig
from tests.models.parity import assert_export_equals_eager
from tests.models.test_codec import SMALL, _model, _signal


@pytest.mark.parametrize("quantizers", [4, 8])
@torch.no_grad()
def test_numba_kernel_equals_eager(quantizers):
    model, x = _model(CodecConfig(**{**SMALL.__dict__, "magnitude_groups": (False, quantizers == 8)})), _signal(batch=1, seed=3)
    model.active = quantizers
    assert_export_equals_eager(model, [x[:, 320 * t : 320 * (t + 1)] for t in range(8)], "numba", atol=1e-4)
