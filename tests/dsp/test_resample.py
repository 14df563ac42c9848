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


@pytest.mark.parametrize("rates", [(48000, 16000), (16000, 48000), (44100, 16000), (16000, 44100), (32000, 16000)])
@pytest.mark.parametrize("block", [1, 160, 441, 480, 1009])
def test_streaming_blocks_of_any_size_give_the_same_samples(rates, block):
    x = (0.1 * np.random.default_rng(1).standard_normal(rates[0] // 2)).astype(np.float32)
    whole = StreamResampler(*rates)(x)
    stream = StreamResampler(*rates)
    np.testing.assert_array_equal(np.concatenate([stream(x[i : i + block]) for i in range(0, len(x), block)]), whole)
    assert len(whole) == -(-len(x) * rates[1] // rates[0])


@pytest.mark.parametrize("rates, block, out", [((48000, 16000), 480, 160), ((16000, 48000), 160, 480), ((44100, 16000), 441, 160)])
def test_a_steady_stream_of_blocks_comes_out_steady_with_a_millisecond_of_delay(rates, block, out):
    """Every hop's worth of input gives a hop's worth of output at once: the live engine never waits on the resampler."""
    stream = StreamResampler(*rates)
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rates[0]) / rates[0])).astype(np.float32)
    outs = [stream(tone[i : i + block]) for i in range(0, len(tone), block)]
    assert {len(o) for o in outs} == {out}
    assert stream.delay_s < 0.0015
    y = np.concatenate(outs)
    ref = 0.5 * np.sin(2 * np.pi * 440 * (np.arange(len(y)) / rates[1] - stream.delay_s))
    assert np.abs(y - ref)[200:-200].max() < 1e-4


def test_downsampling_rejects_what_would_alias():
    stream = StreamResampler(48000, 16000)
    y = stream(np.sin(2 * np.pi * 9000 * np.arange(48000) / 48000).astype(np.float32))[500:]
    assert np.sqrt(np.mean(y**2)) < 1e-3  # 9 kHz cannot exist at 16 kHz: more than 57 dB down


def test_equal_rates_pass_through():
    x = np.ones(10, np.float32)
    assert StreamResampler(16000, 16000)(x) is x


@pytest.mark.parametrize("rate", [0, 500, 10_000_000])
def test_unsupported_rate(rate):
    with pytest.raises(StreamdlError, match="unsupported sample rate"):
        resample(np.zeros(10, np.float32), rate, 16000)
