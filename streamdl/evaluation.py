"""Speech-quality scores with the field's own packages (pesq, pystoi), for folders of clean/noisy pairs."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from streamdl.dsp.resample import resample
from streamdl.errors import StreamdlError
from streamdl.io.audiofile import find_audio_files, read_audio

METRICS = ("pesq_wb", "stoi", "si_sdr")
SCORE_RATE = 16000  # PESQ wide-band is defined at 16 kHz
SNR_TAG = re.compile(r"_snr(-?\d+(?:\.\d+)?)")  # the names 'streamdl data pairs' writes: pair007_snr5.wav


def si_sdr_db(est: np.ndarray, ref: np.ndarray) -> float:
    """Scale-invariant SDR (dB) of two mono signals of equal length."""
    ref = ref - ref.mean()
    est = est - est.mean()
    target = (est @ ref) / (ref @ ref + 1e-12) * ref
    return float(10 * np.log10((target @ target) / ((est - target) @ (est - target) + 1e-12) + 1e-12))


def score(clean: np.ndarray, est: np.ndarray, rate: int) -> dict:
    """PESQ-WB, STOI and SI-SDR of mono ``est`` against ``clean`` (same length), scored at 16 kHz."""
    from pesq import pesq
    from pystoi import stoi

    clean, est = resample(clean, rate, SCORE_RATE), resample(est, rate, SCORE_RATE)
    try:
        pesq_wb = float(pesq(SCORE_RATE, clean, est, "wb"))
    except Exception:  # pesq refuses silent or too-short references
        pesq_wb = float("nan")
    return {"pesq_wb": pesq_wb, "stoi": float(stoi(clean, est, SCORE_RATE)), "si_sdr": si_sdr_db(est, clean)}


def paired_files(clean_dir: Path, noisy_dir: Path) -> list[tuple[Path, Path]]:
    """(clean, noisy) pairs matched by path relative to each folder."""
    noisy = {p.relative_to(noisy_dir): p for p in find_audio_files(noisy_dir)}
    pairs = [(c, noisy[c.relative_to(clean_dir)]) for c in find_audio_files(clean_dir) if c.relative_to(clean_dir) in noisy]
    if not pairs:
        raise StreamdlError(f"no file in {noisy_dir} has a namesake in {clean_dir}; pairs are matched by name")
    return pairs


def evaluate_folders(clean_dir: Path, noisy_dir: Path, systems: dict[str, Callable[[np.ndarray, int], np.ndarray]]) -> dict:
    """Mean scores of the noisy input and of each system's output over every pair.

    ``systems`` maps a name to ``f(noisy (samples,), rate) -> output (samples,)`` (mono,
    delay-compensated). Returns {"pairs": n, "noisy": {metric: mean}, name: {metric: mean}, ...};
    when every file name carries its SNR (``_snr5``), also "by_snr": {snr: {name: {metric: mean}}}.
    """
    rows: list[tuple[str | None, dict[str, dict]]] = []  # (snr tag, {system: scores}) per pair
    pairs = paired_files(clean_dir, noisy_dir)
    for clean_path, noisy_path in pairs:
        (clean, rate), (noisy, noisy_rate) = read_audio(clean_path), read_audio(noisy_path)
        if rate != noisy_rate or len(clean) != len(noisy):
            raise StreamdlError(f"{noisy_path}: differs from {clean_path} in rate or length; pairs must match")
        clean, noisy = clean.mean(axis=1), noisy.mean(axis=1)
        scores = {"noisy": score(clean, noisy, rate), **{name: score(clean, system(noisy, rate), rate) for name, system in systems.items()}}
        tag = SNR_TAG.search(noisy_path.stem)
        rows.append((tag.group(1) if tag else None, scores))
    summary = {"pairs": len(pairs), **_means([r for _, r in rows])}
    snrs = sorted({snr for snr, _ in rows}, key=lambda v: float(v)) if all(snr is not None for snr, _ in rows) else []
    if len(snrs) > 1:
        summary["by_snr"] = {snr: _means([r for s, r in rows if s == snr]) for snr in snrs}
    return summary


def _means(rows: list[dict[str, dict]]) -> dict[str, dict]:
    """{system: {metric: mean over rows}} (NaN scores left out)."""
    return {name: {m: round(float(np.nanmean([r[name][m] for r in rows])), 4) for m in METRICS} for name in rows[0]}


def snr_lines(report: dict) -> list[str]:
    """One line a group of ``report["by_snr"]`` (absent: none): PESQ-WB / STOI of every system."""
    return [f"input SNR {snr} dB: " + ", ".join(f"{name} {m['pesq_wb']:.3f} / {m['stoi']:.3f}" for name, m in systems.items()) + " (PESQ-WB / STOI)"
            for snr, systems in report.get("by_snr", {}).items()]  # fmt: skip
