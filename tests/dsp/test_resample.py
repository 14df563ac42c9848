import numpy as np
import pytest

from streamdl.dsp.resample import StreamResampler, resample
from streamdl.errors import StreamdlError


def test_whole_signal_keeps_a_tone_in_place():
    t = np.arange(48000) / 48000
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    y = resample(x, 48000, 16000)
    assert len(y) == 16000
    ref = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.abs(y[100:-100] - ref[100:-100]).max() < 1e-3  # zero phase: no delay


def test_streaming_blocks_of_any_size_give_the_whole_signal():
    x = np.random.default_rng(1).standard_normal((44100, 1)).astype(np.float32) * 0.1
    stream = StreamResampler(44100, 16000)
    blocks = [stream(x[i : i + 441]) for i in range(0, len(x), 441)] + [stream(np.zeros((0, 1), np.float32), last=True)]
    y = np.concatenate(blocks)
    assert abs(len(y) - 16000) <= 1


def test_equal_rates_pass_through():
    x = np.ones((10, 1), np.float32)
    assert StreamResampler(16000, 16000)(x) is x


@pytest.mark.parametrize("rate", [0, 500, 10_000_000])
def test_unsupported_rate(rate):
    with pytest.raises(StreamdlError, match="unsupported sample rate"):
        resample(np.zeros(10, np.float32), rate, 16000)
