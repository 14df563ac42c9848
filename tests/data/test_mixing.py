
import numpy as np
import pytest

from streamdl.data.configs import MixConfig
from streamdl.data.examples import fixed_examples
from streamdl.data.mixing import (
    SYNTHETIC_KINDS,
    Mixer,
    random_speed,
    sped_up,
    synthetic_noise,
    synthetic_texture,
)
from streamdl.errors import StreamdlError


def test_pairs_are_finite_bounded_and_consistent(tiny_corpus):
    corpus, _ = tiny_corpus
    mixer = Mixer(corpus, "train", MixConfig(seconds=1.0))
    rng = np.random.default_rng(0)
    for _ in range(40):
        noisy, clean = mixer.pair(rng)
        assert noisy.shape == clean.shape == (16000,)
        assert np.isfinite(noisy).all() and np.abs(noisy).max() <= 0.99 + 1e-6


def test_fixed_pairs_are_reproducible(tiny_corpus):
    corpus, _ = tiny_corpus
    mixer = Mixer(corpus, "val", MixConfig(seconds=0.5))
    a, b = fixed_examples(mixer.pair, 3, seed=7), fixed_examples(mixer.pair, 3, seed=7)
    assert np.array_equal(a[0].numpy(), b[0].numpy()) and a[0].shape == (3, 8000)


@pytest.mark.parametrize("kind", (*SYNTHETIC_KINDS, "tone"))
@pytest.mark.parametrize("seed", range(2))
def test_synthetic_noises_are_finite_unit_rms(kind, seed):
    x = synthetic_noise(np.random.default_rng(seed), 16000, 16000, kinds=(kind,))
    assert np.isfinite(x).all() and abs(np.sqrt(np.mean(x**2)) - 1) < 1e-3


@pytest.mark.parametrize("seed", range(4))
def test_texture_noise_is_finite_unit_rms_and_not_white(seed):
    x = synthetic_texture(np.random.default_rng(seed), 32000, 16000)
    assert np.isfinite(x).all() and abs(np.sqrt(np.mean(x**2)) - 1) < 1e-3
    bands = np.add.reduceat(np.abs(np.fft.rfft(x)) ** 2, np.arange(0, 16001, 2000))
    assert bands.max() / bands.min() > 2  # a spectral envelope, not flat


@pytest.mark.parametrize("speed", [0.7, 1.0, 1.4])
def test_sped_up_keeps_the_length_and_moves_the_pitch(speed):
    tone = lambda rng, n: np.sin(2 * np.pi * 500 * np.arange(n) / 16000).astype(np.float32)  # noqa: E731
    x = sped_up(tone, np.random.default_rng(0), 16000, speed)
    assert x.shape == (16000,)
    peak_hz = np.argmax(np.abs(np.fft.rfft(x[2000:14000]))) * 16000 / 12000
    assert peak_hz == pytest.approx(500 * speed, abs=3)


def test_random_speeds_stay_in_range_and_halve_as_often_as_they_double():
    rng = np.random.default_rng(0)
    speeds = np.array([random_speed(rng, (0.5, 2.0)) for _ in range(4000)])
    assert speeds.min() >= 0.5 and speeds.max() <= 2.0
    assert np.median(speeds) == pytest.approx(1.0, abs=0.05)


def test_missing_pool(tmp_path):
    with pytest.raises(StreamdlError, match="streamdl data build"):
        Mixer(tmp_path, "train")
