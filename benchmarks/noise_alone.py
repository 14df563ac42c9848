"""How far streamdl and RNNoise turn down noise alone: no speech in, so every dB out is residual noise.

    python benchmarks/noise_alone.py NOISE_DIR [NOISE_DIR ...] [--model M] [--level-db -30]

Each audio file under each folder (its first 4 s, set to ``--level-db`` dBFS RMS) goes through both
systems, as in compare_denoisers.py (one thread, delay-compensated); prints the median and mean
attenuation (input over output energy, dB) per folder and system. For example the held-out test
noises and the unseen ones of the README: ``data/indep_noise/water`` and so on.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from compare_denoisers import rnnoise_system, streamdl_system  # noqa: E402

from streamdl.data.mixing import rms  # noqa: E402
from streamdl.io.audiofile import find_audio_files, read_audio  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--model", help="streamdl denoiser file (default: the shipped weights)")
    parser.add_argument("--level-db", type=float, default=-30.0, help="RMS of each noise going in, dBFS")
    args = parser.parse_args()
    systems = {"streamdl": streamdl_system("onnx", args.model)[0], "rnnoise": rnnoise_system()[0]}
    for folder in args.folders:
        db = {name: [] for name in systems}
        for path in find_audio_files(folder):
            audio, rate = read_audio(path)
            x = audio.mean(axis=1)[: 4 * rate]
            x = (x / (rms(x) + 1e-12) * 10 ** (args.level_db / 20)).astype(np.float32)  # now rms(x) is the level asked for
            for name, run in systems.items():
                db[name].append(args.level_db - 20 * np.log10(rms(run(x, rate)) + 1e-10))
        for name, values in db.items():
            print(f"{folder}: {name} takes {np.median(values):.1f} dB off noise alone (median of {len(values)}; mean {np.mean(values):.1f})")


if __name__ == "__main__":
    main()
