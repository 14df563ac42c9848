"""Codec training: clean speech, spectral and multi-resolution reconstruction losses, residual-VQ
commitment, quantizer dropout, and the adversarial losses of :mod:`streamdl.training.adversarial`.

See :mod:`streamdl.training.loop` for the schedule, checkpoints, resume and DDP.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from streamdl.data.configs import MixConfig
from streamdl.data.examples import RandomExamples, fixed_examples
from streamdl.data.mixing import Mixer, room_impulse_responses
from streamdl.models.codec import Codec
from streamdl.models.configs import CodecConfig
from streamdl.models.spectrum import Spectrum
from streamdl.training.adversarial import Adversary
from streamdl.training.configs import CodecTrainConfig
from streamdl.training.loop import device_of, fit, starting_model
from streamdl.training.losses import compressed_spectral_loss, multires_stft_loss, si_sdr


def codec_loss(model, spectrum: Spectrum, clean: torch.Tensor, quantizers: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, decoded waveform, reference waveform) for clean speech (B, samples).

    Magnitudes only: at a few kbps the codes cannot carry each bin's phase, and a loss that asks
    for it is best met by shrinking every uncertain bin towards zero (a muffled, quiet decoder).
    The decoder makes its own phase, held to consistency by the multi-resolution STFT loss.
    """
    ref = spectrum.stft(clean)
    rec, vq_loss = model(ref, quantizers)
    wave, ref_wave = spectrum.istft(rec), spectrum.istft(ref)
    return compressed_spectral_loss(rec, ref, complex_weight=0.0) + multires_stft_loss(wave, ref_wave) + vq_loss, wave, ref_wave


def validate(model, spectrum: Spectrum, clean: torch.Tensor, batch: int, quantizers: int) -> dict:
    """Loss and SI-SDR (dB) of the round trip at ``quantizers`` over fixed clips."""
    losses, scores = [], []
    for i in range(0, len(clean), batch):
        loss, wave, ref = codec_loss(model, spectrum, clean[i : i + batch], quantizers)
        losses.append(float(loss) * len(wave))
        scores += si_sdr(wave, ref).tolist()
    return {"val_loss": sum(losses) / len(clean), "val_si_sdr_db": sum(scores) / len(scores)}


def train_codec(tc: CodecTrainConfig, mc: CodecConfig = CodecConfig(), *, resume: bool = False) -> Path:
    """Train until max_steps, max_minutes or early stopping; return the path of best.pt."""
    device = device_of(tc.device)
    corpus = Path(tc.corpus)
    torch.manual_seed(tc.seed)
    model = starting_model(tc, "codec", lambda: Codec(mc))
    mc = model.config
    spectrum = Spectrum(mc.stft).to(device)
    speech = MixConfig(seconds=tc.seconds, sample_rate=mc.stft.sample_rate, p_clean=1.0, p_noise_only=0.0, p_reverb=0.1, p_bandlimit=0.1)
    rirs = room_impulse_responses(tc.rirs, mc.stft.sample_rate, seed=tc.seed)
    choices = [mc.quantizers_for(k) for k in tc.kbps_choices]
    rng = random.Random(tc.seed)

    def train_data(seed):
        return RandomExamples(Mixer, (corpus, "train", speech), {"rirs": rirs}, "pair", seed)

    def val_data():
        return fixed_examples(Mixer(corpus, "val", speech).pair, tc.val_examples)[1:]

    def loss_fn(m, noisy, clean):
        return codec_loss(m, spectrum, clean, rng.choice(choices))

    def validate_fn(m, clean):
        return validate(m, spectrum, clean, tc.batch_size, mc.quantizers_for(6.0))

    adversary = Adversary(device) if tc.adversarial_from >= 0 else None
    if adversary is None:
        plain = loss_fn
        loss_fn = lambda m, noisy, clean: plain(m, noisy, clean)[0]  # noqa: E731
    return fit(tc, model, "codec", train_data, val_data, loss_fn, validate_fn, resume=resume, adversary=adversary,
               adversary_from=max(tc.adversarial_from, 0))  # fmt: skip
