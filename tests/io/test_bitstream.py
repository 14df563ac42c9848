"""The .sdlc container: round trip, foreign and damaged files, files cut short."""

import numpy as np
import pytest

from streamdl.errors import StreamdlError
from streamdl.io.bitstream import StreamInfo, read_stream, write_stream


def _codes(frames=123, quantizers=12, bits=10, seed=0):
    return np.random.default_rng(seed).integers(0, 1 << bits, (frames, quantizers))


def _info(codes, bits=10):
    return StreamInfo(16000, 6000, bits, codes.shape[1], 320, len(codes), max(0, len(codes) * 320 - 17))


@pytest.mark.parametrize("frames, quantizers, bits", [(123, 12, 10), (1, 6, 10), (50, 24, 10), (0, 12, 10), (77, 3, 7)])
def test_round_trip(tmp_path, frames, quantizers, bits):
    codes = _codes(frames, quantizers, bits)
    write_stream(tmp_path / "a.sdlc", codes, _info(codes, bits))
    back, info = read_stream(tmp_path / "a.sdlc")
    assert np.array_equal(back, codes) and info == _info(codes, bits)


def test_size_is_the_bitrate(tmp_path):
    codes = _codes(500)  # 10 s at 50 frames/s, 12 x 10 bits = 6 kbps
    write_stream(tmp_path / "a.sdlc", codes, _info(codes))
    payload = (tmp_path / "a.sdlc").stat().st_size - 32 - 4 * 10
    assert payload == 10 * 6000 // 8


def test_foreign_and_damaged_files_are_one_line_errors(tmp_path):
    (tmp_path / "x.sdlc").write_bytes(b"RIFF" + bytes(60))
    with pytest.raises(StreamdlError, match="not a streamdl codec file"):
        read_stream(tmp_path / "x.sdlc")
    codes = _codes()
    write_stream(tmp_path / "a.sdlc", codes, _info(codes))
    data = bytearray((tmp_path / "a.sdlc").read_bytes())
    data[100] ^= 0x10
    (tmp_path / "b.sdlc").write_bytes(bytes(data))
    with pytest.raises(StreamdlError, match=r"damaged data in frames 0\.\.49"):
        read_stream(tmp_path / "b.sdlc")
    data = bytearray((tmp_path / "a.sdlc").read_bytes())
    data[10] ^= 0x01
    (tmp_path / "c.sdlc").write_bytes(bytes(data))
    with pytest.raises(StreamdlError, match="header is damaged"):
        read_stream(tmp_path / "c.sdlc")


def test_a_file_cut_short_decodes_what_arrived_with_a_warning(tmp_path):
    codes = _codes(123)
    write_stream(tmp_path / "a.sdlc", codes, _info(codes))
    data = (tmp_path / "a.sdlc").read_bytes()
    (tmp_path / "cut.sdlc").write_bytes(data[: 32 + 754 + 300])  # the first block and part of the second
    with pytest.warns(UserWarning, match="cut short; decoded 70 of 123 frames"):
        back, info = read_stream(tmp_path / "cut.sdlc")
    assert info.frames == 70 and info.samples == 70 * 320 and np.array_equal(back, codes[:70])
