"""Full band above the model's: the input's own content above its 8 kHz band, scaled hop by hop by the
gain the chain gave its top band, so that audio at 44.1 or 48 kHz stays bright after a 16 kHz model.

Files (:mod:`streamdl.engine.files`) and live streams (:mod:`streamdl.engine.live`) share the gain
(:class:`TopBandGain`, measured on the chain's own spectra) and its smoothing (:func:`gain_ramp`);
what each adds it to is the input less its own low band, found offline for files and by
:class:`LiveHighs` for a stream.
"""

from __future__ import annotations

import numpy as np

from streamdl.dsp.resample import StreamResampler
from streamdl.dsp.stft import STFTConfig
from streamdl.engine.chain import Chain

EPS = 1e-9


class TopBandGain:
    """Chain taps that measure, every hop, the amplitude gain in [0, 1] the chain gave its top band
    (a quarter of the model rate to just below its Nyquist: 4 to 7.5 kHz at 16 kHz), from the power of
    the input and output spectra over those bins. :meth:`take` returns the gains since the last call,
    one per output hop, in order."""

    def __init__(self, config: STFTConfig):
        bin_hz = config.sample_rate / config.n_fft
        self._bins = slice(int(np.ceil(config.sample_rate / 4 / bin_hz)), int(0.47 * config.sample_rate / bin_hz) + 1)
        self._power_in = 0.0
        self._gains: list[float] = []

    def _input(self, spec: np.ndarray) -> None:
        band = spec[self._bins]
        self._power_in = float(np.vdot(band, band).real)

    def _output(self, spec: np.ndarray) -> None:
        band = spec[self._bins]
        self._gains.append(min(1.0, float(np.sqrt((np.vdot(band, band).real + EPS) / (self._power_in + EPS)))))

    def attach(self, chain: Chain) -> None:
        chain.taps.append(self._input)
        chain.output_taps.append(self._output)

    def detach(self, chain: Chain) -> None:
        """Take the taps off ``chain`` again (nothing when they are not on it)."""
        if self._input in chain.taps:
            chain.taps.remove(self._input)
            chain.output_taps.remove(self._output)

    def take(self) -> np.ndarray:
        gains, self._gains = np.array(self._gains, np.float32), []
        return gains


def gain_ramp(gains: np.ndarray, previous: float, hop: int) -> tuple[np.ndarray, float]:
    """Per-sample gains for hops of ``hop`` samples, each ramping linearly from the gain before it to its
    own (no steps, so no clicks in the high band): float32 (len(gains) * hop,), and the last gain."""
    if len(gains) == 0:
        return np.zeros(0, np.float32), previous
    starts = np.concatenate([[previous], gains[:-1]])
    ramp = (np.arange(1, hop + 1, dtype=np.float32) / hop)[None, :]
    return (starts[:, None] + (gains - starts)[:, None] * ramp).reshape(-1).astype(np.float32), float(gains[-1])


class LiveHighs:
    """The input's content above the model's band, for a stream at ``rate`` (above the model's): each
    device-rate input block minus its own low band (the model-rate input sent back up through a
    resampler like the output's), delayed to line up with the chain's output at ``rate``.

    ``highs(block, model_input)`` takes a device block and the model-rate samples made of it, returns
    as many high-band samples, ``delay`` samples late (the resamplers' and the chain's delay).
    """

    def __init__(self, chain: Chain, rate: int, to_model: StreamResampler):
        self._up = StreamResampler(chain.config.sample_rate, rate)
        round_trip = round((to_model.delay_s + self._up.delay_s) * rate)  # whole samples, by the resamplers' design
        self.delay = round_trip + round(chain.delay_samples * rate / chain.config.sample_rate)
        self._input = np.zeros(round_trip, np.float32)  # the input, waiting for its low band
        self._highs = np.zeros(self.delay - round_trip, np.float32)  # the highs, waiting for the chain's output

    def __call__(self, block: np.ndarray, model_input: np.ndarray) -> np.ndarray:
        low = self._up(model_input)
        waiting = np.concatenate([self._input, block])
        highs = waiting[: len(low)] - low
        self._input = waiting[len(low) :]
        queued = np.concatenate([self._highs, highs])
        self._highs = queued[len(highs) :]
        return queued[: len(highs)]
