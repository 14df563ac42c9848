"""Where the denoiser loses intelligibility: speech distortion or residual noise, by input SNR.

    python benchmarks/denoiser_errors.py --clean data/eval/clean --noisy data/eval/noisy [--model M]

Once the network has seen the noisy input, its output is a fixed linear filter of the input
spectrum (bin gains plus deep-filter taps, :meth:`Denoiser.apply_filters`), so the output splits
exactly into filtered speech plus filtered noise. Per pair it prints the means of: STOI of the
noisy input and of the output; STOI of the filtered speech alone (what speech distortion costs)
and of clean speech plus the filtered noise alone (what residual noise costs); the speech level
lost and the noise removed, in dB. Pairs are grouped by the ``_snrN`` in their names
(``streamdl data pairs``). Offline, whole files at the model's rate (16 kHz); one thread.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pystoi import stoi  # noqa: E402

from streamdl.assets import shipped_model_path  # noqa: E402
from streamdl.data.mixing import rms  # noqa: E402
from streamdl.engine.files import read_mono  # noqa: E402
from streamdl.evaluation.speech import SNR_TAG, paired_files  # noqa: E402
from streamdl.models.checkpoint import load_model  # noqa: E402
from streamdl.models.spectrum import Spectrum  # noqa: E402


def split_output(model, spectrum: Spectrum, clean: np.ndarray, noisy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(filtered speech, filtered noise) for one pair of float32 (samples,) at the model's rate, aligned with the input."""
    delay = spectrum.config.delay_samples
    tensors = [torch.nn.functional.pad(torch.from_numpy(v)[None], (0, delay)) for v in (clean, noisy - clean, noisy)]
    speech, noise, mixture = (spectrum.stft(t) for t in tensors)
    state = model.init_state(1)
    with torch.no_grad():
        gains, coefs, _ = model.filters(mixture, state[:3])
        parts = [spectrum.istft(model.apply_filters(s, gains, coefs, state[3])[0])[0].numpy() for s in (speech, noise)]
    return tuple(p[delay : delay + len(clean)] for p in parts)


def ratio_db(a: np.ndarray, b: np.ndarray) -> float:
    """How much louder ``a`` is than ``b``, in dB (RMS)."""
    return float(20 * np.log10(rms(a) / rms(b)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clean", required=True)
    p.add_argument("--noisy", required=True)
    p.add_argument("--model", default=str(shipped_model_path("denoiser")))
    args = p.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model, "denoiser")
    spectrum = Spectrum(model.config.stft)
    rate = model.config.stft.sample_rate
    rows = defaultdict(list)
    for clean_path, noisy_path in paired_files(args.clean, args.noisy):
        clean, noisy = read_mono(clean_path, rate), read_mono(noisy_path, rate)
        speech, noise = split_output(model, spectrum, clean, noisy)
        snr = SNR_TAG.search(clean_path.stem)
        rows[snr.group(1) + " dB" if snr else "all"].append([
            stoi(clean, noisy, rate), stoi(clean, speech + noise, rate),
            stoi(clean, speech, rate), stoi(clean, clean + noise, rate),
            ratio_db(clean, speech), ratio_db(noisy - clean, noise),
        ])  # fmt: skip
    head = ("input", 8, "<"), ("pairs", 6, ">"), ("STOI in", 9, ">"), ("out", 7, ">"), ("speech only", 13, ">"), \
        ("residual only", 15, ">"), ("speech lost", 13, ">"), ("noise removed", 15, ">")
    print("".join(f"{name:{align}{width}}" for name, width, align in head))
    for group, values in sorted(rows.items(), key=lambda kv: float(kv[0].split()[0]) if kv[0] != "all" else 0):
        m = np.mean(values, axis=0)
        print(f"{group:<8}{len(values):>6}{m[0]:>9.3f}{m[1]:>7.3f}{m[2]:>13.3f}{m[3]:>15.3f}{m[4]:>10.1f} dB{m[5]:>12.1f} dB")


if __name__ == "__main__":
    main()
