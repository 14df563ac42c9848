"""Spectrum and level monitors: chain taps that displays (the demo, a meter) read on their own timer."""

from __future__ import annotations

import numpy as np

from streamdl.dsp.stft import analysis_window

FLOOR_DB = -100.0


class SpectrumMonitor:
    """Keeps the last ``frames`` spectra (dB re full scale: a full-scale sine's bin reads 0 dB,
    float32 (frames, n_bins)) and a level in dBFS.

    The audio worker calls it once per frame; a GUI calls :meth:`snapshot` on a timer. There is
    no lock: a frame being written while it is read shows as a one-column glitch on screen, never
    as a stall in the audio path.
    """

    def __init__(self, n_bins: int, frames: int = 400):
        n_fft = 2 * (n_bins - 1)
        self._full_scale = np.float32((analysis_window(n_fft).sum() / 2) ** 2)  # power of a full-scale sine's bin
        self._db = np.full((frames, n_bins), FLOOR_DB, dtype=np.float32)
        self._count = 0
        self.level_db = FLOOR_DB  # RMS of the latest frame, dBFS (a full-scale sine reads -3 dB)

    def __call__(self, spec: np.ndarray) -> None:
        power = spec.real**2 + spec.imag**2
        row = self._count % len(self._db)
        np.log10(power / self._full_scale + 1e-10, out=self._db[row])
        self._db[row] *= 10.0
        n_fft = 2 * (len(spec) - 1)
        self.level_db = float(10 * np.log10(2 * power.sum() / (n_fft * n_fft / 4) + 1e-12))  # sqrt-Hann: sum w^2 = n_fft / 2
        self._count += 1

    def snapshot(self) -> np.ndarray:
        """Copy of the stored spectra, oldest first: float32 (frames, n_bins) in dB."""
        row = self._count % len(self._db)
        return np.roll(self._db, -row, axis=0)

    def reset(self) -> None:
        self._db[:] = FLOOR_DB
        self._count = 0
        self.level_db = FLOOR_DB
