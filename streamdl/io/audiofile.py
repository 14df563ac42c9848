"""Reading and writing audio files (wav, flac, ogg, mp3, ... through soundfile) with one-line errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Self

import numpy as np
import soundfile as sf

from streamdl.errors import StreamdlError

FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3", ".aiff": "AIFF", ".aif": "AIFF"}  # libsndfile's names
AUDIO_SUFFIXES = tuple(FORMATS)
COMPRESSED_SUBTYPES = {".ogg": "VORBIS", ".mp3": "MPEG_LAYER_III"}  # every other suffix: 16-bit PCM


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a whole file: float32 (frames, channels) in [-1, 1] and its sample rate.

    Raises StreamdlError for a missing, unreadable, empty or non-finite file.
    """
    with AudioFileSource(path) as source:
        return source.read(0, source.frames), source.rate


class _OpenFile:
    """Closes its sound file on ``close()`` and at the end of a ``with`` block."""

    _file: sf.SoundFile

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AudioFileSource(_OpenFile):
    """An audio file read by ranges of frames, so long files need not fit in memory.

    Opening checks it: a missing, unreadable or empty file raises StreamdlError; so does any range
    holding NaN or Inf. ``rate``, ``frames`` and ``channels`` describe it.
    """

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.is_file():
            raise StreamdlError(f"{path}: no such file; give the path of a wav or flac file")
        if path.stat().st_size == 0:
            raise StreamdlError(f"{path}: the file is empty (0 bytes); was it written completely?")
        try:
            self._file = sf.SoundFile(path)
        except (sf.LibsndfileError, RuntimeError, ValueError) as e:
            raise StreamdlError(f"{path}: not a readable audio file ({e}); convert it to wav or flac") from None
        self.path, self.rate, self.frames, self.channels = path, self._file.samplerate, self._file.frames, self._file.channels
        if self.frames == 0:
            self._file.close()
            raise StreamdlError(f"{path}: the file holds no audio samples")

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) as float32 (frames, channels)."""
        try:
            self._file.seek(start)
            data = self._file.read(stop - start, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as e:
            raise StreamdlError(f"{self.path}: not a readable audio file ({e}); convert it to wav or flac") from None
        if not np.isfinite(data).all():
            raise StreamdlError(f"{self.path}: the audio holds NaN or Inf samples; re-export it as 16-bit PCM")
        return data


def write_audio(path: str | Path, data: np.ndarray, sample_rate: int) -> None:
    """Write float (frames,) or (frames, channels), clipped to [-1, 1], in the format its suffix names (see AudioFileSink)."""
    with AudioFileSink(path, sample_rate, 1 if data.ndim == 1 else data.shape[1]) as sink:
        sink.write(data)


def check_output_name(path: str | Path) -> Path:
    """``path`` if its suffix names a format this can write, else a one-line StreamdlError."""
    path = Path(path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise StreamdlError(f"{path}: unknown output format; end the name with one of {', '.join(AUDIO_SUFFIXES)}")
    return path


class AudioFileSink(_OpenFile):
    """A file written block by block; closing it (also on an exception or Ctrl-C) finalizes the header.

    Samples are clipped to [-1, 1] and stored as 16-bit PCM (Vorbis in .ogg, MPEG layer III in .mp3);
    the format follows the suffix.
    """

    def __init__(self, path: str | Path, sample_rate: int, channels: int):
        path = check_output_name(path)
        if not path.parent.is_dir():
            raise StreamdlError(f"{path}: the folder {path.parent} does not exist; create it first")
        suffix = path.suffix.lower()
        subtype = COMPRESSED_SUBTYPES.get(suffix, "PCM_16")
        fmt = dict(samplerate=sample_rate, channels=channels, subtype=subtype, format=FORMATS[suffix])
        try:  # first in memory: on a file, libsndfile truncates it before it checks rate and channels
            sf.SoundFile(io.BytesIO(), "w", **fmt).close()
            self._file = sf.SoundFile(path, "w", **fmt)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise StreamdlError(f"{path}: cannot write ({e})") from None
        self.path = path
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        self._file.write(np.clip(block, -1.0, 1.0))
        self.frames += len(block)


def find_audio_files(path: str | Path) -> list[Path]:
    """The audio files in a folder (recursively, sorted), or the one file given."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        if not files:
            raise StreamdlError(f"{path}: the folder holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
        return files
    if not path.exists():
        raise StreamdlError(f"{path}: no such file or folder")
    return [path]
