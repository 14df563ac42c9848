"""The denoiser as a chain stage: one STFT frame in, the enhanced frame out, with user controls."""

from __future__ import annotations

import numpy as np

from streamdl.errors import StreamdlError
from streamdl.stages.base import ModelStage


class StreamingDenoiser(ModelStage):
    """Spectral stage at 16 kHz: one STFT frame, complex64 (n_bins,), in -> the enhanced frame out.

    Args:
        model: a :class:`~streamdl.models.denoiser.Denoiser`, its model file, or None for the shipped weights.
        device, backend: see :class:`~streamdl.stages.base.ModelStage`.
        attenuation_limit_db: the most the output may be quieter than the input, per bin (e.g. 12);
            None for no limit.
        mix: 1.0 fully processed, 0.0 the input untouched (dry/wet).

    Adds no latency beyond the STFT frame (20 ms algorithmic). The returned array is reused by the next call.
    """

    kind = "denoiser"

    def __init__(self, model=None, *, device: str = "cpu", backend: str = "auto",
                 attenuation_limit_db: float | None = None, mix: float = 1.0):  # fmt: skip
        super().__init__(model, device=device, backend=backend)
        self._step = self._steps[0]
        self.n_bins = self.config.stft.n_bins
        self.set_controls(attenuation_limit_db=attenuation_limit_db, mix=mix)
        self._out = np.zeros(self.n_bins, dtype=np.complex64)
        self._dry = np.zeros(self.n_bins, dtype=np.complex64)  # the input's share, so a hop allocates nothing

    def set_controls(self, *, attenuation_limit_db: float | None = None, mix: float = 1.0) -> None:
        """Output = wet * enhanced + (1 - wet) * input, wet = min(mix, 1 - 10^(-limit/20)); safe to call
        from another thread while the stream runs (it takes effect at the next hop)."""
        if not 0.0 <= mix <= 1.0:
            raise StreamdlError(f"mix must be between 0 and 1, got {mix}")
        if attenuation_limit_db is not None and attenuation_limit_db < 0:
            raise StreamdlError(f"the attenuation limit is a positive number of dB, got {attenuation_limit_db}")
        floor = 0.0 if attenuation_limit_db is None else 10 ** (-attenuation_limit_db / 20)
        wet = np.float32(min(mix, 1.0 - floor))
        self._wet_dry = (wet, np.float32(1.0) - wet)  # one assignment: a hop never sees half of a change from another thread

    def __call__(self, spec: np.ndarray) -> np.ndarray:
        frame = spec.view(np.float32).reshape(1, self.n_bins, 2)
        enhanced = self._step(frame).reshape(-1).view(np.complex64)
        wet, dry = self._wet_dry
        np.multiply(enhanced, wet, out=self._out)
        if dry:
            np.multiply(spec, dry, out=self._dry)
            self._out += self._dry
        return self._out
