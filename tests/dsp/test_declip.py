import numpy as np

from streamdl.assets import asset_path
from streamdl.dsp.declip import AFTER, CEILING, HISTORY, fill_clipped
from streamdl.engine.files import read_mono


def _voiced() -> np.ndarray:
    """A quarter second of the bundled clean speech, float64."""
    return read_mono(asset_path("sample_clean.flac"), 16000)[16000:20000].astype(np.float64)


def test_clipped_runs_are_restored_beyond_the_level_and_nothing_else_changes():
    x = _voiced()
    level = 0.4 * np.abs(x).max()
    y = np.clip(x, -level, level)
    clipped = np.abs(y) >= level
    clipped[:HISTORY] = False  # the history is known
    restored = y.copy()
    fill_clipped(restored, clipped, HISTORY, len(y), level, -level)
    np.testing.assert_array_equal(restored[~clipped], y[~clipped])
    assert np.all(np.abs(restored[clipped]) >= level * (1 - 1e-9)) and np.all(np.abs(restored) <= CEILING * level)
    assert np.all(np.sign(restored[clipped]) == np.sign(y[clipped]))
    error = lambda z: np.sum((z - x)[HISTORY:] ** 2)  # noqa: E731
    assert error(restored) < error(y) / 2  # more than 3 dB closer to the original


def test_only_runs_that_begin_in_the_range_are_written_and_each_to_its_end():
    x = _voiced()
    level = 0.4 * np.abs(x).max()
    y = np.clip(x, -level, level)
    clipped = np.abs(y) >= level
    clipped[:HISTORY] = False
    starts = np.flatnonzero(np.diff(clipped.astype(int)) == 1) + 1
    a = starts[starts > HISTORY + 100][0]  # a run, and the range ends inside it
    restored = y.copy()
    fill_clipped(restored, clipped, HISTORY, a + 1, level, -level)
    end = a + np.argmin(clipped[a:])
    assert np.all(restored[a:end] != y[a:end]) or np.all(np.abs(restored[a:end]) >= level)
    np.testing.assert_array_equal(restored[end:], y[end:])  # later runs wait for their turn
    assert AFTER < len(y)
