"""The low-overlap MDCT the codec codes in, and band matrices over its coefficients (NumPy, no PyTorch)."""

from __future__ import annotations

import numpy as np


def mdct_basis(frame: int, overlap: int) -> np.ndarray:
    """(frame + overlap, frame) float32: windowed MDCT analysis, columns orthonormal under overlap-add.

    The window rises over ``overlap`` samples (a sine ramp), stays at one, and falls the same way:
    the non-zero part of a 2 * frame MDCT window, so ``signal_window @ basis`` gives the coefficients
    and ``coefficients @ basis.T``, overlap-added ``frame`` apart, gives the signal back.
    """
    n, ramp = frame, overlap
    rise = np.sin(np.pi / (2 * ramp) * (np.arange(ramp) + 0.5))
    window = np.concatenate([rise, np.ones(n - ramp), rise[::-1]])
    t = np.arange(n + ramp)[:, None] + (n - ramp) / 2  # position in the full 2n-sample MDCT frame
    k = np.arange(n)[None, :]
    return (np.cos(np.pi / n * (t + 0.5 + n / 2) * (k + 0.5)) * window[:, None] * np.sqrt(2 / n)).astype(np.float32)


def band_matrices(edges: tuple[int, ...], bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(bins, bands) averaging matrix and (bands, bins) 0/1 expansion matrix of the bands ``edges``."""
    expand = np.zeros((len(edges) - 1, bins), np.float32)
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        expand[j, a:b] = 1.0
    return (expand / expand.sum(1, keepdims=True)).T.copy(), expand
