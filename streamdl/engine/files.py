"""Files through the streaming chain: any rate and channel count in, same rate, length and channels out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.signal as ss
from tqdm import tqdm

from streamdl.dsp.resample import resample
from streamdl.engine.chain import Chain, process_signal
from streamdl.errors import StreamdlError
from streamdl.io.audiofile import find_audio_files, read_audio, write_audio


def process_array(chain: Chain, audio: np.ndarray, rate: int, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """float32 (frames, channels) at ``rate`` -> the same shape, each channel run through the chain.

    Resampled to the chain's rate and back (zero-phase), delay-compensated, clipped to [-1, 1].
    Above the chain's band (rates over 16 kHz) the input's own content is kept, scaled hop by hop
    by the gain the chain applied to its top band, so wideband recordings stay wideband.
    """
    model_rate = chain.config.sample_rate
    out = np.empty_like(audio)
    for ch in range(audio.shape[1]):
        x = resample(audio[:, ch], rate, model_rate)
        y = process_signal(chain, x, progress)
        up = resample(y, model_rate, rate)
        up = np.pad(up, (0, max(0, len(audio) - len(up))))[: len(audio)]
        if rate > model_rate and len(x) > 1:
            highs = audio[:, ch] - np.pad(resample(x, model_rate, rate), (0, len(audio)))[: len(audio)]
            up = up + highs * top_band_gain(x, y, model_rate, chain.config.hop, rate, len(audio))
        out[:, ch] = up
    return np.clip(out, -1.0, 1.0)


def top_band_gain(x: np.ndarray, y: np.ndarray, model_rate: int, hop: int, rate: int, n: int) -> np.ndarray:
    """Amplitude gain in [0, 1] from input x to aligned output y (samples,) at ``model_rate``, in the
    band from a quarter of the rate to just below its Nyquist, measured over 2-hop windows every
    hop and interpolated to ``n`` samples at ``rate``."""
    sos = ss.butter(4, (model_rate / 4, 0.47 * model_rate), btype="bandpass", fs=model_rate, output="sos")
    frames = max(1, len(x) // hop)

    def energy(s: np.ndarray) -> np.ndarray:
        band = ss.sosfiltfilt(sos, s, padlen=min(len(s) - 1, 3 * (2 * len(sos) + 1)))
        e = np.pad(band**2, (0, frames * hop + hop - len(s))).reshape(-1, hop).sum(axis=1)
        return e[:frames] + e[1 : frames + 1]

    gain = np.sqrt((energy(y) + 1e-9) / (energy(x) + 1e-9)).clip(0.0, 1.0)
    centres = (np.arange(frames) + 1.0) * hop / model_rate  # each window spans two hops
    return np.interp(np.arange(n) / rate, centres, gain).astype(np.float32)


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
