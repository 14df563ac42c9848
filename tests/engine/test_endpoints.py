"""Sources the live engine captures from: a file stands in for a microphone, block by block."""

import numpy as np
import pytest
import soundfile as sf

from streamdl.engine.endpoints import FileInput
from streamdl.errors import StreamdlError


@pytest.fixture
def ramp(tmp_path):
    x = (np.arange(1000) / 1000).astype(np.float32)
    sf.write(tmp_path / "ramp.wav", x, 16000, subtype="FLOAT")
    return tmp_path / "ramp.wav", x


def _capture_all(source: FileInput, blocks: int, frames: int) -> np.ndarray:
    return np.concatenate([source.capture(None, frames)[:, 0].copy() for _ in range(blocks)])


def test_a_file_is_captured_in_blocks_and_then_ends(ramp):
    path, x = ramp
    source = FileInput(path)
    assert source.rate(48000) == 16000  # with no device to follow, the file's own rate
    source.open(16000, 160)
    got = _capture_all(source, 8, 160)  # 1280 frames asked for, 1000 there
    np.testing.assert_array_equal(got, x)
    assert source.finished and len(source.capture(None, 160)) == 0


def test_a_looped_file_wraps_around_without_a_gap(ramp):
    path, x = ramp
    source = FileInput(path, loop=True)
    source.open(16000, 333)
    got = _capture_all(source, 9, 333)
    np.testing.assert_array_equal(got, np.resize(x, len(got)))
    assert not source.finished


def test_a_file_is_read_at_the_streams_rate(ramp):
    path, _ = ramp
    source = FileInput(path)
    source.open(48000, 480)
    assert len(_capture_all(source, 10, 480)) == 3000


def test_an_empty_file_is_a_one_line_error(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(StreamdlError, match="holds no audio samples"):
        FileInput(tmp_path / "empty.wav")
