"""streamdl's neural codec beside Opus at the same bitrates on the same speech: quality and cost.

    pip install opuslib==3.0.1          # a binding to the system libopus (Debian libopus0)
    streamdl data pairs --corpus data/corpus --out data/eval   # its clean/ folder: held-out speakers
    python benchmarks/compare_codecs.py --speech data/eval/clean [--kbps 3 6 12] [--json]

Both codecs run on one thread at 16 kHz in 20 ms frames. Opus uses its VOIP mode with the
bitrate set to the same kbps; its decoded output is aligned to the input by cross-correlation
(Opus adds its own look-ahead). Per-frame cost is encoder plus decoder for one 20 ms frame,
median and 99th percentile over all frames of all files.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from streamdl.engine.files import read_mono  # noqa: E402
from streamdl.evaluation.speech import score  # noqa: E402
from streamdl.io.audiofile import find_audio_files  # noqa: E402
from streamdl.stages.codec import StreamingCodec, decode, encode, load_codec  # noqa: E402

RATE, FRAME = 16000, 320


def align(reference: np.ndarray, decoded: np.ndarray, max_lag: int = 800) -> np.ndarray:
    """``decoded`` shifted earlier by the lag (0..max_lag) that best matches ``reference``."""
    lags = [float(np.dot(reference[: len(reference) - lag], decoded[lag : len(reference)])) for lag in range(max_lag)]
    lag = int(np.argmax(lags))
    return np.pad(decoded[lag:], (0, lag))[: len(reference)]


def opus_round_trip(x: np.ndarray, kbps: float, times: list[float]) -> np.ndarray:
    import opuslib

    encoder = opuslib.Encoder(RATE, 1, opuslib.APPLICATION_VOIP)
    encoder.bitrate = int(kbps * 1000)
    decoder = opuslib.Decoder(RATE, 1)
    pcm = (np.clip(np.pad(x, (0, -len(x) % FRAME + FRAME)), -1, 1) * 32767).astype(np.int16)
    out = []
    for start in range(0, len(pcm), FRAME):
        t0 = time.perf_counter()
        packet = encoder.encode(pcm[start : start + FRAME].tobytes(), FRAME)
        frame = decoder.decode(packet, FRAME)
        times.append(time.perf_counter() - t0)
        out.append(np.frombuffer(frame, np.int16))
    return align(x, np.concatenate(out).astype(np.float32) / 32767)


def streamdl_cost(model, kbps: float, frames: int, times: list[float]) -> None:
    """Time the live round-trip stage (encoder + decoder) per 20 ms frame."""
    stage = StreamingCodec(model, kbps=kbps)
    spec = (0.1 * np.random.default_rng(0).standard_normal((frames * 2, 161, 2))).astype(np.float32).view(np.complex64)[..., 0]
    for i in range(0, len(spec), 2):
        stage(spec[i])
        t0 = time.perf_counter()
        stage(spec[i + 1])  # the second hop of a pair runs the model
        times.append(time.perf_counter() - t0)


def summary(times: list[float]) -> dict:
    us = np.asarray(times) * 1e6
    return {"median_us": round(float(np.median(us)), 1), "p99_us": round(float(np.percentile(us, 99)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speech", required=True, help="folder of clean speech files")
    parser.add_argument("--kbps", type=float, nargs="+", default=[3.0, 6.0, 12.0])
    parser.add_argument("--model", help="codec model file (default: the shipped weights)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_codec(args.model)
    files = [read_mono(p, RATE) for p in find_audio_files(args.speech)]
    report = {"files": len(files), "seconds": round(sum(len(x) for x in files) / RATE, 1), "rows": []}
    for kbps in args.kbps:
        for name in ("streamdl", "opus"):
            scores, times = [], []
            for x in files:
                if name == "opus":
                    y = opus_round_trip(x, kbps, times)
                else:
                    y = decode(model, *encode(model, x, kbps))
                scores.append(score(x, y, RATE))
            if name == "streamdl":
                streamdl_cost(model, kbps, 500, times)
            mean = {k: round(float(np.nanmean([s[k] for s in scores])), 3) for k in ("pesq_wb", "stoi", "si_sdr")}
            report["rows"].append({"codec": name, "kbps": kbps, **mean, "frame_cost": summary(times)})
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['files']} files, {report['seconds']} s of speech, 16 kHz, one thread, cost per 20 ms frame (encode + decode)")
    print(f"{'codec':<10}{'kbps':>6}{'PESQ-WB':>9}{'STOI':>7}{'SI-SDR':>8}{'median us':>11}{'p99 us':>9}")
    for r in report["rows"]:
        c = r["frame_cost"]
        print(f"{r['codec']:<10}{r['kbps']:>6g}{r['pesq_wb']:>9.3f}{r['stoi']:>7.3f}{r['si_sdr']:>8.2f}{c['median_us']:>11.1f}{c['p99_us']:>9.1f}")


if __name__ == "__main__":
    main()
