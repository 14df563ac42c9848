"""The restorer on real narrowband speech, where no wideband original exists: how much high band it adds.

    python benchmarks/restore_narrowband.py --corpus data/corpus_admitted [--model M] [--image docs/restorer.png]

Takes 40 telephone prompts (8 kHz recordings, Debian asterisk-core-sounds) from the corpus's held-out test
split and reports the long-term level of 4.5-7 kHz against 0.3-3 kHz before and after ``streamdl restore``'s
chain, beside the same measure on the corpus's wideband validation speech. With ``--image``, the
spectrograms of the first prompt before and after.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from streamdl.data.damage import wideband  # noqa: E402
from streamdl.data.mixing import Pool  # noqa: E402
from streamdl.engine.files import process_array  # noqa: E402
from streamdl.engine.options import ChainOptions  # noqa: E402
from streamdl.engine.pipeline import build_chain  # noqa: E402

RATE = 16000


def high_band_db(x: np.ndarray) -> float:
    """Long-term power of 4.5-7 kHz over 0.3-3 kHz, dB."""
    power, freqs = np.abs(np.fft.rfft(x)) ** 2, np.fft.rfftfreq(len(x), 1 / RATE)
    return float(10 * np.log10(power[(freqs > 4500) & (freqs < 7000)].mean() / power[(freqs > 300) & (freqs < 3000)].mean()))


def clips(pool: Pool, indices) -> list[np.ndarray]:
    return [pool.audio[pool.offsets[i] : pool.offsets[i + 1]].astype(np.float32) / 32768 for i in indices]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, help="a folder made by 'streamdl data build'")
    p.add_argument("--model", default="", help="restorer model file (default: the shipped one)")
    p.add_argument("--image", help="write the first prompt's spectrograms here (PNG; needs matplotlib)")
    args = p.parse_args()

    test = Pool.load(Path(args.corpus) / "speech_test.npz")
    prompts = [i for i, name in enumerate(test.names) if str(name).startswith("asterisk")]
    prompts = clips(test, np.random.default_rng(0).choice(prompts, min(40, len(prompts)), replace=False))
    val = wideband(Pool.load(Path(args.corpus) / "speech_val.npz"), RATE)
    chain = build_chain(ChainOptions(denoise=False, restore=True, restorer_model=args.model))
    restored = [process_array(chain, x[:, None], RATE)[:, 0] for x in prompts]
    print(f"{len(prompts)} telephone prompts, 4.5-7 kHz against 0.3-3 kHz (median): "
          f"{np.median([high_band_db(x) for x in prompts]):.1f} dB as recorded, {np.median([high_band_db(y) for y in restored]):.1f} dB "
          f"restored; wideband validation speech {np.median([high_band_db(x) for x in clips(val, range(len(val.names)))]):.1f} dB")  # fmt: skip
    if args.image:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
        for ax, signal, title in ((axes[0], prompts[0], "telephone prompt (an 8 kHz recording)"), (axes[1], restored[0], "streamdl restore")):
            ax.specgram(signal + 1e-7, NFFT=512, Fs=RATE, noverlap=384, vmin=-140, cmap="magma")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("s")
        axes[0].set_ylabel("Hz")
        fig.tight_layout()
        fig.savefig(args.image, dpi=80)


if __name__ == "__main__":
    main()
