"""streamdl's restorer on damaged speech beside classical restorations, on held-out wideband speech.

    streamdl data pairs --corpus data/corpus --out data/eval   # its clean/ folder: held-out speakers
    python benchmarks/compare_restorers.py --speech data/eval/clean [--model A.npz --model B.pt] [--json]

Every wideband file of the folder (narrowband ones are skipped) is damaged in seven ways: low-passed at 4 kHz by a
resampler (an 8 kHz recording played at 16 kHz), a telephone channel (300-3400 Hz, G.711 mu-law), low-passed at 6 kHz,
hard-clipped at a quarter of its peak, saturated (tanh) at a quarter of its peak, given gaps of digital silence (10-60 ms, 2 a second), and not at all. Rows:
the damaged input, the classical restoration of that damage, and each model (default: the shipped one), run through
the chain as ``streamdl restore`` runs it (its repair of clipping and gaps, then the restorer). The classical
restorations, offline and each told what the damage was:
- band limits: spectral folding with an envelope (the band below the cutoff copied above it, 6 dB down at the
  cutoff and falling 6 dB per octave);
- clipping: consistent iterative hard thresholding (STFT coefficients under a threshold falling from 0 to -60 dB
  are dropped, then the unclipped samples are put back and the clipped ones kept beyond the clip level; offline);
- saturation: the inverse of the tanh at its true level;
- gaps: the last pitch period before each gap repeated across it.
Scores against the clean file: the log-spectral distance over 4-8 kHz (dB, lower is better, over frames within 40 dB
of the loudest), PESQ-WB, STOI and SI-SDR. Also the chain's repair stage's time per hop (median, p99) on each damage.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from streamdl.data.damage import band_limited, clipped, is_wideband, telephone, with_gaps  # noqa: E402
from streamdl.dsp.saturation import desaturated  # noqa: E402
from streamdl.dsp.stft import STFTConfig, istft, stft  # noqa: E402
from streamdl.engine.files import process_array, read_mono  # noqa: E402
from streamdl.engine.options import ChainOptions  # noqa: E402
from streamdl.engine.pipeline import build_chain  # noqa: E402
from streamdl.evaluation.bench import Timed  # noqa: E402
from streamdl.evaluation.speech import score  # noqa: E402
from streamdl.io.audiofile import find_audio_files  # noqa: E402
from streamdl.models.configs import RestorerConfig  # noqa: E402

RATE = 16000
CLIP_LEVEL = 0.25  # of the file's peak
DAMAGES = {  # name -> (damage, its classical restoration)
    "lowpass 4k": (lambda x, rng: band_limited(x, RATE, 4000), lambda y: folded(y, 4000)),
    "telephone": (lambda x, rng: telephone(x, RATE), lambda y: folded(y, 3400)),
    "lowpass 6k": (lambda x, rng: band_limited(x, RATE, 6000), lambda y: folded(y, 6000)),
    "clipped 0.25": (lambda x, rng: clipped(x, CLIP_LEVEL * np.abs(x).max()), lambda y: declipped(y, np.abs(y).max())),
    "saturated 0.25": (lambda x, rng: clipped(x, CLIP_LEVEL * np.abs(x).max(), soft=True),
                       lambda y: desaturated(y, np.abs(y).max() / np.tanh(1 / CLIP_LEVEL))),
    "gaps 2/s": (lambda x, rng: with_gaps(x, RATE, rng), lambda y: gaps_repeated(y)),
    "whole": (lambda x, rng: x, lambda y: y),  # nothing to restore
}


def lsd_high(reference: np.ndarray, estimate: np.ndarray, n_fft: int = 512) -> float:
    """Log-spectral distance (dB) over 4-8 kHz, mean over the frames within 40 dB of the reference's loudest."""
    def power(x):
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[:: n_fft // 4] * np.hanning(n_fft)
        return np.abs(np.fft.rfft(frames, axis=1)) ** 2

    ref, est = power(reference), power(estimate)
    band = slice(n_fft // 4, n_fft // 2)
    energy = 10 * np.log10(ref.sum(1) + 1e-12)
    active = energy > energy.max() - 40
    diff = 10 * np.log10(ref[active, band] + 1e-10) - 10 * np.log10(est[active, band] + 1e-10)
    return float(np.sqrt((diff**2).mean(1)).mean())


def folded(x: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Classical bandwidth extension, frame by frame: bins above the cutoff copied from below it as the restorer
    fills them (``RestorerConfig.fill_sources``), at 6 dB below the source at the cutoff and falling 6 dB per octave."""
    config = STFTConfig()
    if cutoff_hz >= config.sample_rate / 2:
        return x
    cutoff = int(np.ceil(cutoff_hz * config.n_fft / config.sample_rate))
    bins = np.arange(config.n_bins)
    source = RestorerConfig().fill_sources()[cutoff]
    gain = np.where(bins >= cutoff, 0.5 * cutoff / np.maximum(bins, 1), 1.0).astype(np.float32)
    out = istft(stft(np.pad(x, (0, config.delay_samples)), config)[:, source] * gain, config)
    return out[config.delay_samples : config.delay_samples + len(x)]


def declipped(y: np.ndarray, level: float, iterations: int = 60) -> np.ndarray:
    """Consistent iterative hard thresholding of ``y`` hard-clipped at ``level`` (see the module's docstring)."""
    from scipy.signal import istft as sp_istft
    from scipy.signal import stft as sp_stft

    high, low = y >= level * 0.9999, y <= -level * 0.9999
    reliable = ~(high | low)
    x = y.astype(np.float64)
    for i in range(iterations):
        z = sp_stft(x, nperseg=512, noverlap=384)[2]
        z[np.abs(z) < np.abs(z).max() * 10 ** (-3 * (i + 1) / iterations)] = 0
        x = np.pad(sp_istft(z, nperseg=512, noverlap=384)[1], (0, len(y)))[: len(y)]
        x[reliable] = y[reliable]
        x[high], x[low] = np.maximum(x[high], level), np.minimum(x[low], -level)
    return x.astype(np.float32)


def gaps_repeated(y: np.ndarray, shortest: int = 80) -> np.ndarray:
    """``y`` with each run of at least ``shortest`` zero samples filled by repeating the pitch period (2.5-16 ms,
    by autocorrelation over the 30 ms before it) that ends where the gap starts."""
    x = y.copy()
    zero = np.concatenate([[0], (y == 0).astype(np.int8), [0]])
    starts, ends = np.flatnonzero(np.diff(zero) == 1), np.flatnonzero(np.diff(zero) == -1)
    for start, end in zip(starts, ends):
        history = x[max(start - 480, 0) : start]
        if end - start < shortest or len(history) < 300:
            continue
        lags = np.arange(40, 256)
        corr = [history[lag:] @ history[:-lag] for lag in lags]
        period = history[-int(lags[np.argmax(corr)]) :]
        x[start:end] = np.resize(period, end - start)
    return x


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--speech", required=True, help="folder of clean speech (its wideband files are used)")
    p.add_argument("--model", action="append", default=[], help="restorer model file (repeat for several; default: the shipped one)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    clean = [x for x in (read_mono(f, RATE) for f in find_audio_files(args.speech)) if is_wideband(x, RATE)]
    chains = {os.path.basename(m) or "shipped": build_chain(ChainOptions(denoise=False, restore=True, restorer_model=m)) for m in args.model or [""]}
    repair_us: list[float] = []
    next(iter(chains.values())).instrument(lambda name, part: Timed(part, repair_us) if name == "repair" else part)
    rows: dict[str, dict[str, list[dict]]] = {}
    times: dict[str, list[float]] = {}
    rng = np.random.default_rng(0)
    for x in clean:
        for damage, (make, classical) in DAMAGES.items():
            damaged = make(x, rng)
            systems = {"damaged input": damaged, "classical": classical(damaged)}
            del repair_us[:]
            systems.update({f"streamdl {name}": process_array(chain, damaged[:, None], RATE)[:, 0] for name, chain in chains.items()})
            times.setdefault(damage, []).extend(repair_us)
            for system, y in systems.items():
                rows.setdefault(system, {}).setdefault(damage, []).append({**score(x, y, RATE), "lsd_4_8k": lsd_high(x, y)})
    table = {system: {damage: {k: round(float(np.nanmean([s[k] for s in scores])), 3) for k in ("lsd_4_8k", "pesq_wb", "stoi", "si_sdr")}
                      for damage, scores in by_damage.items()} for system, by_damage in rows.items()}  # fmt: skip
    repair = {damage: {"median_us": round(1e6 * float(np.median(t)), 1), "p99_us": round(1e6 * float(np.percentile(t, 99)), 1)} for damage, t in times.items()}
    if args.json:
        print(json.dumps({"files": len(clean), "scores": table, "repair_per_hop": repair}, indent=1))
        return
    print(f"{len(clean)} wideband files; LSD 4-8 kHz (dB) / PESQ-WB / STOI / SI-SDR (dB)")
    print("| system | " + " | ".join(DAMAGES) + " |\n|---|" + "---|" * len(DAMAGES))
    for system, by_damage in table.items():
        print(f"| {system} | " + " | ".join(f"{s['lsd_4_8k']:.1f} / {s['pesq_wb']:.2f} / {s['stoi']:.3f} / {s['si_sdr']:.1f}" for s in by_damage.values()) + " |")
    print("repair stage per hop (median / p99 us): " + ", ".join(f"{d} {t['median_us']:.0f} / {t['p99_us']:.0f}" for d, t in repair.items()))


if __name__ == "__main__":
    main()
