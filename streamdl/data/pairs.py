"""Held-out clean/noisy pairs on disk (``streamdl data pairs``): the same mixtures for every system compared on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from streamdl.data.mixing import Pool, rms
from streamdl.io.audiofile import write_audio

PAIRS_MANIFEST = "pairs.json"  # beside the clean/ and noisy/ folders of write_evaluation_pairs


def write_evaluation_pairs(corpus: Path, out_dir: Path, *, split: str = "test", count: int = 60, seconds: float = 4.0,
                           snrs_db: tuple[float, ...] = (0.0, 5.0, 10.0), seed: int = 2026, noise_dir: Path | None = None) -> None:  # fmt: skip
    """Write ``count`` (clean, noisy) wav pairs to out_dir/clean and out_dir/noisy, 16 kHz, and
    out_dir/pairs.json: for each pair its file name, speech clip, noise clip and SNR (dB).

    Plain mixtures of the split's real speech and real recorded noise (the split's, or every audio
    file under ``noise_dir``), no augmentation, SNRs cycling through ``snrs_db``: the same pairs
    for every system compared on them.
    """
    rng = np.random.default_rng(seed)
    speech = Pool.load(corpus / f"speech_{split}.npz")
    noise = Pool.from_files(noise_dir) if noise_dir is not None else Pool.load(corpus / f"noise_{split}.npz")
    n = int(seconds * 16000)
    for sub in ("clean", "noisy"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    manifest = []
    for i in range(count):
        clean, speech_name = speech.named_window(rng, n)
        nz, noise_name = noise.named_clip(rng, n)
        snr = snrs_db[i % len(snrs_db)]
        nz = nz * (rms(clean) / rms(nz) * 10 ** (-snr / 20))
        noisy = clean + nz
        gain = 10 ** (rng.uniform(-32, -20) / 20) / rms(noisy)
        gain = min(gain, 0.95 / np.abs(noisy).max())
        name = f"pair{i:03d}_snr{snr:g}.wav"
        write_audio(out_dir / "clean" / name, clean * gain, 16000)
        write_audio(out_dir / "noisy" / name, noisy * gain, 16000)
        manifest.append({"pair": name, "speech": speech_name, "noise": noise_name, "snr_db": snr})
    (out_dir / PAIRS_MANIFEST).write_text(json.dumps(manifest, indent=1))
