import numpy as np
import pytest
import soundfile as sf

from streamdl.errors import StreamdlError
from streamdl.io.audiofile import AudioFileSink, find_audio_files, read_audio, write_audio


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_round_trip(tmp_path, suffix):
    x = (0.5 * np.sin(np.arange(8000) / 10)).astype(np.float32)[:, None].repeat(2, 1)
    write_audio(tmp_path / f"a{suffix}", x, 22050)
    y, rate = read_audio(tmp_path / f"a{suffix}")
    assert rate == 22050 and y.shape == (8000, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1 / 32768 + 1e-6)


@pytest.mark.parametrize("suffix", [".ogg", ".mp3"])
def test_lossy_round_trip_keeps_rate_length_and_alignment(tmp_path, suffix):
    t = np.arange(8000) / 22050
    x = (0.3 * np.sin(2 * np.pi * 440 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.float32)[:, None].repeat(2, 1)
    write_audio(tmp_path / f"a{suffix}", x, 22050)
    y, rate = read_audio(tmp_path / f"a{suffix}")
    assert rate == 22050 and y.shape == x.shape  # no encoder delay or padding left in
    assert np.sqrt(np.mean((y - x) ** 2) / np.mean(x**2)) < 0.05  # sample i is still sample i (a 1-sample shift: 0.13)


def test_written_samples_are_clipped(tmp_path):
    write_audio(tmp_path / "loud.wav", np.array([2.0, -3.0, 0.5], np.float32), 16000)
    y, _ = read_audio(tmp_path / "loud.wav")
    assert y.max() <= 1.0 and y.min() >= -1.0


def _write_nothing(path):
    pass


def _write_junk(path):
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")


def _write_no_samples(path):
    sf.write(path, np.zeros((0, 1), np.float32), 16000)


def _write_zero_bytes(path):
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "write, message",
    [(_write_nothing, "no such file"), (_write_junk, "not a readable audio file"), (_write_no_samples, "no audio samples"),
     (_write_zero_bytes, r"empty \(0 bytes\)")],
)  # fmt: skip
def test_unreadable_files_get_a_one_line_error(tmp_path, write, message):
    write(tmp_path / "in.wav")
    with pytest.raises(StreamdlError, match=message):
        read_audio(tmp_path / "in.wav")


def test_non_finite_samples(tmp_path):
    x = np.zeros(100, np.float32)
    x[10] = np.nan
    sf.write(tmp_path / "nan.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(StreamdlError, match="NaN or Inf"):
        read_audio(tmp_path / "nan.wav")


def test_sink_finalizes_the_file_when_interrupted(tmp_path):
    path = tmp_path / "partial.wav"
    with pytest.raises(KeyboardInterrupt):
        with AudioFileSink(path, 16000, 1) as sink:
            sink.write(np.full(1600, 0.25, np.float32))
            raise KeyboardInterrupt
    y, _ = read_audio(path)
    assert len(y) == 1600


@pytest.mark.parametrize("name, match", [("out.mp4", "unknown output format"), ("missing/out.wav", "does not exist")])
def test_bad_output_path(tmp_path, name, match):
    with pytest.raises(StreamdlError, match=match):
        AudioFileSink(tmp_path / name, 16000, 1)


def test_a_rate_the_format_cannot_hold_leaves_files_alone(tmp_path):
    with pytest.raises(StreamdlError, match="cannot write"):
        AudioFileSink(tmp_path / "out.mp3", 96000, 1)  # MPEG stops at 48 kHz
    assert list(tmp_path.iterdir()) == []  # no empty file made
    write_audio(tmp_path / "kept.mp3", np.full(4800, 0.25, np.float32), 48000)
    with pytest.raises(StreamdlError, match="cannot write"):
        AudioFileSink(tmp_path / "kept.mp3", 96000, 1)
    assert len(read_audio(tmp_path / "kept.mp3")[0]) == 4800  # nor an old one emptied


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"])
def test_every_listed_suffix_can_be_written(tmp_path, suffix):
    write_audio(tmp_path / f"out{suffix}", np.full(1600, 0.25, np.float32), 16000)
    y, rate = read_audio(tmp_path / f"out{suffix}")
    assert rate == 16000 and abs(len(y) - 1600) < 1200  # lossy codecs pad the ends


def test_find_audio_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ["b.wav", "sub/a.flac", "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_audio_files(tmp_path)] == ["b.wav", "a.flac"]
    with pytest.raises(StreamdlError, match="no audio files"):
        find_audio_files(_empty_dir(tmp_path))


def _empty_dir(root):
    d = root / "empty"
    d.mkdir()
    return d
