"""Training losses for spectra (B, T, n_bins, 2) and waveforms (B, samples)."""

from __future__ import annotations

import torch

from streamdl.dsp.stft import STFTConfig


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


def _third_octave_bands(n_bins: int, sample_rate: int, count: int = 15, lowest: float = 150.0) -> torch.Tensor:
    """(count, n_bins) 0/1 matrix summing STFT bin powers into STOI's one-third-octave bands
    (centres ``lowest`` * 2^(k/3) Hz: 150 Hz .. 3.8 kHz for the default 15)."""
    freqs = torch.linspace(0, sample_rate / 2, n_bins)
    centres = lowest * 2.0 ** (torch.arange(count) / 3)
    lo, hi = centres * 2 ** (-1 / 6), centres * 2 ** (1 / 6)
    return ((freqs >= lo[:, None]) & (freqs < hi[:, None])).float()


STOI_DYN_RANGE_DB = 40.0  # STOI drops frames this far below the clean signal's loudest (pystoi's DYN_RANGE; pystoi is only a dev extra)


def stoi_loss(est: torch.Tensor, ref: torch.Tensor, stft: STFTConfig, *, stride: int = 8, clip_db: float = -15.0,
              dyn_range_db: float | None = None) -> torch.Tensor:  # fmt: skip
    """1 - STOI's intermediate intelligibility, differentiable, for spectra (B, T, n_bins, 2) in the
    framing ``stft``. Band envelopes (15 one-third-octave bands) are cut into 384 ms stretches every
    ``stride`` frames, the estimate's is scaled to the reference's energy and clipped at ``clip_db``
    signal-to-distortion, and the loss is one minus their mean correlation. Stretches where the
    reference is 60 dB below its loudest (silence, noise-only examples) do not count.

    With ``dyn_range_db`` (STOI uses ``STOI_DYN_RANGE_DB``), frames where the reference is that far below its loudest
    frame are first dropped from both, as STOI drops them: what is left in the pauses then costs
    nothing, as in the metric."""
    bands = _third_octave_bands(stft.n_bins, stft.sample_rate).to(est.device)
    segment = round(0.384 * stft.sample_rate / stft.hop)
    kept = None
    if dyn_range_db is not None:
        energy = 10 * torch.log10(ref.pow(2).sum((-1, -2)) + 1e-12)  # (B, T)
        keep = energy > energy.amax(1, keepdim=True) - dyn_range_db
        order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :, None, None].expand_as(ref)
        ref, est = ref.gather(1, order), est.gather(1, order)  # the kept frames first, in their order
        kept = keep.sum(1, keepdim=True)  # (B, 1)

    def envelopes(spec):  # (B, T, n_bins, 2) -> (B, bands, stretches, segment)
        env = (spec.pow(2).sum(-1) @ bands.T).clamp_min(1e-12).sqrt().transpose(1, 2)
        return env.unfold(2, segment, stride)

    x, y = envelopes(ref), envelopes(est)
    level = x.pow(2).sum((1, 3))  # (B, stretches): the reference's energy per stretch
    y = y * (x.pow(2).sum(-1, keepdim=True) / y.pow(2).sum(-1, keepdim=True).clamp_min(1e-12)).sqrt()
    y = torch.minimum(y, x * (1 + 10 ** (-clip_db / 20)))
    x, y = x - x.mean(-1, keepdim=True), y - y.mean(-1, keepdim=True)
    corr = (x * y).sum(-1) / (x.norm(dim=-1) * y.norm(dim=-1)).clamp_min(1e-8)  # (B, bands, stretches)
    silent = 10 * 1e-12 * bands.shape[0] * segment  # ten times a silent stretch's level (each squared envelope value clamped at 1e-12)
    counts = (level > 1e-6 * level.amax(-1, keepdim=True)) & (level > silent)
    if kept is not None:  # only stretches wholly within the kept frames
        ends = torch.arange(x.shape[2], device=x.device) * stride + segment
        counts = counts & (ends <= kept)
    return 1 - (corr.mean(1) * counts).sum() / counts.sum().clamp_min(1)
