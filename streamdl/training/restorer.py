"""Restorer training: on-the-fly damaged/clean pairs (:class:`~streamdl.data.damage.Damager`), the
denoiser's spectral losses, and optionally the adversarial ones; the shared loop.

See :mod:`streamdl.training.loop` for the schedule, checkpoints, resume and DDP.
"""

from __future__ import annotations

from pathlib import Path

import torch

from streamdl.data.configs import DamageConfig
from streamdl.data.damage import Damager
from streamdl.data.examples import RandomExamples, fixed_examples
from streamdl.models.configs import RestorerConfig
from streamdl.models.restorer import Restorer
from streamdl.models.spectrum import Spectrum
from streamdl.training.adversarial import Adversary
from streamdl.training.configs import RestorerTrainConfig
from streamdl.training.denoiser import denoiser_loss, validate
from streamdl.training.loop import device_of, fit, starting_model


def train_restorer(tc: RestorerTrainConfig, mc: RestorerConfig = RestorerConfig(), *, resume: bool = False) -> Path:
    """Train until max_steps, max_minutes or early stopping; return the path of best.pt."""
    device = device_of(tc.device)
    corpus = Path(tc.corpus)
    torch.manual_seed(tc.seed)
    model = starting_model(tc, "restorer", lambda: Restorer(mc))
    spectrum = Spectrum(model.config.network.stft).to(device)
    defaults = DamageConfig(seconds=tc.seconds, sample_rate=model.config.network.stft.sample_rate)  # validation's, in every run
    train_data = lambda seed: RandomExamples(Damager, (corpus, "train", defaults), {}, "pair", seed)  # noqa: E731
    val_data = lambda: fixed_examples(Damager(corpus, "val", defaults).pair, tc.val_examples)  # noqa: E731
    adversary = Adversary(device, weight=tc.adversarial_weight, feature_weight=2 * tc.adversarial_weight) if tc.adversarial_from >= 0 else None
    loss_fn = lambda m, damaged, clean: denoiser_loss(m, spectrum, damaged, clean, tc.under_weight, waves=adversary is not None)  # noqa: E731
    validate_fn = lambda m, damaged, clean: validate(m, spectrum, damaged, clean, tc.batch_size)  # noqa: E731
    return fit(tc, model, "restorer", train_data, val_data, loss_fn, validate_fn, resume=resume, adversary=adversary,
               adversary_from=max(tc.adversarial_from, 0))  # fmt: skip
