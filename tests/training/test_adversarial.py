"""The adversary: discriminators learn, the generator loss has gradients, and GAN training resumes."""

import json

import torch

from streamdl.training.adversarial import Adversary


def test_discriminators_learn_to_tell_noise_from_a_tone():
    torch.manual_seed(0)
    adversary = Adversary(torch.device("cpu"), n_ffts=(256,), lr=1e-3)
    t = torch.arange(4000) / 16000
    real = torch.sin(2 * torch.pi * 440 * t).repeat(4, 1) * 0.5
    fake = 0.5 * torch.randn(4, 4000)
    losses = [adversary.discriminator_step(fake, real) for _ in range(30)]
    assert losses[-1] < losses[0]
    fake.requires_grad_(True)
    adversary.generator_loss(fake, real).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


def test_gan_training_checkpoints_and_resumes(tiny_corpus, tmp_path):
    from streamdl.models.configs import DenoiserConfig
    from streamdl.training.configs import DenoiserTrainConfig
    from streamdl.training.denoiser import train_denoiser

    corpus, _ = tiny_corpus
    torch.set_num_threads(1)
    tc = DenoiserTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), batch_size=2, max_steps=4, val_every=2, val_examples=2, seconds=0.5,
                             workers=0, rirs=2, warmup_steps=1, adversarial_from=2)  # fmt: skip
    small = DenoiserConfig(erb_bands=16, df_bins=24, conv_channels=16, gru_hidden=16, gru_layers=1)
    train_denoiser(tc, small)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and "d_loss" not in log[0] and "d_loss" in log[1]
    assert "adversary" in torch.load(tmp_path / "last.pt", weights_only=True)
    train_denoiser(DenoiserTrainConfig(**{**tc.__dict__, "max_steps": 6}), small, resume=True)
    assert [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [2, 4, 6]
