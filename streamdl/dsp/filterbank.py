"""Band matrices over STFT bins: ERB-like bands for denoiser gains, log-mel bands for the tagger.

Each filterbank is a float32 matrix (n_bands, n_bins) of triangular weights; band energies are
``fb_norm @ |X|**2`` and per-band values go back to bins with :func:`bands_to_bins`.
"""

from __future__ import annotations

import numpy as np

from streamdl.errors import StreamdlError


def _hz_to_erb(hz):
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(hz, dtype=np.float64))


def _erb_to_hz(erb):
    return (10.0 ** (np.asarray(erb, dtype=np.float64) / 21.4) - 1.0) / 0.00437


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def _hat_functions(centers: np.ndarray, n_bins: int) -> np.ndarray:
    """Triangles peaking at fractional bin ``centers`` (increasing) and reaching zero at their neighbours.

    The first and last band stay flat out to the spectrum's edges, so every bin's weights sum to
    one (a partition of unity).
    """
    bins = np.arange(n_bins, dtype=np.float64)
    fb = np.zeros((len(centers), n_bins))
    for b, c in enumerate(centers):
        rise = (bins - centers[b - 1]) / (c - centers[b - 1]) if b > 0 else np.ones(n_bins)
        fall = (centers[b + 1] - bins) / (centers[b + 1] - c) if b + 1 < len(centers) else np.ones(n_bins)
        fb[b] = np.clip(np.where(bins <= c, rise, fall), 0.0, 1.0)
    return fb.astype(np.float32)


def erb_filterbank(n_bins: int, sample_rate: int, n_bands: int, *, min_bins: float = 1.0) -> np.ndarray:
    """ERB-spaced triangular bands covering 0 .. sample_rate/2, float32 (n_bands, n_bins).

    Band centres are spaced at least ``min_bins`` bins apart, so the lowest bands never fall
    between two bins. Columns sum to one.
    """
    if n_bands < 2 or n_bands > n_bins:
        raise StreamdlError(f"ERB filterbank needs 2 <= n_bands <= n_bins ({n_bins}), got {n_bands}")
    nyquist = sample_rate / 2
    centers = _erb_to_hz(np.linspace(0.0, _hz_to_erb(nyquist), n_bands)) / nyquist * (n_bins - 1)
    for b in range(1, n_bands):  # push low bands apart, then squeeze back below the top bin
        centers[b] = max(centers[b], centers[b - 1] + min_bins)
    top = n_bins - 1
    if centers[-1] > top:
        centers = centers * top / centers[-1]
    return _hat_functions(centers, n_bins)


def mel_filterbank(n_bins: int, sample_rate: int, n_mels: int, *, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """HTK-mel triangular bands between ``fmin`` and ``fmax`` (default Nyquist), float32 (n_mels, n_bins)."""
    nyquist = sample_rate / 2
    fmax = nyquist if fmax is None else fmax
    if not 0.0 <= fmin < fmax <= nyquist:
        raise StreamdlError(f"mel filterbank needs 0 <= fmin < fmax <= {nyquist:g} Hz, got {fmin:g}, {fmax:g}")
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2)) / nyquist * (n_bins - 1)
    return _hat_functions(edges, n_bins)[1:-1]  # the edge hats only shape their neighbours


def normalized(fb: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to one, so ``normalized(fb) @ power`` is a per-band mean."""
    return (fb / np.maximum(fb.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def bands_to_bins(fb: np.ndarray) -> np.ndarray:
    """Matrix (n_bins, n_bands) that spreads per-band values (gains) back over the bins.

    Each bin gets the weighted mean of the bands that cover it; bins no band covers get zero.
    """
    coverage = fb.sum(axis=0, keepdims=True)
    return (fb / np.where(coverage > 0, coverage, 1.0)).T.astype(np.float32)
