import numpy as np
import pytest

from streamdl.data.configs import DamageConfig
from streamdl.data.damage import Damager, band_limited, clipped, is_wideband, telephone, wideband, with_gaps
from streamdl.data.mixing import Pool
from streamdl.errors import StreamdlError

RATE = 16000


def band_power_db(x: np.ndarray, lo: float, hi: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(10 * np.log10(power[(freqs >= lo) & (freqs < hi)].mean() + 1e-20))


@pytest.fixture(scope="module")
def noise():
    return (0.1 * np.random.default_rng(0).standard_normal(RATE)).astype(np.float32)


@pytest.mark.parametrize("cutoff", [3400, 5000, 7000])
def test_band_limited_keeps_below_the_cutoff_and_removes_above(noise, cutoff):
    y = band_limited(noise, RATE, cutoff)
    assert y.shape == noise.shape and y.dtype == np.float32
    assert abs(band_power_db(y, 500, cutoff - 500) - band_power_db(noise, 500, cutoff - 500)) < 0.5
    assert band_power_db(y, cutoff + 300, 8000) < band_power_db(noise, cutoff + 300, 8000) - 45


def test_telephone_keeps_the_telephone_band_only(noise):
    y = telephone(noise, RATE)
    assert y.shape == noise.shape
    assert abs(band_power_db(y, 600, 3000) - band_power_db(noise, 600, 3000)) < 1.0
    assert band_power_db(y, 4200, 8000) < band_power_db(noise, 4200, 8000) - 40
    assert band_power_db(y, 0, 150) < band_power_db(noise, 0, 150) - 10


def test_wideband_keeps_only_clips_that_reach_the_top(noise):
    clips = [noise, band_limited(np.tile(noise, 2), RATE, 4000)[8000:24000], noise[:8000]]  # (its middle: no resampler edges)
    pool = Pool((np.concatenate(clips) * 32767).astype(np.int16), np.array([0, 16000, 32000, 40000]), np.array(["a", "b", "c"]))
    assert [is_wideband(c, RATE) for c in clips] == [True, False, True]
    assert list(wideband(pool, RATE).names) == ["a", "c"]
    with pytest.raises(StreamdlError, match="no wideband speech"):
        wideband(Pool(pool.audio[16000:32000], np.array([0, 16000]), np.array(["b"])), RATE)


def test_damager_pairs_are_damaged_copies_of_clean_speech(tmp_path, noise):
    audio = (np.tile(noise, 4) * 32767).astype(np.int16)
    np.savez(tmp_path / "speech_train.npz", audio=audio, offsets=np.array([0, len(audio)]), names=np.array(["n"]))
    damager = Damager(tmp_path, "train", DamageConfig(seconds=1.0, p_clean=0.3))
    rng = np.random.default_rng(0)
    pairs = [damager.pair(rng) for _ in range(20)]
    assert all(d.shape == c.shape == (RATE,) and d.dtype == c.dtype == np.float32 for d, c in pairs)
    untouched = sum(np.array_equal(d, c) for d, c in pairs)
    assert 0 < untouched < 20  # some left whole, the rest damaged
    for d, c in pairs:  # a damaged one lost a band somewhere between the lowest and the highest cutoff
        loss = min(band_power_db(d, f, f + 200) - band_power_db(c, f, f + 200) for f in range(3400, 7200, 200))
        assert np.array_equal(d, c) or loss < -20


def test_clipping_hard_and_soft(noise):
    hard, soft = clipped(noise, 0.05), clipped(noise, 0.05, soft=True)
    assert np.abs(hard).max() == pytest.approx(0.05) and (np.abs(hard) == np.float32(0.05)).mean() > 0.1
    assert np.abs(soft).max() < 0.05 and np.all(np.sign(soft) == np.sign(noise))


def test_gaps_are_digital_silence_of_the_asked_length(noise):
    y = with_gaps(np.ones(RATE * 10, np.float32), RATE, np.random.default_rng(0), per_second=2.0, ms=(20.0, 20.0))
    edges = np.flatnonzero(np.diff((y == 0).astype(int)))
    runs = edges[1::2] - edges[::2]
    assert 10 <= len(runs) <= 30 and np.all(runs % 320 == 0)  # whole 20 ms gaps (some may touch)
