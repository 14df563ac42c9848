"""Adversarial training for any model that outputs waveforms: a multi-resolution STFT
discriminator with hinge losses and feature matching, as in SoundStream and EnCodec.

:class:`Adversary` owns the discriminator and its optimizer; :func:`streamdl.training.loop.fit`
calls :meth:`Adversary.discriminator_step` on each batch's (generated, real) waveforms and adds
:meth:`Adversary.generator_loss` to the model's own loss. Nothing here knows what the generator
is: the codec trains with it from the start, the denoiser can be fine-tuned with it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _world() -> int:
    return torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1


class STFTDiscriminator(nn.Module):
    """One resolution: 2-D convolutions over the compressed magnitude spectrogram (B, samples) -> logits, features."""

    def __init__(self, n_fft: int, channels: int = 16):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            nn.Conv2d(1, channels, (3, 9), padding=(1, 4)),
            nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4)),
            nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4)),
            nn.Conv2d(channels, channels, (3, 3), padding=(1, 1)),
        ])  # fmt: skip
        self.head = nn.Conv2d(channels, 1, (3, 3), padding=(1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(x, self.n_fft, self.n_fft // 4, window=self.window, return_complex=True).abs()
        h = spec.clamp_min(1e-6).pow(0.3).unsqueeze(1).transpose(2, 3)  # (B, 1, frames, bins)
        features = []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
            features.append(h)
        return self.head(h), features


class Adversary:
    """Discriminators at several STFT sizes, their AdamW, and the losses.

    Args:
        device: where the discriminators live.
        n_ffts: STFT sizes, one discriminator each.
        lr: discriminator learning rate.
        weight: weight of the adversarial term in the generator loss.
        feature_weight: weight of feature matching (L1 between discriminator features of real and generated).
        segment: samples of each example the discriminators judge (one random crop per batch, the same
            for generated and real): the discriminators dominate a step's cost, and this bounds it.
    """

    def __init__(self, device: torch.device, n_ffts: tuple[int, ...] = (256, 512, 1024), lr: float = 2e-4, weight: float = 1.0,
                 feature_weight: float = 2.0, segment: int = 8000):  # fmt: skip
        self.discriminator = nn.ModuleList([STFTDiscriminator(n) for n in n_ffts]).to(device)
        self.opt = torch.optim.AdamW(self.discriminator.parameters(), lr=lr, betas=(0.5, 0.9))
        self.weight, self.feature_weight, self.segment = weight, feature_weight, segment

    def crop(self, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same random ``segment`` of generated and real waveforms (B, samples)."""
        n = min(fake.shape[-1], real.shape[-1])
        start = int(torch.randint(max(n - self.segment, 0) + 1, ()))
        return fake[..., start : start + self.segment], real[..., start : start + self.segment]

    def discriminator_step(self, fake: torch.Tensor, real: torch.Tensor) -> float:
        """One hinge-loss update of every discriminator on waveforms (B, samples); returns the loss."""
        loss = fake.new_zeros(())
        for d in self.discriminator:
            loss = loss + F.relu(1 - d(real)[0]).mean() + F.relu(1 + d(fake.detach())[0]).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if _world() > 1:  # under torchrun every rank updates one discriminator with the mean gradient, as DDP does
            for p in self.discriminator.parameters():
                torch.distributed.all_reduce(p.grad)
                p.grad /= _world()
        self.opt.step()
        return float(loss.detach())

    def synchronize(self) -> None:
        """Under torchrun, start every rank from rank 0's discriminators (call once, after any resume)."""
        if _world() > 1:
            for tensor in self.discriminator.state_dict().values():
                torch.distributed.broadcast(tensor, 0)

    def generator_loss(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Adversarial (hinge) plus feature-matching loss for the generator."""
        adv, fm = fake.new_zeros(()), fake.new_zeros(())
        for d in self.discriminator:
            logits, fake_features = d(fake)
            with torch.no_grad():
                _, real_features = d(real)
            adv = adv + F.relu(1 - logits).mean()
            fm = fm + sum(F.l1_loss(f, r) / (r.abs().mean() + 1e-5) for f, r in zip(fake_features, real_features)) / len(fake_features)
        n = len(self.discriminator)
        return (self.weight * adv + self.feature_weight * fm) / n

    def state_dict(self) -> dict:
        return {"discriminator": self.discriminator.state_dict(), "optimizer": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt.load_state_dict(state["optimizer"])
