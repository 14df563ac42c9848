"""Synthetic speech for training: espeak-ng reads the multilingual stamp descriptions of
tuxpaint-stamps-default in many voices, pitches, paces and pitch ranges (flat to lively).

The recorded corpus lacks voices with little pitch movement (a letter sung out for a reading game, a
processed game voice): under a droning band of noise the denoiser removes such a voice with the
noise. Formant-synthesised voices read flat or lively fill that gap (shared/DATA.md suggests
espeak-ng). Output: one 16-bit 22.05 kHz wav per utterance in ``out_dir``, which ``streamdl data
build --synthetic-speech`` reads as the training-only speech source :data:`~streamdl.data.sources.TTS_SOURCE`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from streamdl.errors import StreamdlError

STAMP_TEXTS = "tuxpaint-stamps-default/usr/share/tuxpaint/stamps"
PITCH_RANGES = ("x-low", "x-low", "low", "medium", "high")  # SSML prosody range; flat voices drawn twice as often


def stamp_texts(package_root: Path) -> list[tuple[str, str]]:
    """(language, sentence) pairs from the ``lang.utf8=text`` lines of the stamp description files
    (``*.txt``; English comes from their en_GB, en_AU, ... lines); language codes as espeak-ng spells
    them (``pt-br``, ``de``)."""
    folder = package_root / STAMP_TEXTS
    if not folder.is_dir():
        raise StreamdlError(f"{folder}: stamp descriptions missing; run scripts/fetch_debian_audio.sh first")
    texts = []
    for path in sorted(folder.rglob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
            match = re.match(r"([a-z]{2,3})(?:_([A-Z]{2}))?(?:@\w+)?\.utf-?8=(.+)$", line.strip())
            if match and match.group(3).strip():
                lang = match.group(1) + (f"-{match.group(2).lower()}" if match.group(2) else "")
                texts.append((lang, match.group(3).strip()))
    return texts


def _espeak_table(*args: str) -> list[list[str]]:
    out = subprocess.run(["espeak-ng", *args], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[1:] if line.strip()]


def render_synthetic_speech(package_root: Path, out_dir: Path, *, minutes: float = 50.0, seed: int = 0, workers: int = 2) -> dict:
    """Write about ``minutes`` of synthetic utterances into ``out_dir``; returns {"files", "minutes"}.

    Reproducible for one ``seed`` and espeak-ng version: every utterance's text, voice variant, pitch
    (-p 20..80), pace (110..220 words a minute) and pitch range are drawn in order from the seed. Wav files
    already in ``out_dir`` (an earlier rendering) are deleted first.
    """
    if shutil.which("espeak-ng") is None:
        raise StreamdlError("espeak-ng not found: install it (apt-get install espeak-ng)")
    languages = {row[1] for row in _espeak_table("--voices")}
    variants = [row[-1].removeprefix("!v/") for row in _espeak_table("--voices=variant") if row[-1].startswith("!v/")]
    texts = []
    for lang, text in stamp_texts(package_root):
        lang = lang if lang in languages else lang.split("-")[0]
        if lang in languages:
            texts.append((lang, text))
    if not texts:
        raise StreamdlError("no stamp description is in a language espeak-ng speaks")
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.wav"):
        old.unlink()
    total, files, index = 0.0, 0, 0
    with ThreadPoolExecutor(workers) as pool:
        while total < minutes * 60:
            jobs = [_draw(rng, texts, variants, out_dir, index + i) for i in range(64)]
            index += len(jobs)
            for path, seconds in pool.map(_synthesise, jobs):
                if path is not None and total < minutes * 60:
                    total += seconds
                    files += 1
                elif path is not None:
                    path.unlink()
    return {"files": files, "minutes": round(total / 60, 1)}


def _draw(rng: np.random.Generator, texts: list[tuple[str, str]], variants: list[str], out_dir: Path, index: int) -> tuple[list[str], Path]:
    """One utterance's espeak-ng command line and output path."""
    lang, text = texts[rng.integers(len(texts))]
    variant = variants[rng.integers(len(variants))]
    pitch_range = PITCH_RANGES[rng.integers(len(PITCH_RANGES))]
    path = out_dir / f"{index:05d}_espeak_{lang}_{re.sub(r'[^A-Za-z0-9]', '', variant)}_{pitch_range}.wav"
    ssml = f'<speak><prosody range="{pitch_range}">{escape(text)}</prosody></speak>'
    return ["espeak-ng", "-m", "-v", f"{lang}+{variant}", "-p", str(rng.integers(20, 81)), "-s", str(rng.integers(110, 221)),
            "-w", str(path), ssml], path  # fmt: skip


def _synthesise(job: tuple[list[str], Path]) -> tuple[Path | None, float]:
    """Run one espeak-ng command: (its wav, seconds), or (None, 0.0) when it fails, hangs for a minute or
    writes less than 0.3 s (skipped, not fatal)."""
    command, path = job
    try:
        failed = subprocess.run(command, capture_output=True, timeout=60).returncode != 0
    except subprocess.TimeoutExpired:
        failed = True
    seconds = 0.0 if failed or not path.is_file() else sf.info(path).duration
    if seconds < 0.3:
        path.unlink(missing_ok=True)
        return None, 0.0
    return path, seconds
