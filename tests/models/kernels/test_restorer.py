import torch

from streamdl.assets import shipped_model_path
from streamdl.models.checkpoint import load_model
from streamdl.models.spectrum import Spectrum
from tests.models.parity import assert_export_equals_eager
from tests.models.test_restorer import speech_like


def _frames(cutoff_hz: float | None) -> list[torch.Tensor]:
    """Step inputs of 0.6 s of speech-like sound, band-limited at ``cutoff_hz``: the cutoff is found on the way."""
    spec = Spectrum(load_model(shipped_model_path("restorer"), "restorer").config.network.stft).stft(speech_like(0.6, cutoff_hz))
    return [spec[:, t] for t in range(spec.shape[1])]


def test_kernel_equals_eager_on_the_shipped_weights():
    model = load_model(shipped_model_path("restorer"), "restorer")
    for cutoff_hz in (3400, 6000, None):
        assert_export_equals_eager(model, _frames(cutoff_hz), "numba", atol=1e-5)
