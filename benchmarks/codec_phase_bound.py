"""How much of a codec's quality the STFT phase decides: true magnitudes with made-up phase.

    python benchmarks/codec_phase_bound.py --speech data/eval/clean

Each clip goes through streamdl's STFT (16 kHz, 20 ms sqrt-Hann frames, 10 ms hop), keeps its
exact magnitudes and gets its phase from one of: the clip itself ("true"), uniform noise
("random"), or a phase vocoder that advances every bin by its centre frequency ("advance").
The scores bound any codec that codes magnitudes perfectly but leaves the phase to a rule: what
the decoder must learn to make (the adversarial losses' job) is the gap to "true".
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from pesq import pesq
from pystoi import stoi

from streamdl.dsp.stft import STFTConfig
from streamdl.engine.files import read_mono
from streamdl.io.audiofile import find_audio_files
from streamdl.models.spectrum import Spectrum


def with_phase(x: np.ndarray, spectrum: Spectrum, rule: str, rng: np.random.Generator) -> np.ndarray:
    """``x`` (samples,) resynthesised from its STFT magnitudes and the phase ``rule`` makes; aligned to ``x``."""
    padded = np.pad(x, (0, spectrum.n_fft))  # the last samples' frames complete too
    spec = spectrum.stft(torch.from_numpy(padded)[None])[0].numpy()
    mag, true_phase = np.hypot(spec[..., 0], spec[..., 1]), np.arctan2(spec[..., 1], spec[..., 0])
    frames, bins = mag.shape
    if rule == "true":
        phase = true_phase
    elif rule == "random":
        phase = rng.uniform(-np.pi, np.pi, mag.shape)
    else:  # "advance": bin k turns by 2 pi k hop / n_fft per hop
        phase = np.outer(np.arange(frames), 2 * np.pi * np.arange(bins) * spectrum.hop / spectrum.n_fft)
    out = np.stack([mag * np.cos(phase), mag * np.sin(phase)], -1).astype(np.float32)
    y = spectrum.istft(torch.from_numpy(out)[None])[0].numpy()
    delay = spectrum.n_fft - spectrum.hop
    return np.pad(y[delay:], (0, len(x)))[: len(x)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", required=True, help="folder of clean speech files")
    args = parser.parse_args()
    config = STFTConfig()
    spectrum, rng = Spectrum(config), np.random.default_rng(0)
    clips = [read_mono(path, config.sample_rate) for path in find_audio_files(args.speech)]
    print(f"{len(clips)} clips, {sum(map(len, clips)) / config.sample_rate:.1f} s at {config.sample_rate} Hz")
    print(f"{'phase':<10}{'PESQ-WB':>9}{'STOI':>8}")
    for rule in ("true", "random", "advance"):
        scores = []
        for x in clips:
            y = with_phase(x, spectrum, rule, rng)
            scores.append((pesq(config.sample_rate, x, y, "wb"), stoi(x, y, config.sample_rate)))
        p, s = np.mean(scores, axis=0)
        print(f"{rule:<10}{p:>9.3f}{s:>8.3f}")


if __name__ == "__main__":
    main()
