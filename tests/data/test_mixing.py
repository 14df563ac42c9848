import numpy as np
import pytest

from streamdl.data.examples import fixed_examples
from streamdl.data.mixing import MixConfig, Mixer, synthetic_noise, write_evaluation_pairs
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


@pytest.mark.parametrize("seed", range(12))
def test_synthetic_noises_are_finite_unit_rms(seed):
    x = synthetic_noise(np.random.default_rng(seed), 16000, 16000)
    assert np.isfinite(x).all() and abs(np.sqrt(np.mean(x**2)) - 1) < 1e-3


def test_evaluation_pairs_match_by_name(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    write_evaluation_pairs(corpus, tmp_path, count=4, seconds=1.0)
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == sorted(p.name for p in (tmp_path / "noisy").iterdir())


def test_missing_pool(tmp_path):
    with pytest.raises(StreamdlError, match="streamdl data build"):
        Mixer(tmp_path, "train")
