import pytest
import torch
from pystoi import stoi

from streamdl.dsp.stft import STFTConfig
from streamdl.models.spectrum import Spectrum
from streamdl.training.losses import compressed_spectral_loss, si_sdr, stoi_loss


def test_under_suppression_costs_less_than_cutting_speech():
    ref = torch.ones(1, 4, 10, 2)
    assert compressed_spectral_loss(ref * 0.5, ref) > compressed_spectral_loss(ref * 1.5, ref)


def test_si_sdr_is_scale_invariant():
    x = torch.randn(2, 1000)
    noisy = x + 0.1 * torch.randn(2, 1000)
    torch.testing.assert_close(si_sdr(3 * noisy, x), si_sdr(noisy, x))


def test_differentiable_stoi_tracks_pystoi(sample_pair):
    spectrum = Spectrum(STFTConfig())
    clean, noisy = sample_pair
    for degraded in (noisy, clean + 0.5 * (noisy - clean)):
        est, ref = (spectrum.stft(torch.from_numpy(x)[None]) for x in (degraded, clean))
        ours = 1 - float(stoi_loss(est, ref, spectrum.config))
        assert ours == pytest.approx(stoi(clean, degraded, 16000), abs=0.03)


def test_differentiable_stoi_is_zero_for_a_perfect_estimate_and_ignores_silence(sample_pair):
    spectrum = Spectrum(STFTConfig())
    ref = spectrum.stft(torch.from_numpy(sample_pair[0])[None])
    assert float(stoi_loss(ref, ref, spectrum.config)) == pytest.approx(0.0, abs=1e-5)
    est = torch.randn(1, 300, 161, 2, requires_grad=True)
    loss = stoi_loss(est, torch.zeros(1, 300, 161, 2), spectrum.config)  # noise-only example: nothing to correlate
    loss.backward()
    assert loss.item() == 1.0 and torch.isfinite(est.grad).all()


def test_differentiable_stoi_drops_silent_frames_as_stoi_does(noisy_pauses):
    spectrum = Spectrum(STFTConfig())
    clean, noisy = noisy_pauses
    est, ref = (spectrum.stft(torch.from_numpy(x)[None]) for x in (noisy, clean))
    target = stoi(clean, noisy, 16000)  # 0.984: STOI sees the pauses' edges only
    assert 1 - float(stoi_loss(est, ref, spectrum.config, dyn_range_db=40)) == pytest.approx(target, abs=0.005)
    assert 1 - float(stoi_loss(est, ref, spectrum.config)) < target - 0.015  # without dropping frames, the pauses cost


def test_differentiable_stoi_leaves_speech_free_examples_out_of_a_batch(sample_pair):
    spectrum = Spectrum(STFTConfig())
    ref = spectrum.stft(torch.from_numpy(sample_pair[0])[None])
    batch = torch.cat([ref, torch.zeros_like(ref)])
    for dyn_range_db in (None, 40):
        assert float(stoi_loss(batch, batch, spectrum.config, dyn_range_db=dyn_range_db)) == pytest.approx(0.0, abs=1e-5)
