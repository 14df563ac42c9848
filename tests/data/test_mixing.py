import json

import numpy as np
import pytest
import soundfile as sf

from streamdl.data.examples import fixed_examples
from streamdl.data.mixing import (
    SYNTHETIC_KINDS,
    MixConfig,
    Mixer,
    Pool,
    random_speed,
    sped_up,
    synthetic_noise,
    synthetic_texture,
    write_evaluation_pairs,
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


@pytest.mark.parametrize("kind", SYNTHETIC_KINDS)
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


def test_evaluation_pairs_match_by_name(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    write_evaluation_pairs(corpus, tmp_path, count=4, seconds=1.0)
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == sorted(p.name for p in (tmp_path / "noisy").iterdir())


def test_evaluation_pairs_can_take_the_noise_from_a_folder(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    hum = 0.3 * np.sin(2 * np.pi * 100 * np.arange(22050) / 44100)  # 0.5 s of 100 Hz at 44.1 kHz
    sf.write(tmp_path / "hum.wav", hum, 44100)
    assert Pool.from_files(tmp_path).offsets.tolist() == [0, 8000]
    write_evaluation_pairs(corpus, tmp_path / "pairs", count=3, seconds=1.0, noise_dir=tmp_path)
    for name in ("pair000_snr0.wav", "pair002_snr10.wav"):
        clean, _ = sf.read(tmp_path / "pairs" / "clean" / name)
        noisy, _ = sf.read(tmp_path / "pairs" / "noisy" / name)
        noise = noisy - clean
        spectrum = np.abs(np.fft.rfft(noise))
        assert abs(np.argmax(spectrum) * 16000 / len(noise) - 100) < 2  # the folder's hum, looped
        snr = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
        assert snr == pytest.approx(float(name.split("snr")[1][:-4]), abs=0.2)
    manifest = json.loads((tmp_path / "pairs" / "pairs.json").read_text())
    assert [(m["pair"], m["noise"], m["snr_db"]) for m in manifest] == [
        ("pair000_snr0.wav", "hum.wav", 0.0), ("pair001_snr5.wav", "hum.wav", 5.0), ("pair002_snr10.wav", "hum.wav", 10.0)]
    assert all(m["speech"].startswith("user-speech:") for m in manifest)  # the corpus clip each pair's speech starts in


def test_missing_pool(tmp_path):
    with pytest.raises(StreamdlError, match="streamdl data build"):
        Mixer(tmp_path, "train")
