import numpy as np
import pytest

from streamdl.dsp.filterbank import bands_to_bins, erb_filterbank, mel_filterbank, normalized
from streamdl.errors import StreamdlError


def test_erb_bands_cover_every_bin_once():
    fb = erb_filterbank(161, 16000, 32)
    assert fb.shape == (32, 161) and fb.dtype == np.float32
    np.testing.assert_allclose(fb.sum(axis=0), 1.0, atol=1e-6)
    assert (fb.sum(axis=1) > 0).all()
    centers = fb.argmax(axis=1)
    assert (np.diff(centers) >= 1).all()  # bands are distinct even at the bottom
    assert (np.diff(centers)[-5:] > np.diff(centers)[:5]).all()  # and widen with frequency


def test_band_gains_spread_back_to_bins():
    fb = erb_filterbank(161, 16000, 32)
    np.testing.assert_allclose(bands_to_bins(fb) @ np.ones(32), 1.0, atol=1e-6)
    power = np.random.default_rng(0).random(161).astype(np.float32)
    band_mean = normalized(fb) @ power
    assert band_mean.min() >= power.min() and band_mean.max() <= power.max()


def test_mel_bands_within_limits():
    fb = mel_filterbank(257, 16000, 64, fmin=125, fmax=7500)
    assert fb.shape == (64, 257)
    bins_hz = np.linspace(0, 8000, 257)
    assert fb[:, bins_hz < 125].sum() == 0 and fb[:, bins_hz > 7500].sum() == 0
    assert (fb.sum(axis=1) > 0).all()


@pytest.mark.parametrize("call", [lambda: erb_filterbank(161, 16000, 1), lambda: mel_filterbank(161, 16000, 40, fmin=9000)])
def test_bad_arguments(call):
    with pytest.raises(StreamdlError):
        call()
