"""Training losses for spectra (B, T, n_bins, 2) and waveforms (B, samples)."""

from __future__ import annotations

import torch


def compressed_spectral_loss(est: torch.Tensor, ref: torch.Tensor, *, power: float = 0.3, under_weight: float = 1.0,
                             complex_weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """Distance of power-law compressed spectra (B, T, n_bins, 2): magnitude plus ``complex_weight``
    times the complex distance (which also asks for the reference's phase).

    Estimated magnitudes below the reference (speech removed) cost ``1 + under_weight`` times
    more than the same error above it (noise left in): cutting speech is the worse mistake.
    """
    est_mag = est.pow(2).sum(-1).clamp_min(1e-12).sqrt()
    ref_mag = ref.pow(2).sum(-1).clamp_min(1e-12).sqrt()
    est_c, ref_c = est_mag.pow(power), ref_mag.pow(power)
    err = est_c - ref_c
    mag_loss = (err.pow(2) + under_weight * torch.relu(-err).pow(2)).mean()
    if not complex_weight:
        return mag_loss
    complex_loss = (est * (est_c / est_mag).unsqueeze(-1) - ref * (ref_c / ref_mag).unsqueeze(-1)).pow(2).sum(-1).mean()
    return mag_loss + complex_weight * complex_loss


def multires_stft_loss(est: torch.Tensor, ref: torch.Tensor, sizes: tuple[int, ...] = (256, 512, 1024)) -> torch.Tensor:
    """Mean over resolutions of compressed log-free magnitude distance, waveforms (B, samples)."""
    total = est.new_zeros(())
    for n in sizes:
        window = torch.hann_window(n, device=est.device)
        e = torch.stft(est, n, n // 4, window=window, return_complex=True).abs().clamp_min(1e-8).pow(0.3)
        r = torch.stft(ref, n, n // 4, window=window, return_complex=True).abs().clamp_min(1e-8).pow(0.3)
        total = total + (e - r).pow(2).mean()
    return total / len(sizes)


def si_sdr(est: torch.Tensor, ref: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale-invariant SDR in dB per item, waveforms (B, samples) -> (B,)."""
    ref = ref - ref.mean(-1, keepdim=True)
    est = est - est.mean(-1, keepdim=True)
    scale = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = scale * ref
    return 10 * torch.log10(target.pow(2).sum(-1) / ((est - target).pow(2).sum(-1) + eps) + eps)
