"""Speech-quality scores with the field's own packages (pesq, pystoi), for folders of clean/noisy pairs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from streamdl.data.pairs import PAIRS_MANIFEST
from streamdl.dsp.resample import resample
from streamdl.errors import StreamdlError
from streamdl.io.audiofile import find_audio_files, read_audio

METRICS = ("pesq_wb", "stoi", "si_sdr")
SCORE_RATE = 16000  # PESQ wide-band is defined at 16 kHz
SNR_TAG = re.compile(r"_snr(-?\d+(?:\.\d+)?)")  # the names 'streamdl data pairs' writes: pair007_snr5.wav
NARROWBAND_EDGE_HZ = 4000.0  # telephone speech (8 kHz sampling) has nothing above this
NARROWBAND_SHARE = 1e-3  # speech with less of its energy above the edge (-30 dB) counts as narrowband


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


def stoi_bands(clean: np.ndarray, est: np.ndarray, rate: int) -> np.ndarray:
    """STOI's intermediate intelligibility per one-third-octave band (15,), 150 Hz .. 3.8 kHz, of mono
    ``est`` against ``clean`` (same length): pystoi's own steps, so the mean is ``stoi(clean, est, rate)``."""
    import importlib

    from pystoi import utils

    s = importlib.import_module("pystoi.stoi")  # the module (the package exports a function of that name)

    def envelopes(signal: np.ndarray) -> np.ndarray:  # -> (bands, frames)
        return np.sqrt(s.OBM @ np.abs(utils.stft(signal, s.N_FRAME, s.NFFT, overlap=2).T) ** 2)

    x, y = utils.resample_oct(clean, s.FS, rate), utils.resample_oct(est, s.FS, rate)
    x_env, y_env = map(envelopes, utils.remove_silent_frames(x, y, s.DYN_RANGE, s.N_FRAME, s.N_FRAME // 2))
    if x_env.shape[1] < s.N:
        raise StreamdlError(f"STOI needs {s.N * s.N_FRAME // 2 / s.FS:.2f} s of speech after its silent frames are removed; give longer pairs")
    x_seg, y_seg = (np.lib.stride_tricks.sliding_window_view(e, s.N, axis=1) for e in (x_env, y_env))  # (bands, stretches, N)
    y_seg = y_seg * np.linalg.norm(x_seg, axis=2, keepdims=True) / (np.linalg.norm(y_seg, axis=2, keepdims=True) + utils.EPS)
    y_seg = np.minimum(y_seg, x_seg * (1 + 10 ** (-s.BETA / 20)))  # clipped at -15 dB signal-to-distortion
    x_seg, y_seg = x_seg - x_seg.mean(2, keepdims=True), y_seg - y_seg.mean(2, keepdims=True)
    x_seg /= np.linalg.norm(x_seg, axis=2, keepdims=True) + utils.EPS
    y_seg /= np.linalg.norm(y_seg, axis=2, keepdims=True) + utils.EPS
    return (x_seg * y_seg).sum(2).mean(1)


def speech_band(clean: np.ndarray, rate: int) -> str:
    """"narrowband" when mono ``clean`` holds under ``NARROWBAND_SHARE`` of its energy above 4 kHz
    (telephone speech, whatever rate it is stored at), else "wideband"."""
    power = np.abs(np.fft.rfft(clean)) ** 2
    above = power[np.fft.rfftfreq(len(clean), 1 / rate) > NARROWBAND_EDGE_HZ].sum()
    return "narrowband" if above < NARROWBAND_SHARE * (power.sum() + 1e-20) else "wideband"


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
    delay-compensated). Returns {"pairs": n, "noisy": {metric: mean}, name: {metric: mean}, ...,
    "by_pair": {noisy file relative to its folder: {"noisy": scores, name: scores, ...}}};
    when every file name carries its SNR (``_snr5``), also "by_snr": {snr: {"pairs": n, name: {metric: mean}}};
    when the folders come from ``streamdl data pairs`` (its pairs.json beside them), also
    "by_noise" and "by_speech", the same grouped by where each pair's noise and speech came from
    (see :func:`source_of`); when both narrowband and wideband speech are among the pairs,
    "by_band" (see :func:`speech_band`).
    """
    rows: list[dict[str, dict]] = []  # {system: scores} per pair
    bands: list[str] = []
    pairs = paired_files(clean_dir, noisy_dir)
    for clean_path, noisy_path in pairs:
        (clean, rate), (noisy, noisy_rate) = read_audio(clean_path), read_audio(noisy_path)
        if rate != noisy_rate or len(clean) != len(noisy):
            raise StreamdlError(f"{noisy_path}: differs from {clean_path} in rate or length; pairs must match")
        clean, noisy = clean.mean(axis=1), noisy.mean(axis=1)
        bands.append(speech_band(clean, rate))
        rows.append({"noisy": score(clean, noisy, rate), **{name: score(clean, system(noisy, rate), rate) for name, system in systems.items()}})
    summary = {"pairs": len(pairs), **_means(rows)}
    summary["by_pair"] = {str(noisy_path.relative_to(noisy_dir)): row for (_, noisy_path), row in zip(pairs, rows)}
    tags = [SNR_TAG.search(noisy_path.stem) for _, noisy_path in pairs]
    if all(tags):
        summary.update(_grouped("by_snr", rows, [t.group(1) for t in tags], key=float))
    summary.update(_grouped("by_band", rows, bands))
    made_of = pair_sources(noisy_dir)
    if made_of:
        for part in ("noise", "speech"):
            of = {pair: source_of(entry[part]) for pair, entry in made_of.items()}
            summary.update(_grouped(f"by_{part}", rows, [of.get(noisy_path.name, "?") for _, noisy_path in pairs]))
    return summary


def pair_sources(noisy_dir: Path) -> dict[str, dict]:
    """{pair file name: {"speech", "noise", "snr_db"}} from the pairs.json that ``streamdl data pairs``
    writes beside ``noisy_dir``; {} for folders it did not make."""
    manifest = noisy_dir.parent / PAIRS_MANIFEST
    return {entry["pair"]: entry for entry in json.loads(manifest.read_text())} if manifest.is_file() else {}


def source_of(name: str) -> str:
    """Where a clip of pairs.json came from: its source for corpus clips ('widelands:usr/...' -> 'widelands'),
    its top folder for files of a noise folder ('vehicle/car.flac' -> 'vehicle'), else its own name."""
    return name.split(":", 1)[0] if ":" in name else name.split("/", 1)[0]


def _grouped(field: str, rows: list[dict[str, dict]], groups: list[str], key=None) -> dict:
    """{field: {group: {"pairs": n, system: means}}} (each group shaped like the whole summary) in
    sorted group order, or {} when there is only one group."""
    names = sorted(set(groups), key=key)
    members = {g: [r for r, of in zip(rows, groups) if of == g] for g in names}
    return {field: {g: {"pairs": len(rs), **_means(rs)} for g, rs in members.items()}} if len(names) > 1 else {}


def _means(rows: list[dict[str, dict]]) -> dict[str, dict]:
    """{system: {metric: mean over rows}} (NaN scores left out)."""
    return {name: {m: round(float(np.nanmean([r[name][m] for r in rows])), 4) for m in METRICS} for name in rows[0]}


def format_report(report: dict) -> str:
    """:func:`evaluate_folders`'s report for people: the means of every system, then the groups."""
    systems = [name for name in report if isinstance(report[name], dict) and "pesq_wb" in report[name]]
    lines = [f"{report['pairs']} pairs", f"{'':<10}{'PESQ-WB':>9}{'STOI':>8}{'SI-SDR':>9}"]
    lines += [f"{name:<10}{report[name]['pesq_wb']:>9.3f}{report[name]['stoi']:>8.3f}{report[name]['si_sdr']:>9.2f}" for name in systems]
    return "\n".join(lines + group_lines(report))


def group_lines(report: dict) -> list[str]:
    """One line a group of ``report["by_snr"]``, ``report["by_noise"]``, ``report["by_speech"]`` and
    ``report["by_band"]`` (absent: none): PESQ-WB / STOI / SI-SDR of every system."""
    lines = [f"input SNR {snr} dB: " + _scores(group) for snr, group in report.get("by_snr", {}).items()]
    for part in ("noise", "speech", "band"):
        lines += [f"{part} {name}: " + _scores(group) for name, group in report.get(f"by_{part}", {}).items()]
    return lines


def _scores(group: dict) -> str:
    scores = ", ".join(f"{name} {m['pesq_wb']:.3f} / {m['stoi']:.3f} / {m['si_sdr']:.1f}" for name, m in group.items() if name != "pairs")
    return f"{scores} (PESQ-WB / STOI / SI-SDR dB, {group['pairs']} pair{'s' * (group['pairs'] != 1)})"
