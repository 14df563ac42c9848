"""Training scenes for the tagger: labelled sounds laid over backgrounds, with frame labels.

A scene (float32 (samples,), 16 kHz) is a quiet noise floor, zero to two long background layers
(speech, music, a crowd, wind, water, traffic, a machine, or an unlabelled sound such as fire, a
synthetic hum or a held tone) and zero to three short events at random times (a door, a dog, typing, footsteps,
an alarm, ...), each at a random level, with random EQ, band-limiting and room reverberation.
Its labels (frames, len(LABELS)) are 0/1 per 20 ms tagger frame: a layer's labels are on where
that layer is audible (within 35 dB of its own peak, above -70 dBFS and no more than 20 dB under
the whole mix); ``silence`` is on where the mix is below -60 dBFS and nothing else is.

Clips are grouped by label from a corpus folder (``streamdl data build``) and split into train and
validation by source file (:func:`~streamdl.data.tags.tagger_split`); speech and music keep the
corpus's own splits (held-out speakers and pieces).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.signal as ss
import soxr

from streamdl.data.configs import SceneConfig
from streamdl.data.mixing import (
    Pool,
    lowpass,
    random_eq,
    random_speed,
    rms,
    slow_wobble,
    synthetic_applause,
    synthetic_noise,
    synthetic_traffic,
    synthetic_water,
    synthetic_wind,
)
from streamdl.data.tags import labels_of, tagger_split
from streamdl.errors import StreamdlError
from streamdl.labels import LABELS

FRAME = 320  # samples per tagger frame: 20 ms at 16 kHz (two STFT hops)
LONG = ("speech", "music", "crowd", "wind", "water", "vehicle", "machine", "")  # "" = unlabelled background
SHORT = ("keyboard", "footsteps", "door", "dog", "bird", "alarm", "water", "vehicle", "speech", "")  # "" = a sound of no label
REPEATED = {"keyboard": (0.08, 0.3), "footsteps": (0.35, 0.7)}  # single hits become sequences (seconds apart)


class ClipBank:
    """Corpus clips by label for one split: {label or "": [(pool, start, end)]}."""

    def __init__(self, corpus: Path, split: str):
        if split not in ("train", "val"):
            raise StreamdlError(f"tagger splits are train and val, not {split!r}")
        self.by_label: dict[str, list[tuple[Pool, int, int]]] = defaultdict(list)
        for role in ("noise", "events"):
            for file_split in ("train", "val", "test"):
                path = corpus / f"{role}_{file_split}.npz"
                if path.is_file():
                    pool = Pool.load(path)
                    for i, name in enumerate(pool.names):
                        if tagger_split(str(name)) == split:
                            for label in labels_of(str(name)) or ("",):
                                self.by_label[label].append((pool, int(pool.offsets[i]), int(pool.offsets[i + 1])))
        for role in ("speech", "music"):
            path = corpus / f"{role}_{split}.npz"
            if path.is_file():
                pool = Pool.load(path)
                self.by_label[role] += [(pool, int(a), int(b)) for a, b in zip(pool.offsets[:-1], pool.offsets[1:])]
        if not self.by_label["speech"]:
            raise StreamdlError(f"{corpus}: no {split} speech for the tagger; build the corpus with 'streamdl data build' first")

    def clip(self, rng: np.random.Generator, label: str) -> np.ndarray | None:
        clips = self.by_label.get(label)
        if not clips:
            return None
        pool, start, end = clips[rng.integers(len(clips))]
        return pool.audio[start:end].astype(np.float32) / 32768.0


def synthetic_alarm(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """An electronic alarm: beeping tones, a two-tone ring, or a sweeping siren."""
    t = np.arange(n) / sr
    kind = rng.choice(["beep", "ring", "siren"])
    if kind == "siren":
        f = rng.uniform(500, 900) + rng.uniform(300, 900) * (0.5 + 0.5 * np.sin(2 * np.pi * t / rng.uniform(0.3, 3.0)))
        phase = 2 * np.pi * np.cumsum(f) / sr
        x = np.sin(phase) + 0.3 * np.sin(3 * phase)
    else:
        f0 = rng.uniform(800, 4000)
        if kind == "ring":
            f = np.where(np.sin(2 * np.pi * rng.uniform(10, 25) * t) > 0, f0, f0 * rng.uniform(1.1, 1.4))
            x = np.sin(2 * np.pi * np.cumsum(f) / sr)
        else:
            x = np.sign(np.sin(2 * np.pi * f0 * t)) * 0.5 + np.sin(2 * np.pi * f0 * t)
        on, off = rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.6)
        x = x * ((t % (on + off)) < on)
    return (x / rms(x)).astype(np.float32)


def _activity(x: np.ndarray) -> np.ndarray:
    """Energy per tagger frame in dB (frames,)."""
    frames = len(x) // FRAME
    return 10 * np.log10(np.mean(x[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1) + 1e-12)


class SceneMaker:
    """Random labelled scenes from one split of a corpus."""

    def __init__(self, corpus: Path, split: str, config: SceneConfig = SceneConfig(), *, rirs: list[np.ndarray] | None = None):
        self.config = config
        self.bank = ClipBank(corpus, split)
        self.rirs = rirs or []
        # label -> (generator(rng, n, sr) of unit RMS, its chance as a multiple of p_synthetic); the
        # generator also stands in when the corpus has no recording of the label
        self._synthetic = {
            "wind": (synthetic_wind, 1),
            "alarm": (synthetic_alarm, 1),
            "water": (synthetic_water, 2),  # water's and vehicles' recordings are mostly short hits, not beds
            "vehicle": (synthetic_traffic, 2),
            "crowd": (self._babble, 2),
            # sounds of no label: teach low scores for everything (tones: electrical, test and keypad tones)
            "": (lambda rng, n, sr: synthetic_noise(rng, n, sr, kinds=("hum", "fan", "colored", "texture", "tone", "tone")), 1),
        }

    def _babble(self, rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
        """A crowd: 5 to 11 talkers at once, or a hall or stadium of 20 to 47, a third of the time
        cheering (swelling by up to 12 dB) and clapping (unit RMS)."""
        talkers = rng.integers(5, 12) if rng.random() < 0.6 else rng.integers(20, 48)
        x = sum(self._loop(rng, "speech", n) * rng.uniform(0.3, 1.0) for _ in range(talkers))
        x = x / rms(x)
        if rng.random() < 0.35:
            x = x * np.exp(rng.uniform(0.2, 0.7) * slow_wobble(rng, n, sr, rng.uniform(0.2, 1.0)))
            x = x + rng.uniform(0.0, 1.5) * synthetic_applause(rng, n, sr) * (rms(x) + 1e-12)
        return x / rms(x)

    def _source(self, rng: np.random.Generator, label: str, n: int) -> np.ndarray | None:
        """n samples of one sound with ``label`` (looped clips for backgrounds), unit RMS, or None."""
        make, share = self._synthetic.get(label, (None, 0))
        if make is not None and (rng.random() < self.config.p_synthetic * share or label not in self.bank.by_label):
            return make(rng, n, self.config.sample_rate)
        x = self._loop(rng, label, n)
        return None if x is None else x / rms(x)

    def _loop(self, rng: np.random.Generator, label: str, n: int) -> np.ndarray | None:
        parts, total = [], 0
        while total < n:
            clip = self.bank.clip(rng, label)
            if clip is None:
                return None
            parts.append(clip)
            total += len(clip)
        x = np.concatenate(parts)
        start = rng.integers(0, len(x) - n + 1)
        return x[start : start + n]

    def _event(self, rng: np.random.Generator, label: str, n: int) -> np.ndarray | None:
        """A short sound (or a sequence of hits) placed at a random time in n samples."""
        c, sr = self.config, self.config.sample_rate
        if label == "alarm" and rng.random() < c.p_synthetic:
            body = synthetic_alarm(rng, int(sr * rng.uniform(0.8, 3.0)), sr)
        elif label in REPEATED:
            gap = REPEATED[label]
            hits, body = int(rng.integers(2, 12)), np.zeros(0, np.float32)
            for _ in range(hits):
                clip = self.bank.clip(rng, label)
                if clip is None:
                    return None
                pause = np.zeros(int(sr * rng.uniform(*gap)), np.float32)
                body = np.concatenate([body, clip, pause])
        else:
            body = self.bank.clip(rng, label)
            if body is None:
                return None
            body = body[: int(sr * rng.uniform(1.0, 4.0))]
        body = body[:n]
        out = np.zeros(n, np.float32)
        start = int(rng.integers(0, n - len(body) + 1))
        out[start : start + len(body)] = body
        return out / rms(body)

    def _augment(self, rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
        """Speed (pitch and tempo, ``config.speed``), EQ, band-limiting, reverberation; same length."""
        c = self.config
        if rng.random() < 0.5:
            y = soxr.resample(x, c.sample_rate, c.sample_rate / random_speed(rng, c.speed), quality="LQ")
            x = np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
        if rng.random() < 0.5:
            x = random_eq(rng, x, c.sample_rate)
        if rng.random() < c.p_lowpass:
            x = lowpass(x, rng.uniform(2500, 7000), c.sample_rate)
        if self.rirs and rng.random() < c.p_reverb:
            x = ss.fftconvolve(x, self.rirs[rng.integers(len(self.rirs))])[: len(x)]
        return np.asarray(x, dtype=np.float32)

    def scene(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(audio float32 (samples,), labels float32 (frames, len(LABELS))); frames = samples // 320."""
        c, sr = self.config, self.config.sample_rate
        n = int(c.seconds * sr) // FRAME * FRAME
        layers: list[tuple[np.ndarray, tuple[str, ...]]] = []
        for _ in range(2):
            if rng.random() < c.p_background:
                label = LONG[rng.integers(len(LONG))]
                x = self._source(rng, label, n)
                if x is not None:
                    if rng.random() < 0.3:  # comes or goes during the scene
                        cut = int(rng.integers(0, n))
                        x = x * (np.arange(n) >= cut) if rng.random() < 0.5 else x * (np.arange(n) < cut)
                    layers.append((x, (label,) if label else ()))
        for _ in range(int(rng.integers(0, c.max_events + 1))):
            label = SHORT[rng.integers(len(SHORT))]
            if label and c.p_more_unlabelled and rng.random() < c.p_more_unlabelled:
                label = ""
            x = self._event(rng, label, n)
            if x is not None:
                layers.append((x, (label,) if label else ()))
        mix = np.zeros(n, np.float32)
        scaled = []
        for x, labels in layers:
            x = self._augment(rng, x) * 10 ** (rng.uniform(*c.level_db) / 20)
            scaled.append((x, labels))
            mix += x
        floor = synthetic_noise(rng, n, sr, kinds=("colored",)) * 10 ** (rng.uniform(*c.floor_db) / 20)
        mix += floor
        peak = np.abs(mix).max()
        if peak > 0.99:  # keep the scene unclipped; labels follow the final levels
            mix *= 0.99 / peak
            scaled = [(x * 0.99 / peak, labels) for x, labels in scaled]
        mix_db = _activity(mix)
        target = np.zeros((len(mix_db), len(LABELS)), np.float32)
        for x, labels in scaled:
            db = _activity(x)
            audible = (db > db.max() - 35) & (db > -70) & (db > mix_db - 20)
            for label in labels:
                target[audible, LABELS.index(label)] = 1.0
        smooth_db = np.convolve(np.pad(mix_db, 2, mode="edge"), np.ones(5) / 5, mode="valid")  # no flicker at the threshold
        target[:, LABELS.index("silence")] = (smooth_db < -60) & (target.sum(1) == 0)
        return mix.astype(np.float32), target
