"""Soft saturation found from the half cycles' peaks, and undone."""

import numpy as np
import pytest

from streamdl.assets import asset_path
from streamdl.data.damage import clipped
from streamdl.dsp.saturation import SaturationTracker, _half_cycle_peaks, desaturated
from streamdl.engine.files import read_mono


@pytest.fixture(scope="module")
def speech():
    x = read_mono(asset_path("sample_clean.flac"), 16000)
    return x / np.abs(x).max() * 0.5


def _tracked(y, block=160):
    tracker = SaturationTracker(rail=1e-4)
    for i in range(0, len(y), block):
        tracker.update(y[i : i + block])
    return tracker


def test_half_cycle_peaks_are_found_across_blocks():
    t = np.arange(1600) / 16000
    wave = (np.sin(2 * np.pi * 100 * t + 0.1) * np.repeat([0.2, 0.4], 800)).astype(np.float64)
    peaks, out = [], np.empty(1600)
    sign, running = 1.0, 0.0
    for i in range(0, 1600, 37):  # blocks that cut half cycles anywhere
        sign, running, n = _half_cycle_peaks(wave[i : i + 37], sign, running, out)
        peaks += out[:n].tolist()
    assert len(peaks) == 20  # 20 half cycles of 100 Hz ended; the 21st (0.1 rad of it) is still open
    np.testing.assert_allclose(peaks[:10], 0.2, rtol=1e-3)
    np.testing.assert_allclose(peaks[10:], 0.4, rtol=1e-3)


def test_whole_speech_is_not_taken_for_saturated(speech):
    assert _tracked(speech).level == np.inf


@pytest.mark.parametrize("drive", [4.0, 10.0])
def test_a_saturation_is_found_near_its_level_and_undone(speech, drive):
    level = 0.5 / drive
    damaged = clipped(speech, level, soft=True)
    found = _tracked(damaged).level
    assert level * 0.98 < found < level * 1.02
    restored = desaturated(damaged, found)
    sdr = lambda y: 10 * np.log10(np.sum(speech**2) / np.sum((speech - y * (speech @ y) / (y @ y)) ** 2))  # noqa: E731
    assert sdr(restored) > sdr(damaged) + 6.0


def test_desaturated_inverts_the_saturation():
    x = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(desaturated(0.3 * np.tanh(x / 0.3), 0.3), x, atol=1e-9)
