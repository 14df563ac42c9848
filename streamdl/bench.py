"""Per-hop cost of the live chain, one thread, with plain-NumPy references timed in the same run.

Every stage runs on the same hops in turn, so machine noise hits all of them alike; the report
gives medians and 99th percentiles in microseconds, the NumPy reference of the STFT pair, and
the ratio between them.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from streamdl.dsp.stft import STFTConfig, StreamingISTFT, StreamingSTFT, _analysis_step, _synthesis_step
from streamdl.engine.chain import Chain


class _NumpySTFTPair:
    """The same analysis/synthesis kernels run as plain Python + NumPy (Numba's py_func)."""

    def __init__(self, stft: StreamingSTFT, istft: StreamingISTFT):
        self.stft, self.istft = stft, istft
        self.frame_buf = np.zeros_like(stft._frame_buf)
        self.ola_buf = np.zeros_like(istft._ola_buf)
        self.spec = np.zeros_like(stft._out)
        self.out = np.zeros_like(istft._out)

    def analysis(self, x):
        _analysis_step.py_func(self.frame_buf, x, self.stft.window, self.spec)
        return self.spec

    def synthesis(self, spec):
        _synthesis_step.py_func(self.ola_buf, spec, self.istft.window, self.out)
        return self.out


def _summary(times_s: list[float]) -> dict:
    us = np.asarray(times_s) * 1e6
    return {"median_us": round(float(np.median(us)), 2), "p99_us": round(float(np.percentile(us, 99)), 2)}


def _codec_times(codec, spectra: list[np.ndarray], backend: str, kbps: float = 6.0) -> dict[str, list[float]]:
    """Per-hop seconds of the codec's exported encoder and decoder (``backend``), each run once per
    codec frame, at ``kbps``."""
    from streamdl.models.codec import CodecDecoder, CodecEncoder
    from streamdl.models.export import StreamStep

    codec.set_bitrate(kbps)
    encoder, decoder = StreamStep(CodecEncoder(codec), backend), StreamStep(CodecDecoder(codec), backend)
    pool = codec.config.pool
    times = {"codec_encode": [], "codec_decode": []}
    clock = time.perf_counter
    for i in range(0, len(spectra) - pool + 1, pool):
        frame = np.stack(spectra[i : i + pool]).view(np.float32).reshape(1, pool, -1, 2)
        t0 = clock()
        codes = encoder(frame)
        t1 = clock()
        decoder(codes)
        times["codec_encode"].append((t1 - t0) / pool)
        times["codec_decode"].append((clock() - t1) / pool)
    return times


def run_bench(seconds: float = 10.0, stages: dict | None = None, config: STFTConfig = STFTConfig(), seed: int = 0,
              taps: dict | None = None, codec=None, codec_backend: str = "onnx") -> dict:  # fmt: skip
    """Time the chain on ``seconds`` of noise; ``stages`` maps names to spectral stages (e.g. "denoiser"),
    ``taps`` names to input taps (e.g. "tagger"). A tap that works once every ``tap.pool`` hops is
    reported per hop as the cost of each group of ``pool`` hops divided by ``pool``. A ``codec``
    model adds "codec_encode" and "codec_decode" (6 kbps, per hop, exported for ``codec_backend``),
    timed on the same spectra outside the chain's total.
    """
    torch.set_num_threads(1)
    stages, taps = stages or {}, taps or {}
    chain = Chain(config, list(stages.values()), list(taps.values()))
    reference = _NumpySTFTPair(chain.stft, chain.istft)
    hops = int(seconds * config.sample_rate / config.hop)
    x = (0.1 * np.random.default_rng(seed).standard_normal((hops, config.hop))).astype(np.float32)
    names = ["stft", *taps, *stages, "istft", "total", "numpy_stft", "numpy_istft"]
    times = {name: [] for name in names}
    spectra = []  # the codec's input: the main loop's spectra
    clock = time.perf_counter
    for i in range(min(200, hops)):  # warm-up: caches, allocator, branch predictors
        chain.process(x[i])
    for i in range(hops):  # each hop once, part by part as Chain.process runs it; the total spans the parts
        start = clock()
        spec = chain.stft(x[i])
        t1 = clock()
        times["stft"].append(t1 - start)
        inputs = spec
        for name, tap in taps.items():
            t0 = clock()
            tap(spec)
            times[name].append(clock() - t0)
        for name, stage in stages.items():
            t0 = clock()
            spec = stage(spec)
            times[name].append(clock() - t0)
        t0 = clock()
        chain.istft(spec)
        end = clock()
        times["istft"].append(end - t0)
        times["total"].append(end - start)
        if codec is not None:
            spectra.append(inputs.copy())
        t0 = clock()
        ref = reference.analysis(x[i])
        t1 = clock()
        reference.synthesis(ref)
        times["numpy_stft"].append(t1 - t0)
        times["numpy_istft"].append(clock() - t1)
    if codec is not None:
        times.update(_codec_times(codec, spectra, codec_backend))
    for name, tap in taps.items():
        pool = getattr(tap, "pool", 1)
        t = np.asarray(times[name])
        times[name] = list(t[: len(t) // pool * pool].reshape(-1, pool).mean(axis=1))
    summary = {name: _summary(t) for name, t in times.items()}
    total = summary.pop("total")
    numpy_ref = {"stft": summary.pop("numpy_stft"), "istft": summary.pop("numpy_istft")}
    return {
        "sample_rate": config.sample_rate,
        "hop": config.hop,
        "hop_ms": config.hop_ms,
        "algorithmic_latency_ms": config.algorithmic_latency_ms,
        "stages": summary,
        "total": total,
        "rtf": round(total["median_us"] / (1000 * config.hop_ms), 4),
        "numpy_reference": numpy_ref,
        "stft_istft_vs_numpy": round(
            (summary["stft"]["median_us"] + summary["istft"]["median_us"]) / (numpy_ref["stft"]["median_us"] + numpy_ref["istft"]["median_us"]), 3
        ),
        **({"tagger_vs_denoiser": round(summary["tagger"]["median_us"] / summary["denoiser"]["median_us"], 3)}
           if "tagger" in summary and "denoiser" in summary else {}),  # fmt: skip
        "hops": hops,
        "threads": torch.get_num_threads(),
    }


def format_table(report: dict) -> str:
    lines = [f"{'stage':<14}{'median us':>12}{'p99 us':>12}"]
    for name, s in {**report["stages"], "total": report["total"]}.items():
        lines.append(f"{name:<14}{s['median_us']:>12.1f}{s['p99_us']:>12.1f}")
    for name, s in report["numpy_reference"].items():
        lines.append(f"{'numpy ' + name:<14}{s['median_us']:>12.1f}{s['p99_us']:>12.1f}")
    lines.append(
        f"hop {report['hop_ms']:.0f} ms, algorithmic latency {report['algorithmic_latency_ms']:.0f} ms, RTF {report['rtf']:.4f}, "
        f"STFT+iSTFT = {report['stft_istft_vs_numpy']:.2f} x NumPy"
        + (f", tagger = {report['tagger_vs_denoiser']:.2f} x denoiser" if "tagger_vs_denoiser" in report else "")
    )
    return "\n".join(lines)
