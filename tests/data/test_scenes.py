"""Tagger scenes: shapes, 0/1 frame labels that follow the audio, silence, synthetic sounds."""

import numpy as np
import pytest

from streamdl.data.configs import SceneConfig
from streamdl.data.examples import fixed_examples
from streamdl.data.mixing import _breaking_waves, synthetic_applause, synthetic_traffic, synthetic_water, synthetic_wind
from streamdl.data.scenes import FRAME, SceneMaker, synthetic_alarm
from streamdl.labels import LABELS


@pytest.mark.parametrize("make", [synthetic_wind, synthetic_alarm, synthetic_water, synthetic_traffic, synthetic_applause])
@pytest.mark.parametrize("seed", range(5))
def test_synthetic_sounds_are_finite_unit_rms(make, seed):
    x = make(np.random.default_rng(seed), 32000, 16000)
    assert x.dtype == np.float32 and np.isfinite(x).all()
    assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0, rel=1e-3)


def low_shares(make, seeds: int, below_hz: float) -> list[float]:
    """Share of each 2 s synthetic sound's energy below ``below_hz``, over seeds."""
    shares = []
    for seed in range(seeds):
        x = make(np.random.default_rng(seed), 32000, 16000)
        power = np.abs(np.fft.rfft(x)) ** 2
        shares.append(power[np.fft.rfftfreq(len(x), 1 / 16000) < below_hz].sum() / power.sum())
    return shares


def test_synthetic_water_ranges_from_hiss_to_roar():
    """Rain and streams hiss; waterfalls, raging rivers and close surf roar below 250 Hz."""
    shares = low_shares(synthetic_water, 24, 250)
    assert min(shares) < 0.1 and max(shares) > 0.8


def test_synthetic_traffic_rumbles_below_1khz_as_recorded_vehicles_do():
    shares = low_shares(synthetic_traffic, 12, 1000)
    assert min(shares) > 0.75 and np.mean(shares) > 0.85


def test_waves_swell_briefly_and_wash_out_slowly():
    """Surf is lopsided in time (a short swell, a long wash), unlike a vehicle's symmetric pass-by."""
    for seed in range(12):
        env = _breaking_waves(np.random.default_rng(seed), 8 * 16000, 16000)
        assert env.min() >= 0 and env.max() <= 1
        assert np.mean(np.diff(env) > 0) < 0.35


def test_scenes_have_frame_labels_that_follow_the_audio(tiny_corpus):
    corpus, _ = tiny_corpus
    maker = SceneMaker(corpus, "train", SceneConfig(seconds=3.0))
    rng = np.random.default_rng(0)
    seen = np.zeros(len(LABELS))
    for _ in range(40):
        audio, labels = maker.scene(rng)
        assert audio.dtype == np.float32 and np.isfinite(audio).all() and np.abs(audio).max() <= 0.99 + 1e-6
        assert labels.shape == (len(audio) // FRAME, len(LABELS)) and set(np.unique(labels)) <= {0.0, 1.0}
        frame_db = 10 * np.log10(np.mean(audio.reshape(-1, FRAME) ** 2, axis=1) + 1e-12)
        assert (frame_db[labels[:, LABELS.index("speech")] > 0] > -75).all()  # labelled speech is audible
        seen += labels.max(axis=0)
    assert seen[LABELS.index("speech")] > 0 and seen[LABELS.index("silence")] > 0
    for label in ("wind", "alarm", "water", "vehicle"):  # synthetic when the corpus has none
        assert seen[LABELS.index(label)] > 0, label


def test_silence_is_labelled_when_nothing_plays(tiny_corpus):
    corpus, _ = tiny_corpus
    maker = SceneMaker(corpus, "train", SceneConfig(seconds=2.0, p_background=0.0, max_events=0, floor_db=(-90.0, -80.0)))
    audio, labels = maker.scene(np.random.default_rng(1))
    assert labels[:, LABELS.index("silence")].all() and labels.sum() == labels.shape[0]


def test_fixed_scenes_are_reproducible(tiny_corpus):
    corpus, _ = tiny_corpus
    maker = SceneMaker(corpus, "val", SceneConfig(seconds=1.0))
    a, la = fixed_examples(maker.scene, 3, seed=5)
    b, lb = fixed_examples(maker.scene, 3, seed=5)
    assert (a == b).all() and (la == lb).all() and a.shape == (3, 16000) and la.shape == (3, 50, len(LABELS))
