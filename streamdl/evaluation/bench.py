"""Per-hop cost of a live chain, one thread, with a plain-NumPy reference timed in the same run.

The chain runs as it runs live (:meth:`~streamdl.engine.chain.Chain.process`), each part behind a
timing hook (:meth:`~streamdl.engine.chain.Chain.instrument`), so what is timed is what plays.
The NumPy reference (the same STFT kernels run uncompiled) is timed on the same hops, so machine
noise hits both alike; the report gives medians and 99th percentiles in microseconds.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

import numpy as np

from streamdl.assets import shipped_model_path
from streamdl.dsp.stft import StreamingISTFT, StreamingSTFT
from streamdl.engine.chain import Chain
from streamdl.engine.options import ChainOptions

WARMUP_HOPS = 200  # caches, allocator, branch predictors


class Timed:
    """A chain part that appends the seconds each call takes to ``times``; other attributes pass through."""

    def __init__(self, part, times: list[float]):
        self.part, self.times = part, times

    def __call__(self, x):
        start = time.perf_counter()
        out = self.part(x)
        self.times.append(time.perf_counter() - start)
        return out

    def __getattr__(self, name: str):
        return getattr(self.part, name)


def _summary(times_s) -> dict:
    us = np.asarray(times_s) * 1e6
    return {"median_us": round(float(np.median(us)), 2), "p99_us": round(float(np.percentile(us, 99)), 2)}


def _per_hop(times: list[float], pool: int) -> list[float]:
    """Seconds per hop of a part that works once every ``pool`` hops (the tagger, the codec): the cost
    of each group of ``pool`` hops divided by ``pool``, so its working hops count as they do live."""
    t = np.asarray(times)
    return list(t[: len(t) // pool * pool].reshape(-1, pool).mean(axis=1))


def bench_chain(options: ChainOptions) -> Chain:
    """The chain ``options`` describe, to be timed; with ``codec`` asked for while no codec model is given
    or shipped, an untrained one of the default shape (its cost does not depend on its weights)."""
    from streamdl.engine.pipeline import build_chain

    models = {}
    if options.codec and not options.codec_model and not shipped_model_path("codec").is_file():
        from streamdl.models.codec import Codec

        models["codec"] = Codec().eval()
    return build_chain(options, models=models)


def run_bench(chain: Chain, seconds: float = 10.0, seed: int = 0) -> dict:
    """Time ``chain`` (built by :func:`~streamdl.engine.pipeline.build_chain`, or by hand) on ``seconds`` of
    noise, hop by hop. Every part's time is reported under its name ("stft", "denoiser", "tagger",
    "codec", "istft", ...), with the chain's total per hop and the NumPy reference of the STFT pair."""
    if "torch" in sys.modules:  # one thread, as in a live stream; torch is not needed to run a chain
        sys.modules["torch"].set_num_threads(1)
    config = chain.config
    times: dict[str, list[float]] = defaultdict(list)
    pools: dict[str, int] = {}

    def timed(name: str, part):
        pools[name] = getattr(part, "pool", 1)
        return Timed(part, times[name])

    chain.instrument(timed)
    reference = StreamingSTFT(config, compiled=False), StreamingISTFT(config, compiled=False)
    hops = int(seconds * config.sample_rate / config.hop)
    x = (0.1 * np.random.default_rng(seed).standard_normal((WARMUP_HOPS + hops, config.hop))).astype(np.float32)
    clock = time.perf_counter
    for i in range(WARMUP_HOPS):
        chain.process(x[i])
    for t in times.values():
        t.clear()
    for i in range(WARMUP_HOPS, WARMUP_HOPS + hops):
        start = clock()
        chain.process(x[i])
        t0 = clock()
        spec = reference[0](x[i])
        t1 = clock()
        reference[1](spec)
        times["total"].append(t0 - start)
        times["numpy_stft"].append(t1 - t0)
        times["numpy_istft"].append(clock() - t1)
    summary = {name: _summary(_per_hop(t, pools.get(name, 1))) for name, t in times.items()}
    total = summary.pop("total")
    numpy_ref = {"stft": summary.pop("numpy_stft"), "istft": summary.pop("numpy_istft")}
    ratio = lambda a, b: round(summary[a]["median_us"] / summary[b]["median_us"], 3)  # noqa: E731
    return {
        "sample_rate": config.sample_rate,
        "hop": config.hop,
        "hop_ms": config.hop_ms,
        "algorithmic_latency_ms": chain.algorithmic_latency_ms,
        "stages": summary,
        "total": total,
        "rtf": round(total["median_us"] / (1000 * config.hop_ms), 4),
        "numpy_reference": numpy_ref,
        "stft_istft_vs_numpy": round(
            (summary["stft"]["median_us"] + summary["istft"]["median_us"]) / (numpy_ref["stft"]["median_us"] + numpy_ref["istft"]["median_us"]), 3
        ),
        **{f"{name}_vs_denoiser": ratio(name, "denoiser") for name in summary if "denoiser" in summary and name in ("tagger", "codec", "restorer", "repair")},
        "hops": hops,
        "threads": sys.modules["torch"].get_num_threads() if "torch" in sys.modules else 1,
    }


def format_table(report: dict) -> str:
    lines = [f"{'stage':<14}{'median us':>12}{'p99 us':>12}"]
    for name, s in {**report["stages"], "total": report["total"]}.items():
        lines.append(f"{name:<14}{s['median_us']:>12.1f}{s['p99_us']:>12.1f}")
    for name, s in report["numpy_reference"].items():
        lines.append(f"{'numpy ' + name:<14}{s['median_us']:>12.1f}{s['p99_us']:>12.1f}")
    ratios = "".join(f", {key[: -len('_vs_denoiser')]} = {value:.2f} x denoiser" for key, value in report.items() if key.endswith("_vs_denoiser"))
    lines.append(
        f"hop {report['hop_ms']:.0f} ms, algorithmic latency {report['algorithmic_latency_ms']:.0f} ms, RTF {report['rtf']:.4f}, "
        f"STFT+iSTFT = {report['stft_istft_vs_numpy']:.2f} x NumPy{ratios}"
    )
    return "\n".join(lines)
