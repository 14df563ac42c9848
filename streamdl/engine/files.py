"""Files through the streaming chain: any rate and channel count in, same rate, length and channels out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from streamdl.dsp.resample import resample
from streamdl.engine.chain import Chain, process_signal
from streamdl.errors import StreamdlError
from streamdl.io.audiofile import find_audio_files, read_audio, write_audio


def process_array(chain: Chain, audio: np.ndarray, rate: int, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """float32 (frames, channels) at ``rate`` -> the same shape, each channel run through the chain.

    Resampled to the chain's rate and back (zero-phase), delay-compensated, clipped to [-1, 1].
    """
    model_rate = chain.config.sample_rate
    out = np.empty_like(audio)
    for ch in range(audio.shape[1]):
        y = process_signal(chain, resample(audio[:, ch], rate, model_rate), progress)
        y = resample(y, model_rate, rate)
        out[:, ch] = np.pad(y, (0, max(0, len(audio) - len(y))))[: len(audio)]
    return np.clip(out, -1.0, 1.0)


def read_mono(path: str | Path, rate: int) -> np.ndarray:
    """A whole audio file mixed down to mono float32 (samples,) at ``rate``: a live source."""
    audio, file_rate = read_audio(path)
    return resample(audio.mean(axis=1), file_rate, rate)


def output_paths(inputs: Path, output: Path) -> list[tuple[Path, Path]]:
    """(input file, output file) pairs: a file to a file, or a folder to a folder mirroring it."""
    files = find_audio_files(inputs)
    if inputs.is_dir():
        if output.exists() and not output.is_dir():
            raise StreamdlError(f"{output}: input is a folder, so the output must be a folder too")
        return [(f, output / f.relative_to(inputs)) for f in files]
    if output.is_dir():
        return [(inputs, output / inputs.name)]
    return [(inputs, output)]


def process_files(chain: Chain, inputs: Path, output: Path, *, quiet: bool = False) -> list[Path]:
    """Run every audio file in ``inputs`` through ``chain``; return the files written."""
    jobs = output_paths(inputs, output)
    written = []
    with tqdm(total=len(jobs), unit="file", disable=quiet or len(jobs) < 2, desc="files") as bar:
        for src, dst in jobs:
            audio, rate = read_audio(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            write_audio(dst, process_array(chain, audio, rate), rate)
            written.append(dst)
            bar.update()
    return written
