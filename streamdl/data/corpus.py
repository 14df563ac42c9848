"""Build a training corpus: decode every source to 16 kHz mono and pack each pool into one array.

A corpus folder holds ``{role}_{split}.npz`` files (role: speech, noise, music; split: train,
val, test), each with ``audio`` (int16, all clips back to back), ``offsets`` (clip starts, plus the
end) and ``names`` (``source:relative/path``). Speech clips are trimmed of leading and trailing
silence and brought to one active level, so clips placed side by side sound like one talker
changing words, not volume.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from streamdl.data.sources import SOURCES, Source, decode_clips, source_files, split_of
from streamdl.data.tags import labels_of
from streamdl.dsp.resample import resample
from streamdl.errors import StreamdlError

SPEECH_LEVEL_DB = -26.0  # active speech RMS after normalisation, dBFS
NOISE_LEVEL_DB = -30.0  # noise RMS after normalisation, dBFS
MIN_SECONDS = 0.25  # shorter clips are dropped


def _active_rms(x: np.ndarray, rate: int) -> float:
    """RMS over the 20 ms blocks within 40 dB of the loudest one."""
    n = max(1, len(x) // (rate // 50))
    energy = np.array([np.mean(b**2) for b in np.array_split(x, n)]) + 1e-12
    return float(np.sqrt(energy[energy > energy.max() * 1e-4].mean()))


def _trim_silence(x: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading and trailing 10 ms blocks quieter than 45 dB below the loudest block."""
    block = rate // 100
    energy = np.array([np.mean(x[i : i + block] ** 2) for i in range(0, len(x), block)]) + 1e-12
    loud = np.flatnonzero(energy > energy.max() * 10 ** (-45 / 10))
    return x[loud[0] * block : (loud[-1] + 1) * block + block // 2]


def prepare_clip(x: np.ndarray, rate: int, role: str, sample_rate: int) -> np.ndarray | None:
    """Resample, trim and level one mono clip; None when it is too short or silent."""
    x = resample(x, rate, sample_rate)
    if role == "speech" and len(x) >= sample_rate * MIN_SECONDS:
        x = _trim_silence(x, sample_rate)
    if len(x) < sample_rate * MIN_SECONDS or not np.isfinite(x).all() or np.abs(x).max() < 1e-4:
        return None
    level = SPEECH_LEVEL_DB if role == "speech" else NOISE_LEVEL_DB
    x = x * (10 ** (level / 20) / _active_rms(x, sample_rate))
    return np.clip(x, -1.0, 1.0)


def _decode_file(job):
    source, rel, path, sample_rate = job
    out = []
    try:
        clips = decode_clips(path, source.members)
    except Exception as e:  # a broken file in a package is skipped, not fatal
        return [(None, f"{source.name}:{rel}: {e}")]
    for suffix, x, rate in clips:
        y = prepare_clip(x, rate, source.role, sample_rate)
        if y is not None:
            out.append((f"{source.name}:{rel}{suffix}", (y * 32767).astype(np.int16)))
    return out


def build_corpus(package_root: Path, out_dir: Path, *, sources: tuple[Source, ...] = SOURCES, sample_rate: int = 16000, workers: int = 2) -> dict:
    """Decode ``sources`` found under ``package_root`` (one folder per unpacked package) into ``out_dir``.

    Returns a summary {f"{role}_{split}": {"clips": n, "minutes": m}, "label_minutes": {label: minutes}},
    also saved as summary.json.
    """
    jobs = []
    for source in sources:
        for package in source.packages:
            root = package_root / package
            if not root.is_dir():
                raise StreamdlError(f"{root}: package folder missing; run {source.made_by} first")
            jobs += [(source, rel, path, sample_rate) for rel, path in source_files(source, root)]
    pools = defaultdict(list)
    with ProcessPoolExecutor(workers) as pool:
        for job, results in zip(jobs, pool.map(_decode_file, jobs, chunksize=16)):
            for name, audio in results:
                if name is not None:
                    split = split_of(job[0], name.split(":", 1)[1] if job[0].split_members else job[1])
                    pools[f"{job[0].role}_{split}"].append((name, audio))
    for role in {source.role for source in sources} - {"music", "events"}:
        for split in ("train", "val"):
            if not pools[f"{role}_{split}"]:
                raise StreamdlError(f"no {role} clips fell in the {split} split; give more {role} files (splits are 80/5/15 by file)")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {}
    for key, clips in sorted((k, v) for k, v in pools.items() if v):
        lengths = np.array([len(a) for _, a in clips])
        np.savez(out_dir / f"{key}.npz", audio=np.concatenate([a for _, a in clips]),
                 offsets=np.concatenate([[0], np.cumsum(lengths)]), names=np.array([n for n, _ in clips]))
        summary[key] = {"clips": len(clips), "minutes": round(float(lengths.sum()) / sample_rate / 60, 1)}
    summary["label_minutes"] = label_minutes(pools, sample_rate)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def label_minutes(pools: dict[str, list[tuple[str, np.ndarray]]], sample_rate: int) -> dict[str, float]:
    """Minutes of recordings per tagger label over every pool and split (:func:`streamdl.data.tags.labels_of`),
    "unlabelled" for recordings no rule names: how much real audio stands behind each label."""
    minutes: dict[str, float] = defaultdict(float)
    for key, clips in pools.items():
        role = key.rsplit("_", 1)[0]
        for name, audio in clips:
            for label in labels_of(name, role) or ("unlabelled",):
                minutes[label] += len(audio) / sample_rate / 60
    return {label: round(m, 1) for label, m in sorted(minutes.items(), key=lambda kv: -kv[1])}
