"""Denoiser training: on-the-fly noisy/clean pairs, a perceptual spectral loss, the shared loop.

See :mod:`streamdl.training.loop` for the schedule, checkpoints, resume and DDP.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from streamdl.data.configs import MixConfig
from streamdl.data.examples import RandomExamples, fixed_examples, validation_rooms
from streamdl.data.mixing import Mixer, room_impulse_responses
from streamdl.models.configs import DenoiserConfig
from streamdl.models.denoiser import GROWABLE, Denoiser
from streamdl.models.spectrum import Spectrum
from streamdl.training.adversarial import Adversary
from streamdl.training.configs import DenoiserTrainConfig
from streamdl.training.loop import device_of, fit, starting_model
from streamdl.training.losses import STOI_DYN_RANGE_DB, compressed_spectral_loss, multires_stft_loss, si_sdr, stoi_loss


def denoiser_loss(model, spectrum: Spectrum, noisy: torch.Tensor, clean: torch.Tensor, under_weight: float = 1.0,
                  stoi_weight: float = 0.0, *, stoi_dyn_range_db: float | None = None, waves: bool = False):  # fmt: skip
    """Compressed spectral loss plus multi-resolution STFT loss on the resynthesised waveform, plus
    ``stoi_weight`` times one minus a differentiable STOI (over the frames within ``stoi_dyn_range_db``
    of the loudest clean one, or all); with ``waves``, (loss, enhanced waveform, clean waveform) for
    adversarial training."""
    est, ref = model(spectrum.stft(noisy)), spectrum.stft(clean)
    loss, est_wave, ref_wave = _spectra_loss(spectrum, est, ref, under_weight, stoi_weight, stoi_dyn_range_db)
    return (loss, est_wave, ref_wave) if waves else loss


def _spectra_loss(spectrum: Spectrum, est: torch.Tensor, ref: torch.Tensor, under_weight: float, stoi_weight: float,
                  stoi_dyn_range_db: float | None = None):  # fmt: skip
    """:func:`denoiser_loss` of enhanced and clean spectra: (loss, enhanced waveform, clean waveform)."""
    est_wave, ref_wave = spectrum.istft(est), spectrum.istft(ref)
    loss = compressed_spectral_loss(est, ref, under_weight=under_weight) + multires_stft_loss(est_wave, ref_wave)
    if stoi_weight:
        loss = loss + stoi_weight * stoi_loss(est, ref, spectrum.config, dyn_range_db=stoi_dyn_range_db)
    return loss, est_wave, ref_wave


def validate(model, spectrum: Spectrum, noisy: torch.Tensor, clean: torch.Tensor, batch: int) -> dict:
    """Mean loss, SI-SDR improvement (dB) and differentiable STOI over fixed pairs (N, samples). The STOI
    drops silent frames as the metric does, whatever the training loss does, so every run reads alike."""
    losses, gains, stois = [], [], []
    delay = spectrum.config.delay_samples
    for i in range(0, len(noisy), batch):
        x, y = noisy[i : i + batch], clean[i : i + batch]
        est_spec, ref_spec = model(spectrum.stft(x)), spectrum.stft(y)
        loss, est, _ = _spectra_loss(spectrum, est_spec, ref_spec, 1.0, 0.0)  # one yardstick for every run
        losses.append(float(loss) * len(x))
        stois.append((1 - float(stoi_loss(est_spec, ref_spec, spectrum.config, dyn_range_db=STOI_DYN_RANGE_DB))) * len(x))
        ref = torch.nn.functional.pad(y, (delay, 0))[:, : est.shape[1]]
        noisy_speech = (y.abs().amax(1) > 0) & ((x - y).abs().amax(1) > 0)  # noise-free pairs would swamp the mean
        gains += (si_sdr(est, ref) - si_sdr(torch.nn.functional.pad(x, (delay, 0))[:, : est.shape[1]], ref))[noisy_speech].tolist()
    return {"val_loss": sum(losses) / len(noisy), "val_si_sdr_gain_db": sum(gains) / max(len(gains), 1),
            "val_stoi": sum(stois) / len(noisy)}


def train_denoiser(tc: DenoiserTrainConfig, mc: DenoiserConfig = DenoiserConfig(), *, resume: bool = False) -> Path:
    """Train until max_steps, max_minutes or early stopping; return the path of best.pt."""
    device = device_of(tc.device)
    corpus = Path(tc.corpus)
    torch.manual_seed(tc.seed)
    sizes = {k: getattr(tc, k) for k in GROWABLE if getattr(tc, k)}  # the sizes asked for; 0 / False: --init's
    model = starting_model(tc, "denoiser", lambda: Denoiser(dataclasses.replace(mc, **sizes)),
                           grow=lambda m: m.grown(dataclasses.replace(m.config, **sizes)) if sizes else m)  # fmt: skip
    mc = model.config
    spectrum = Spectrum(mc.stft).to(device)
    defaults = MixConfig(seconds=tc.seconds, sample_rate=mc.stft.sample_rate)  # validation mixes with these in every run
    mix = dataclasses.replace(defaults, p_synthetic=tc.synthetic_share, snr_db=tc.snr_db, noise_speed=tc.noise_speed)
    rirs = room_impulse_responses(tc.rirs, mc.stft.sample_rate, seed=tc.seed)

    train_data = lambda seed: RandomExamples(Mixer, (corpus, "train", mix), {"rirs": rirs}, "pair", seed)  # noqa: E731

    def val_data():  # the same rooms and mixtures for every run
        mixer = Mixer(corpus, "val", defaults, rirs=validation_rooms(tc.rirs, mc.stft.sample_rate))
        return fixed_examples(mixer.pair, tc.val_examples)

    loss_fn = lambda m, noisy, clean: denoiser_loss(m, spectrum, noisy, clean, tc.under_weight, tc.stoi_weight,  # noqa: E731
                                                    stoi_dyn_range_db=tc.stoi_dyn_range_db, waves=adversary is not None)
    validate_fn = lambda m, noisy, clean: validate(m, spectrum, noisy, clean, tc.batch_size)  # noqa: E731
    adversary = Adversary(device) if tc.adversarial_from >= 0 else None
    return fit(tc, model, "denoiser", train_data, val_data, loss_fn, validate_fn, resume=resume, adversary=adversary,
               adversary_from=max(tc.adversarial_from, 0))  # fmt: skip
