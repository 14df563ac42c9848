"""The ``.sdlc`` file: a small self-describing container for codec frames.

Layout (little-endian):

- header, 32 bytes: magic ``SDLC``, version (u8), bits per code (u8), quantizers per frame (u8),
  reserved (u8), sample rate (u32), bitrate in bits/s (u32), samples per frame (u16), frames per
  block (u16), frame count (u32), sample count of the original (u32), CRC-32 of the 28 bytes before it;
- blocks of up to ``frames per block`` frames: the frames' codes bit-packed (most significant bit
  first, padded to a whole byte per block), then the CRC-32 of those bytes (u32).

A reader checks the header, then every block's CRC: a damaged block is an error; a file cut
short gives the complete frames that arrived, with a warning, so a recording interrupted while it
was written still decodes.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamdl.errors import StreamdlError

MAGIC = b"SDLC"
VERSION = 1
_HEADER = struct.Struct("<4sBBBBIIHHII")  # 28 bytes, then the CRC
FRAMES_PER_BLOCK = 50  # one second at 50 frames/s


@dataclass(frozen=True)
class StreamInfo:
    sample_rate: int
    bitrate: int  # bits per second of codes
    bits: int  # bits per code
    quantizers: int  # codes per frame
    frame_samples: int
    frames: int
    samples: int  # length of the original signal


def _pack(codes: np.ndarray, bits: int) -> bytes:
    """Codes (frames, quantizers) -> bytes, each code in ``bits`` bits, MSB first."""
    flat = codes.astype(np.uint32).reshape(-1)
    bit_array = ((flat[:, None] >> np.arange(bits - 1, -1, -1, dtype=np.uint32)) & 1).astype(np.uint8)
    return np.packbits(bit_array.reshape(-1)).tobytes()


def _unpack(data: bytes, count: int, bits: int) -> np.ndarray:
    bit_array = np.unpackbits(np.frombuffer(data, np.uint8))[: count * bits].reshape(count, bits)
    return (bit_array.astype(np.uint32) << np.arange(bits - 1, -1, -1, dtype=np.uint32)).sum(axis=1)


def _block_bytes(frames: int, quantizers: int, bits: int) -> int:
    return -(-frames * quantizers * bits // 8)


def write_stream(path: str | Path, codes: np.ndarray, info: StreamInfo) -> None:
    """Write codes (frames, quantizers) with ``info``; frames and quantizers must match it."""
    if codes.shape != (info.frames, info.quantizers):
        raise ValueError(f"codes {codes.shape} do not match the header ({info.frames}, {info.quantizers})")
    if codes.size and (codes.min() < 0 or codes.max() >= 1 << info.bits):
        raise ValueError(f"codes must fit in {info.bits} bits")
    head = _HEADER.pack(MAGIC, VERSION, info.bits, info.quantizers, 0, info.sample_rate, info.bitrate, info.frame_samples,
                        FRAMES_PER_BLOCK, info.frames, info.samples)  # fmt: skip
    with open(path, "wb") as f:
        f.write(head + struct.pack("<I", zlib.crc32(head)))
        for start in range(0, info.frames, FRAMES_PER_BLOCK):
            payload = _pack(codes[start : start + FRAMES_PER_BLOCK], info.bits)
            f.write(payload + struct.pack("<I", zlib.crc32(payload)))


def read_stream(path: str | Path) -> tuple[np.ndarray, StreamInfo]:
    """Codes (frames, quantizers) int64 and the header; one-line StreamdlError for foreign or damaged files.

    A file cut short returns the complete frames that arrived (``info.frames`` says how many) and
    warns how many were missing.
    """
    path = Path(path)
    if not path.is_file():
        raise StreamdlError(f"{path}: no such file")
    data = path.read_bytes()
    if len(data) < _HEADER.size + 4 or data[:4] != MAGIC:
        raise StreamdlError(f"{path}: not a streamdl codec file (encode one with 'streamdl codec encode')")
    fields = _HEADER.unpack(data[: _HEADER.size])
    if struct.unpack("<I", data[_HEADER.size : _HEADER.size + 4])[0] != zlib.crc32(data[: _HEADER.size]):
        raise StreamdlError(f"{path}: the header is damaged (CRC mismatch)")
    _, version, bits, quantizers, _, rate, bitrate, frame_samples, per_block, frames, samples = fields
    if version != VERSION:
        raise StreamdlError(f"{path}: codec file version {version}; this streamdl reads version {VERSION}")
    pos, decoded = _HEADER.size + 4, []
    for start in range(0, frames, per_block):
        n = min(per_block, frames - start)
        size = _block_bytes(n, quantizers, bits)
        block = data[pos : pos + size]
        if pos + size + 4 > len(data):  # cut short: keep the whole frames that arrived, unchecked
            whole = len(block) * 8 // (quantizers * bits)
            if whole:
                decoded.append(_unpack(block, whole * quantizers, bits).reshape(whole, quantizers))
            break
        if struct.unpack("<I", data[pos + size : pos + size + 4])[0] != zlib.crc32(block):
            raise StreamdlError(f"{path}: damaged data in frames {start}..{start + n - 1} (CRC mismatch)")
        decoded.append(_unpack(block, n * quantizers, bits).reshape(n, quantizers))
        pos += size + 4
    codes = np.concatenate(decoded).astype(np.int64) if decoded else np.zeros((0, quantizers), np.int64)
    if len(codes) < frames:
        warnings.warn(f"{path}: file cut short; decoded {len(codes)} of {frames} frames", stacklevel=2)
    got = len(codes)
    return codes, StreamInfo(rate, bitrate, bits, quantizers, frame_samples, got, min(samples, got * frame_samples))
