"""Start-up cost of the command line as a user meets it: wall time and peak memory of `streamdl denoise`
on a 3 s file, and how soon `streamdl run` is playing, beside the import of numpy, numba and soundfile
alone, measured in the same run (warm caches; medians of --runs runs).

    python benchmarks/startup.py [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

STREAMDL = [sys.executable, "-m", "streamdl"]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def _until_playing(tmp: Path, source: Path) -> float:
    """Seconds from starting `streamdl run` (a file as the microphone, tagging on) to its stream running:
    the recording it opens as the stream starts appears."""
    out = tmp / "live.wav"
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen([*STREAMDL, "run", "--input-file", str(source), "--no-play", "--tag", "--record", str(out), "--seconds", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while not out.exists():
        time.sleep(0.002)
    playing = time.perf_counter() - start
    proc.wait()
    return playing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        sf.write(tmp / "three.wav", (0.1 * rng.standard_normal(3 * 16000)).astype(np.float32), 16000)
        subprocess.run([*STREAMDL, "warmup"], check=True, capture_output=True)
        rows = {"imports": [], "denoise": [], "run_playing": []}
        for _ in range(args.runs):  # interleaved, so that machine noise hits all alike
            rows["imports"].append(_timed([sys.executable, "-c", "import numpy, numba, soundfile"]))
            rows["denoise"].append(_timed([*STREAMDL, "denoise", "-q", str(tmp / "three.wav"), str(tmp / "out.wav")]))
            rows["run_playing"].append((_until_playing(tmp, tmp / "three.wav"), 0.0))
    report = {name: {"wall_s": round(statistics.median(w for w, _ in r), 3), "peak_mb": round(statistics.median(m for _, m in r), 1)}
              for name, r in rows.items()}  # fmt: skip
    report["denoise_minus_imports_s"] = round(report["denoise"]["wall_s"] - report["imports"]["wall_s"], 3)
    if args.json:
        print(json.dumps(report))
        return
    print(f"import numpy, numba, soundfile: {report['imports']['wall_s']:.2f} s, {report['imports']['peak_mb']:.0f} MB")
    print(f"streamdl denoise (3 s file):    {report['denoise']['wall_s']:.2f} s, {report['denoise']['peak_mb']:.0f} MB "
          f"(+{report['denoise_minus_imports_s']:.2f} s)")
    print(f"streamdl run, until playing:    {report['run_playing']['wall_s']:.2f} s  (medians of {args.runs} runs)")


if __name__ == "__main__":
    main()
