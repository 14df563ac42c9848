"""Pool several runs of compare_denoisers.py (different draws of pairs) into one comparison, per pair.

Sixty pairs are too few to settle a STOI difference of 0.01 between two denoisers: a second draw
from the same speech and noises moves each system's mean by more than that. Draw more pairs with
other seeds, compare on each draw, then pool:

    streamdl data pairs --corpus data/corpus --out data/eval_s2027 --count 120 --seed 2027
    python benchmarks/compare_denoisers.py --clean data/eval_s2027/clean --noisy data/eval_s2027/noisy --json > s2027.json
    python benchmarks/pool_comparisons.py s2026.json s2027.json s2028.json

Prints, for PESQ-WB and STOI: each system's mean over all pairs and by input SNR, and streamdl's
difference to each other system with a bootstrap 95% interval, its median over pairs and the share
of pairs where streamdl is ahead.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from streamdl.evaluation.speech import SNR_TAG


def pooled(reports: list[dict]) -> tuple[list[str], dict[str, dict[str, np.ndarray]]]:
    """(pair names, {system: {metric: per-pair scores}}) over the reports' pairs; streamdl's first
    backend stands for streamdl (the backends' scores agree)."""
    names, scores = [], {}
    for i, report in enumerate(reports):
        for pair, by_system in report["by_pair"].items():
            names.append(f"{i}:{pair}")
            ours = next(s for s in by_system if s.startswith("streamdl"))
            for system, metrics in by_system.items():
                if system == "noisy" or (system.startswith("streamdl") and system != ours):
                    continue
                for metric, value in metrics.items():
                    scores.setdefault("streamdl" if system == ours else system, {}).setdefault(metric, []).append(value)
    return names, {s: {m: np.array(v) for m, v in by_metric.items()} for s, by_metric in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="JSON outputs of compare_denoisers.py --json")
    parser.add_argument("--metrics", default="pesq_wb,stoi")
    args = parser.parse_args()
    names, scores = pooled([json.loads(Path(path).read_text()) for path in args.reports])
    snr = np.array([SNR_TAG.search(n).group(1) for n in names])
    others = [s for s in scores if s != "streamdl"]
    rng = np.random.default_rng(0)
    for metric in args.metrics.split(","):
        print(f"{metric}, {len(names)} pairs: " + ", ".join(f"{s} {v[metric].mean():.4f}" for s, v in scores.items()))
        for level in sorted(set(snr), key=float):
            at = snr == level
            print(f"  input SNR {level} dB ({at.sum()} pairs): " + ", ".join(f"{s} {v[metric][at].mean():.4f}" for s, v in scores.items()))
        for other in others:
            d = scores["streamdl"][metric] - scores[other][metric]
            low, high = np.percentile([d[rng.integers(0, len(d), len(d))].mean() for _ in range(4000)], [2.5, 97.5])
            print(f"  streamdl - {other}: {d.mean():+.4f} (95% {low:+.4f} .. {high:+.4f}), median {np.median(d):+.4f}, "
                  f"ahead on {np.mean(d > 0):.0%} of pairs")


if __name__ == "__main__":
    main()
