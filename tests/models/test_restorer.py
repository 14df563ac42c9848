import numpy as np
import pytest
import torch

from streamdl.data.damage import band_limited
from streamdl.models.configs import DenoiserConfig, RestorerConfig
from streamdl.models.restorer import Restorer
from streamdl.models.spectrum import Spectrum
from tests.models.parity import assert_chunked_equals_whole, assert_export_equals_eager

SMALL = RestorerConfig(network=DenoiserConfig(erb_bands=16, df_bins=16, df_order=2, conv_channels=24, gru_hidden=16, extra_inputs=16, max_gain=4.0))


def lively(m: Restorer) -> Restorer:
    """``m`` with every weight nudged, so that its gains and deep filter vary from bin to bin."""
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m


def speech_like(seconds: float, cutoff_hz: float | None, seed: int = 0) -> torch.Tensor:
    """Pitched pulses through a vowel-ish resonance plus breath noise, band-limited at ``cutoff_hz``: (1, samples)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    pulses = np.zeros(n, np.float32)
    pulses[:: 16000 // 140] = 1.0
    x = np.convolve(pulses, np.exp(-np.arange(200) / 30) * np.sin(np.arange(200) * 0.3))[:n] + 0.05 * rng.standard_normal(n)
    x = (0.1 * x / np.abs(x).max()).astype(np.float32)
    return torch.from_numpy(band_limited(x, 16000, cutoff_hz) if cutoff_hz else x)[None]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return lively(Restorer(SMALL)).eval()


@pytest.fixture(scope="module")
def spec():
    return Spectrum(SMALL.network.stft).stft(torch.cat([speech_like(0.5, 4000), speech_like(0.5, None, seed=1)]))


@pytest.mark.parametrize("chunk", [1, 2, 5, 13, 50])
def test_chunked_and_stepped_equal_whole(model, spec, chunk):
    assert_chunked_equals_whole(model, spec, chunk)


@torch.no_grad()
def test_causal(model, spec):
    changed = spec.clone()
    changed[:, 30:] = 0.0
    torch.testing.assert_close(model(changed)[:, :30], model(spec)[:, :30])


@pytest.mark.parametrize("cutoff_hz", [3400, 4000, 5500, 7000])
@torch.no_grad()
def test_finds_the_cutoff_of_band_limited_speech(cutoff_hz):
    restorer = Restorer(SMALL)
    spec = Spectrum(SMALL.network.stft).stft(speech_like(1.0, cutoff_hz))
    means, _, _ = restorer.long_term(spec.pow(2).sum(-1), torch.zeros(1, spec.shape[2]), torch.zeros(1, 1))
    found = restorer.cutoffs(means)[0, -1].item() * 50  # Hz: bins are 50 Hz apart
    assert cutoff_hz - 400 <= found <= cutoff_hz + 100


@torch.no_grad()
def test_whole_speech_is_not_filled():
    restorer = Restorer(SMALL)
    spec = Spectrum(SMALL.network.stft).stft(speech_like(1.0, None))
    means, _, _ = restorer.long_term(spec.pow(2).sum(-1), torch.zeros(1, spec.shape[2]), torch.zeros(1, 1))
    cutoff = restorer.cutoffs(means)
    assert (cutoff == spec.shape[2]).all()
    filled, share = restorer.filled(spec, cutoff)
    assert torch.equal(filled, spec) and not share.any()


@torch.no_grad()
def test_a_stream_that_opens_on_a_dull_vowel_is_not_taken_for_band_limited(model):
    """A vowel's spectrum can fall 50 dB by 5 kHz: in a stream's first moments only a deeper stopband counts."""
    t = np.arange(int(0.3 * 16000)) / 16000
    vowel = sum((150 * k / 150.0) ** -2.0 * np.sin(2 * np.pi * 150 * k * t) for k in range(1, 53)).astype(np.float32)
    x = torch.cat([torch.from_numpy(0.1 * vowel / np.abs(vowel).max())[None], speech_like(0.7, None, seed=2)], dim=1)
    spec = Spectrum(SMALL.network.stft).stft(x)
    means, _, _ = model.long_term(spec.pow(2).sum(-1), torch.zeros(1, spec.shape[2]), torch.zeros(1, 1))
    assert (model.cutoffs(means)[0, 5:25] < spec.shape[2]).all()  # at the usual 50 dB the vowel looks cut near 5 kHz
    assert torch.equal(model(spec), spec)


@torch.no_grad()
def test_the_fill_copies_from_below_the_cutoff_by_even_shifts():
    restorer = Restorer(SMALL)
    spec = torch.randn(1, 3, 161, 2)
    filled, share = restorer.filled(spec, torch.tensor([[80, 80, 161]]))
    assert torch.equal(filled[0, 0, :80], spec[0, 0, :80])
    assert torch.equal(filled[0, 0, 80:120], spec[0, 0, 40:80]) and torch.equal(filled[0, 0, 120:160], spec[0, 0, 40:80])
    assert torch.equal(filled[0, 2], spec[0, 2])
    assert share[0, 0, -1].item() == pytest.approx(1.0) and share[0, 0, 0] == 0.0 and not share[0, 2].any()


@torch.no_grad()
def test_whole_speech_passes_unchanged_and_band_limited_speech_is_restored(model):
    whole, narrow = (Spectrum(SMALL.network.stft).stft(speech_like(0.5, cutoff)) for cutoff in (None, 4000))
    assert torch.equal(model(whole), whole)
    restored = model(narrow)
    assert not torch.equal(restored[:, 10:], narrow[:, 10:])  # once the cutoff is found
    below = model.lowest_bin  # no cutoff is found below it
    assert torch.equal(restored[:, :, :below], narrow[:, :, :below])  # only what is missing is made


@pytest.mark.parametrize("backend", ["numba", "torchscript", "onnx"])
def test_exported_step_equals_eager(model, spec, backend):
    assert_export_equals_eager(model, [spec[:1, t] for t in range(0, 50, 3)], backend, atol=2e-5)


def test_config_must_give_the_network_the_filled_shares():
    from streamdl.errors import StreamdlError

    with pytest.raises(StreamdlError, match="extra_inputs must equal erb_bands"):
        RestorerConfig(network=DenoiserConfig(extra_inputs=0))
