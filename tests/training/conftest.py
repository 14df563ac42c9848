import numpy as np
import pytest
import soundfile as sf

from streamdl.assets import shipped_model_path


@pytest.fixture(scope="session")
def sample_pair() -> tuple[np.ndarray, np.ndarray]:
    """The bundled sample's first 6 s, clean and noisy, float32 at 16 kHz."""
    folder = shipped_model_path("denoiser").parent
    clean, noisy = (sf.read(folder / name, dtype="float32") for name in ("sample_clean.flac", "sample_noisy.flac"))
    assert clean[1] == noisy[1] == 16000
    return clean[0][:96000], noisy[0][:96000]


@pytest.fixture(scope="session")
def noisy_pauses(sample_pair) -> tuple[np.ndarray, np.ndarray]:
    """Clean speech with two 200 ms pauses between words, and the same with noise in the pauses only."""
    speech, pause = sample_pair[0], np.zeros(3200, np.float32)
    clean = np.concatenate([speech[:24000], pause, speech[24000:48000], pause, speech[48000:]])
    noise = 0.05 * np.random.default_rng(0).standard_normal(len(clean)).astype(np.float32) * (clean == 0)
    return clean, clean + noise
