"""Damaged/clean speech pairs for restorer training, from a corpus built by :mod:`streamdl.data.corpus`.

The clean side is the corpus's wideband speech only (clips with speech up to 8 kHz); the damage is
made by code: a band limit by a resampler at a random cutoff, or a telephone channel.
Shapes: ``pair()`` returns two float32 arrays (samples,) at 16 kHz: damaged input and clean target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.signal as ss
import soxr

from streamdl.data.configs import DamageConfig
from streamdl.data.mixing import Pool, rms
from streamdl.dsp.resample import fitted
from streamdl.errors import StreamdlError

TOP_BAND_HZ = (6000.0, 7600.0)  # a wideband clip has speech here ...
TOP_BAND_DB = -40.0  # ... no further than this below its 300-3000 Hz band, per Hz (8 kHz recordings: -45 and lower)


def band_limited(x: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """``x`` with nothing above ``cutoff`` Hz: down to twice the cutoff and back up, as a low-rate file is made."""
    return fitted(soxr.resample(soxr.resample(x, sr, 2 * cutoff, quality="HQ"), 2 * cutoff, sr, quality="HQ"), len(x)).astype(np.float32)


def telephone(x: np.ndarray, sr: int) -> np.ndarray:
    """``x`` through a telephone channel: 300-3400 Hz, 8 kHz G.711 mu-law, back at ``sr``."""
    narrow = soxr.resample(ss.sosfilt(ss.butter(4, 300, "highpass", fs=sr, output="sos"), x), sr, 8000, quality="HQ")
    peak = max(float(np.abs(narrow).max()), 1e-6)  # mu-law of the signal at full scale, as a line codes it
    mu = np.sign(narrow) * np.log1p(255 * np.abs(narrow / peak)) / np.log1p(255)
    coded = np.round(mu * 127) / 127
    narrow = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(255)) / 255 * peak
    return fitted(soxr.resample(narrow, 8000, sr, quality="HQ"), len(x)).astype(np.float32)


def is_wideband(clip: np.ndarray, sr: int) -> bool:
    """Whether a clip has speech up to ``TOP_BAND_HZ`` (not a narrowband recording resampled up)."""
    power = np.abs(np.fft.rfft(clip.astype(np.float32))) ** 2
    freqs = np.fft.rfftfreq(len(clip), 1 / sr)
    speech = power[(freqs >= 300) & (freqs < 3000)].mean()
    top = power[(freqs >= TOP_BAND_HZ[0]) & (freqs < TOP_BAND_HZ[1])].mean()
    return bool(10 * np.log10(top + 1e-20) > 10 * np.log10(speech + 1e-20) + TOP_BAND_DB)


def wideband(pool: Pool, sr: int) -> Pool:
    """The clips of ``pool`` that are wideband speech."""
    keep = [i for i in range(len(pool.names)) if is_wideband(pool.audio[pool.offsets[i] : pool.offsets[i + 1]], sr)]
    if not keep:
        raise StreamdlError(f"no wideband speech among {len(pool.names)} clips: the restorer learns from speech that reaches "
                            f"{TOP_BAND_HZ[1] / 1000:g} kHz; add wideband recordings to the corpus")  # fmt: skip
    clips = [pool.audio[pool.offsets[i] : pool.offsets[i + 1]] for i in keep]
    return Pool(np.concatenate(clips), np.concatenate([[0], np.cumsum([len(c) for c in clips])]), pool.names[keep])


class Damager:
    """Makes (damaged, clean) pairs from a corpus folder's wideband speech of one split ('train', 'val' or 'test')."""

    def __init__(self, corpus: Path, split: str, config: DamageConfig = DamageConfig()):
        self.config = config
        self.speech = wideband(Pool.load(corpus / f"speech_{split}.npz"), config.sample_rate)

    def pair(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        n = int(c.seconds * c.sample_rate)
        clean = self.speech.window(rng, n)  # not sped up or slowed down: either would empty the top of the band
        clean = clean * (10 ** (rng.uniform(*c.level_db) / 20) / rms(clean))
        u = rng.random()
        if u < c.p_clean:
            damaged = clean.copy()
        elif u < c.p_clean + (1 - c.p_clean) * c.p_telephone:
            damaged = telephone(clean, c.sample_rate)
        else:
            damaged = band_limited(clean, c.sample_rate, rng.uniform(*c.cutoff_hz))
        gain = min(1.0, 0.99 / max(float(np.abs(damaged).max()), float(np.abs(clean).max()), 1e-6))
        return (damaged * gain).astype(np.float32), (clean * gain).astype(np.float32)


def clipped(x: np.ndarray, level: float, soft: bool = False) -> np.ndarray:
    """``x`` clipped at ``level`` (absolute): hard, as an ADC or a file's full scale does, or ``soft``, a tanh
    saturation that reaches ``level`` asymptotically, as an overdriven preamp does."""
    y = level * np.tanh(x / level) if soft else np.clip(x, -level, level)
    return y.astype(np.float32)


def with_gaps(x: np.ndarray, sr: int, rng: np.random.Generator, per_second: float = 2.0, ms: tuple[float, float] = (10.0, 60.0)) -> np.ndarray:
    """``x`` with gaps of digital silence, ``per_second`` of them on average, each ``ms`` long (uniform), as a
    failing link leaves them."""
    y = x.copy()
    for _ in range(rng.poisson(per_second * len(x) / sr)):
        length = int(rng.uniform(*ms) * sr / 1000)
        start = int(rng.integers(0, max(len(x) - length, 1)))
        y[start : start + length] = 0.0
    return y.astype(np.float32)
