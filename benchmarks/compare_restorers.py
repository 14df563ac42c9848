"""streamdl's restorer on band-limited speech beside a classical bandwidth extension, on held-out wideband speech.

    streamdl data pairs --corpus data/corpus --out data/eval   # its clean/ folder: held-out speakers
    python benchmarks/compare_restorers.py --speech data/eval/clean [--model A.npz --model B.pt] [--json]

Every wideband file of the folder (narrowband ones are skipped) is damaged in four ways: low-passed at 4 kHz by a
resampler (an 8 kHz recording played at 16 kHz), a telephone channel (300-3400 Hz, G.711 mu-law), low-passed at 6 kHz,
and not at all. Rows: the damaged input, spectral folding with an envelope (the classical baseline: the band below
the cutoff copied above it, falling 6 dB per octave, told the true cutoff), and each model (default: the shipped
one), run through the chain as ``streamdl restore`` runs it. Scores against the clean file: the log-spectral distance
over 4-8 kHz (dB, lower is better, over frames within 40 dB of the loudest), PESQ-WB and STOI.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from streamdl.data.damage import band_limited, is_wideband, telephone  # noqa: E402
from streamdl.dsp.stft import STFTConfig, istft, stft  # noqa: E402
from streamdl.engine.files import process_array, read_mono  # noqa: E402
from streamdl.engine.options import ChainOptions  # noqa: E402
from streamdl.engine.pipeline import build_chain  # noqa: E402
from streamdl.evaluation.speech import score  # noqa: E402
from streamdl.io.audiofile import find_audio_files  # noqa: E402

RATE = 16000
DAMAGES = {  # name -> (damage, the cutoff it leaves in Hz)
    "lowpass 4k": (lambda x: band_limited(x, RATE, 4000), 4000),
    "telephone": (lambda x: telephone(x, RATE), 3400),
    "lowpass 6k": (lambda x: band_limited(x, RATE, 6000), 6000),
    "whole": (lambda x: x, RATE / 2),  # nothing to restore
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
    """Classical bandwidth extension, frame by frame: bins above the cutoff copied from an even number of bins
    below it (so the copies' phases run on), at 6 dB below the source at the cutoff and falling 6 dB per octave."""
    config = STFTConfig()
    if cutoff_hz >= config.sample_rate / 2:
        return x
    cutoff = int(np.ceil(cutoff_hz * config.n_fft / config.sample_rate))
    width = max(2 * (cutoff // 4), 2)
    bins = np.arange(config.n_bins)
    source = np.where(bins >= cutoff, bins - ((bins - cutoff) // width + 1) * width, bins)
    gain = np.where(bins >= cutoff, 0.5 * cutoff / np.maximum(bins, 1), 1.0).astype(np.float32)
    out = istft(stft(np.pad(x, (0, config.delay_samples)), config)[:, source] * gain, config)
    return out[config.delay_samples : config.delay_samples + len(x)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--speech", required=True, help="folder of clean speech (its wideband files are used)")
    p.add_argument("--model", action="append", default=[], help="restorer model file (repeat for several; default: the shipped one)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    clean = [x for x in (read_mono(f, RATE) for f in find_audio_files(args.speech)) if is_wideband(x, RATE)]
    chains = {os.path.basename(m) or m: build_chain(ChainOptions(denoise=False, restore=True, restorer_model=m)) for m in args.model or [""]}
    rows: dict[str, dict[str, list[dict]]] = {}
    for x in clean:
        for damage, (make, cutoff) in DAMAGES.items():
            damaged = make(x)
            systems = {"damaged input": damaged, "folding baseline": folded(damaged, cutoff)}
            systems.update({f"streamdl {name}": process_array(chain, damaged[:, None], RATE)[:, 0] for name, chain in chains.items()})
            for system, y in systems.items():
                rows.setdefault(system, {}).setdefault(damage, []).append({**score(x, y, RATE), "lsd_4_8k": lsd_high(x, y)})
    table = {system: {damage: {k: round(float(np.nanmean([s[k] for s in scores])), 3) for k in ("lsd_4_8k", "pesq_wb", "stoi")}
                      for damage, scores in by_damage.items()} for system, by_damage in rows.items()}  # fmt: skip
    if args.json:
        print(json.dumps({"files": len(clean), "scores": table}, indent=1))
        return
    print(f"{len(clean)} wideband files; LSD 4-8 kHz (dB) / PESQ-WB / STOI")
    print("| system | " + " | ".join(DAMAGES) + " |\n|---|" + "---|" * len(DAMAGES))
    for system, by_damage in table.items():
        print(f"| {system} | " + " | ".join(f"{s['lsd_4_8k']:.2f} / {s['pesq_wb']:.3f} / {s['stoi']:.3f}" for s in by_damage.values()) + " |")


if __name__ == "__main__":
    main()
