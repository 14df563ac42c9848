"""Each config's initial state is the one definition of its model's stream state."""

import numpy as np
import pytest
import torch

from streamdl.models.codec import Codec
from streamdl.models.configs import CodecConfig, DenoiserConfig, TaggerConfig
from streamdl.models.denoiser import Denoiser
from streamdl.models.tagger import Tagger


@pytest.mark.parametrize("model", [Denoiser(DenoiserConfig(noise_floor=True, df_order=5)), Tagger(TaggerConfig()),
                                   Tagger(TaggerConfig(arch="attention")), Codec(CodecConfig(hidden=32))],
                         ids=["denoiser", "crnn", "attention", "codec"])  # fmt: skip
def test_the_model_state_is_the_configs(model):
    for batch in (1, 3):
        state, arrays = model.init_state(batch), model.config.initial_state(batch)
        assert len(state) == len(arrays)
        for t, a in zip(state, arrays):
            assert t.dtype == torch.float32 and np.array_equal(t.numpy(), a)
    assert model.frame_shape == model.config.frame_shape


def test_noise_floors_start_high():
    conv1 = DenoiserConfig(noise_floor=True).initial_state(1)[0]
    assert (conv1[:, DenoiserConfig().floor_at :] == 3.0).all() and (conv1[:, : DenoiserConfig().floor_at] == 0).all()
