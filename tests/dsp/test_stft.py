import numpy as np
import pytest
import torch

from streamdl.dsp.stft import STFTConfig, StreamingISTFT, StreamingSTFT, analysis_window, istft, stft
from streamdl.errors import StreamdlError
from streamdl.models.spectrum import Spectrum

CONFIGS = [STFTConfig(), STFTConfig(n_fft=512, hop=128), STFTConfig(n_fft=480, hop=160), STFTConfig(48000, 960, 480)]


@pytest.fixture
def signal():
    return (0.3 * np.random.default_rng(0).standard_normal(16000 + 37)).astype(np.float32)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_identity_reconstruction_after_delay(config, signal):
    y = istft(stft(signal, config), config)
    d = config.delay_samples
    assert np.abs(y[d : len(signal)] - signal[: len(signal) - d]).max() < 1e-6


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_streaming_frames_equal_offline_frames(config, signal):
    offline = stft(signal, config)
    analysis, synthesis = StreamingSTFT(config), StreamingISTFT(config)
    padded = np.pad(signal, (0, len(offline) * config.hop - len(signal)))
    frames, out = [], []
    for t in range(len(offline)):
        frames.append(analysis(padded[t * config.hop : (t + 1) * config.hop]).copy())
        out.append(synthesis(frames[-1]).copy())
    np.testing.assert_array_equal(np.array(frames), offline)
    np.testing.assert_array_equal(np.concatenate(out), istft(offline, config))


def test_frames_match_a_numpy_reference(signal):
    """Frame t is the windowed rfft of input samples [t*hop + hop - n_fft, t*hop + hop)."""
    config = STFTConfig()
    padded = np.concatenate([np.zeros(config.n_fft - config.hop, np.float32), signal, np.zeros(config.hop, np.float32)])
    frames = stft(signal, config)
    for t in (0, 1, 2, 50, len(frames) - 1):
        ref = np.fft.rfft(padded[t * config.hop : t * config.hop + config.n_fft] * analysis_window(config.n_fft))
        np.testing.assert_allclose(frames[t], ref, atol=2e-5)


def test_torch_spectrum_matches_numba(signal):
    config = STFTConfig()
    spectrum = Spectrum(config)
    frames = torch.view_as_complex(spectrum.stft(torch.from_numpy(signal)[None])[0]).numpy()
    np.testing.assert_allclose(frames, stft(signal, config), atol=1e-5)
    spec = stft(signal, config)
    wave = spectrum.istft(torch.from_numpy(np.stack([spec.real, spec.imag], -1))[None])[0].numpy()
    np.testing.assert_allclose(wave, istft(spec, config), atol=1e-6)


@pytest.mark.parametrize("n_fft, hop", [(320, 150), (100, 160), (320, 0)])
def test_frame_must_be_a_multiple_of_the_hop(n_fft, hop):
    with pytest.raises(StreamdlError, match="multiple of the hop"):
        STFTConfig(n_fft=n_fft, hop=hop)


def test_latency_figures():
    config = STFTConfig()
    assert config.delay_samples == 160
    assert config.algorithmic_latency_ms == 20.0
    assert config.hop_ms == 10.0
