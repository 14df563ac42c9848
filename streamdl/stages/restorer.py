"""The restorer as a chain stage: one STFT frame in, the restored frame out."""

from __future__ import annotations

import numpy as np

from streamdl.stages.base import ModelStage


class StreamingRestorer(ModelStage):
    """Spectral stage at 16 kHz: one STFT frame, complex64 (n_bins,), in -> the restored frame out
    (:class:`~streamdl.models.restorer.Restorer`: a missing high band rebuilt; whole speech passed through).

    Args:
        model: a :class:`~streamdl.models.restorer.Restorer`, its model file, or None for the shipped weights.
        device, backend: see :class:`~streamdl.stages.base.ModelStage`.

    Adds no latency beyond the STFT frame (20 ms algorithmic). It finds the cutoff from a running
    long-term spectrum, so the first half second of speech may pass as it came. The returned array
    is reused by the next call.
    """

    kind = "restorer"

    def __init__(self, model=None, *, device: str = "cpu", backend: str = "auto"):
        super().__init__(model, device=device, backend=backend)
        self._step = self._steps[0]
        self.n_bins = self.config.frame_shape[0]

    def __call__(self, spec: np.ndarray) -> np.ndarray:
        return self._step(spec.view(np.float32).reshape(1, self.n_bins, 2)).reshape(-1).view(np.complex64)
