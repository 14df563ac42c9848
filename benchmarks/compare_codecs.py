"""streamdl's neural codec beside Opus at the same bitrates on the same speech: quality and cost.

    pip install opuslib==3.0.1          # a binding to the system libopus (Debian libopus0)
    streamdl data pairs --corpus data/corpus --out data/eval   # its clean/ folder: held-out speakers
    python benchmarks/compare_codecs.py --speech data/eval/clean [--kbps 3 6 12] [--loss 0.05] [--json]

Both codecs run on one thread at 16 kHz in 20 ms frames. Opus uses its VOIP mode with the
bitrate set to the same kbps; its decoded output is aligned to the input by cross-correlation
(Opus adds its own look-ahead). Per-frame cost is encoder plus decoder for one 20 ms frame,
median and 99th percentile over all frames of all files. "file kbps" is the size of streamdl's
``.sdlc`` files, headers and CRCs included, over their duration. With ``--loss``, that share of
streamdl's frames is dropped at random (the same frames for both rows): "concealed" decodes the
stream with the gaps as the live decoder would, "silence" plays nothing in their place.
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
from streamdl.io.bitstream import write_stream  # noqa: E402
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
    hops = (0.1 * np.random.default_rng(0).standard_normal((frames * stage.pool, stage.hop))).astype(np.float32)
    for i in range(0, len(hops), stage.pool):
        for hop in hops[i : i + stage.pool - 1]:
            stage(hop)
        t0 = time.perf_counter()
        stage(hops[i + stage.pool - 1])  # the last hop of a frame runs the model
        times.append(time.perf_counter() - t0)


def lost_frames(codes: np.ndarray, info, loss: float, seed: int, ramp: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes with a random ``loss`` share of frames marked lost (-1), the 0/1 mask of samples those frames
    decode to: a frame's samples come out ``ramp`` samples late)."""
    lost = np.random.default_rng(seed).random(len(codes)) < loss
    mask = np.ones(len(codes) * info.frame_samples + ramp, np.float32)
    for t in np.flatnonzero(lost):
        mask[t * info.frame_samples : (t + 1) * info.frame_samples] = 0.0
    return np.where(lost[:, None], -1, codes), mask[ramp : ramp + info.samples]


def file_kbps(codes: np.ndarray, info, path) -> float:
    write_stream(path, codes, info)
    return os.path.getsize(path) * 8 / (info.samples / RATE) / 1000


def summary(times: list[float]) -> dict:
    us = np.asarray(times) * 1e6
    return {"median_us": round(float(np.median(us)), 1), "p99_us": round(float(np.percentile(us, 99)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speech", required=True, help="folder of clean speech files")
    parser.add_argument("--kbps", type=float, nargs="+", default=[3.0, 6.0, 12.0])
    parser.add_argument("--model", help="codec model file (default: the shipped weights)")
    parser.add_argument("--loss", type=float, default=0.05, help="share of frames lost for the concealment rows (0: none)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_codec(args.model)
    files = [read_mono(p, RATE) for p in find_audio_files(args.speech)]
    report = {"files": len(files), "seconds": round(sum(len(x) for x in files) / RATE, 1), "rows": []}
    names = ["streamdl", "opus"] + (["concealed", "silence"] if args.loss else [])
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"compare_codecs_{os.getpid()}.sdlc")
    for kbps in args.kbps:
        for name in names:
            scores, times, sizes = [], [], []
            for i, x in enumerate(files):
                if name == "opus":
                    y = opus_round_trip(x, kbps, times)
                else:
                    codes, info = encode(model, x, kbps)
                    sizes.append(file_kbps(codes, info, tmp))
                    lossy, mask = lost_frames(codes, info, args.loss, seed=i, ramp=model.config.overlap) if name != "streamdl" else (codes, 1.0)
                    y = decode(model, lossy if name == "concealed" else codes, info) * (mask if name == "silence" else 1.0)
                scores.append(score(x, y, RATE))
            if name == "streamdl":
                streamdl_cost(model, kbps, 500, times)
            mean = {k: round(float(np.nanmean([s[k] for s in scores])), 3) for k in ("pesq_wb", "stoi", "si_sdr")}
            extra = {"file_kbps": round(max(sizes), 3)} if sizes else {}
            report["rows"].append({"codec": name, "kbps": kbps, **mean, **extra, "frame_cost": summary(times) if times else None})
    if os.path.exists(tmp):
        os.remove(tmp)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['files']} files, {report['seconds']} s of speech, 16 kHz, one thread, cost per 20 ms frame (encode + decode)")
    if args.loss:
        print(f"concealed / silence: streamdl with {args.loss:.0%} of its frames lost, concealed or played as silence")
    print(f"{'codec':<10}{'kbps':>6}{'file kbps':>10}{'PESQ-WB':>9}{'STOI':>7}{'SI-SDR':>8}{'median us':>11}{'p99 us':>9}")
    for r in report["rows"]:
        c = r["frame_cost"] or {"median_us": float("nan"), "p99_us": float("nan")}
        size = f"{r['file_kbps']:.3f}" if "file_kbps" in r else ""
        print(f"{r['codec']:<10}{r['kbps']:>6g}{size:>10}{r['pesq_wb']:>9.3f}{r['stoi']:>7.3f}{r['si_sdr']:>8.2f}{c['median_us']:>11.1f}{c['p99_us']:>9.1f}")


if __name__ == "__main__":
    main()
