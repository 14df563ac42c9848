import numpy as np
import pytest
import soundfile as sf

from streamdl.dsp.resample import resample
from streamdl.engine.chain import Chain
from streamdl.engine.files import output_paths, process_array, process_channel, process_file, read_mono
from streamdl.errors import StreamdlError
from streamdl.stages.denoiser import StreamingDenoiser


@pytest.mark.parametrize("rate, channels", [(16000, 1), (44100, 2), (48000, 1), (8000, 1)])
def test_arrays_keep_rate_length_and_channels(rate, channels):
    t = np.arange(int(rate * 0.7)) / rate
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None].repeat(channels, 1)
    y = process_array(Chain(), x, rate)
    assert y.shape == x.shape
    mid = slice(len(x) // 4, 3 * len(x) // 4)
    np.testing.assert_allclose(y[mid], x[mid], atol=2e-3)  # aligned: no delay left


@pytest.mark.parametrize("gain", [1.0, 0.5, 0.0])
def test_wideband_input_keeps_its_highs_scaled_like_the_top_band(gain):
    x = 0.1 * np.random.default_rng(0).standard_normal((48000, 1)).astype(np.float32)  # white up to 24 kHz
    y = process_array(Chain(stages=[lambda spec: spec * np.float32(gain)]), x, 48000)
    mid = slice(4800, -4800)
    np.testing.assert_allclose(y[mid], gain * x[mid], atol=0.01)  # above 8 kHz too, not only the chain's band


@pytest.mark.parametrize("rate", [48000, 8000])
def test_segments_give_what_the_whole_signal_gives(rate):
    n = int(rate * 3.7) + 13  # segments of 1 s: three whole ones and a ragged end
    x = (0.1 * np.random.default_rng(1).standard_normal(n) * np.sin(np.arange(n) / rate * 3)).astype(np.float32)

    def run(segment_s):
        out, covered = np.full(n, np.nan, np.float32), 0
        for start, piece in process_channel(Chain(stages=[StreamingDenoiser()]), lambda a, b: x[a:b], n, rate, segment_s):
            assert start == covered  # in order, no gaps
            out[start : start + len(piece)] = piece
            covered += len(piece)
        assert covered == n
        return out

    np.testing.assert_allclose(run(1), run(100), atol=1e-4)


def test_a_file_streams_to_what_the_array_gives(tmp_path):
    x = (0.1 * np.random.default_rng(2).standard_normal((44100 * 2 + 7, 2))).astype(np.float32)
    sf.write(tmp_path / "in.wav", x, 44100, subtype="FLOAT")
    process_file(Chain(stages=[lambda spec: spec * np.float32(0.5)]), tmp_path / "in.wav", tmp_path / "out.wav")
    y, rate = sf.read(tmp_path / "out.wav", dtype="float32")
    assert rate == 44100 and y.shape == x.shape
    np.testing.assert_allclose(y, process_array(Chain(stages=[lambda spec: spec * np.float32(0.5)]), x, 44100), atol=1e-4)


def test_a_long_file_read_in_segments_equals_the_whole_file_resampled(tmp_path):
    x = (0.1 * np.random.default_rng(3).standard_normal((8000 * 65 + 3, 2))).astype(np.float32)  # three segments
    sf.write(tmp_path / "in.wav", x, 8000, subtype="FLOAT")
    np.testing.assert_allclose(read_mono(tmp_path / "in.wav", 16000), resample(x.mean(axis=1), 8000, 16000), atol=1e-5)


def test_bad_samples_mid_file_leave_no_output_behind(tmp_path):
    x = np.zeros(16000 * 40, np.float32)  # the NaN sits in the second 30 s segment
    x[16000 * 35] = np.nan
    sf.write(tmp_path / "in.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(StreamdlError, match="NaN or Inf"):
        process_file(Chain(), tmp_path / "in.wav", tmp_path / "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]  # no output, no scratch file


def test_output_never_leaves_minus_one_to_one():
    x = np.full((16000, 1), 0.9, np.float32)
    y = process_array(Chain(stages=[lambda spec: spec * np.float32(3.0)]), x, 16000)
    assert np.abs(y).max() <= 1.0


def test_folder_in_needs_a_folder_out(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.wav").write_bytes(b"")
    (tmp_path / "file.wav").write_bytes(b"")
    with pytest.raises(StreamdlError, match="output must be a folder"):
        output_paths(tmp_path / "in", tmp_path / "file.wav")


def test_an_output_format_that_cannot_hold_the_rate_fails_before_the_work(tmp_path):
    sf.write(tmp_path / "in.wav", np.zeros(96000, np.float32), 96000)

    def never(spec):
        raise AssertionError("processed before the output was known to be writable")

    with pytest.raises(StreamdlError, match=r"out.mp3: a .mp3 file cannot hold 96000 Hz 1-channel audio; name the output .wav"):
        process_file(Chain(stages=[never]), tmp_path / "in.wav", tmp_path / "out.mp3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]  # no empty output, no scratch file
