"""Where intelligibility is lost, by frequency: STOI per one-third-octave band for streamdl and RNNoise.

    python benchmarks/stoi_bands.py PAIRS_DIR [PAIRS_DIR ...] [--model M] [--snr-db 0]

STOI is the mean, over 15 one-third-octave bands (150 Hz .. 3.8 kHz) and 384 ms stretches, of the
correlation between clean and processed band envelopes. This prints that mean per band instead of
over all of them, for the noisy input, streamdl and RNNoise on the pairs (``streamdl data pairs``
folders with clean/ and noisy/) at one input SNR, and streamdl minus RNNoise per band. The steps are
pystoi's own (its resampling to 10 kHz, silent-frame removal, framing and band matrix), so the
bands' mean is pystoi's STOI. Systems run as in compare_denoisers.py (one thread, delay-compensated).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from compare_denoisers import rnnoise_system, streamdl_system  # noqa: E402

from streamdl.engine.files import read_mono  # noqa: E402
from streamdl.evaluation.speech import SNR_TAG, paired_files, stoi_bands  # noqa: E402

RATE = 16000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", help="folders with clean/ and noisy/ (streamdl data pairs)")
    parser.add_argument("--model", help="streamdl denoiser file (default: the shipped weights)")
    parser.add_argument("--snr-db", type=float, default=0.0, help="score only the pairs mixed at this SNR")
    args = parser.parse_args()
    systems = {"noisy": lambda x, rate: x, "streamdl": streamdl_system("onnx", args.model)[0], "rnnoise": rnnoise_system()[0]}
    bands = {name: [] for name in systems}
    for folder in map(Path, args.folders):
        for clean_path, noisy_path in paired_files(folder / "clean", folder / "noisy"):
            tag = SNR_TAG.search(noisy_path.name)
            if tag is None or float(tag.group(1)) != args.snr_db:
                continue
            clean, noisy = read_mono(clean_path, RATE), read_mono(noisy_path, RATE)
            for name, run in systems.items():
                bands[name].append(stoi_bands(clean, run(noisy, RATE)[: len(clean)], RATE))
    if not bands["noisy"]:
        sys.exit(f"no pairs at {args.snr_db:g} dB under {', '.join(args.folders)}")
    means = {name: np.mean(rows, axis=0) for name, rows in bands.items()}
    centres = 150 * 2 ** (np.arange(15) / 3)
    print(f"{len(bands['noisy'])} pairs at {args.snr_db:g} dB; STOI per band (centre Hz), then their mean")
    print(f"{'':<10}" + "".join(f"{c:>7.0f}" for c in centres) + f"{'STOI':>8}")
    for name, m in means.items():
        print(f"{name:<10}" + "".join(f"{b:>7.3f}" for b in m) + f"{m.mean():>8.4f}")
    print(f"{'difference':<10}" + "".join(f"{b:>+7.3f}" for b in means["streamdl"] - means["rnnoise"]) + "  (streamdl - RNNoise)")


if __name__ == "__main__":
    main()
