"""The restorer's ``step`` as one Numba kernel: the long-term spectrum, the cutoff, the fill above it and
the denoiser-shaped network (:func:`~streamdl.models.kernels.denoiser.network_step`) in one compiled
call, reading the weights file without PyTorch. Tests hold it to the eager step frame by frame."""

from __future__ import annotations

import math

import numba
import numpy as np

from streamdl.models.configs import RestorerConfig
from streamdl.models.kernels.denoiser import network_step, network_weights
from streamdl.models.kernels.ops import StepKernel, array


class RestorerKernel(StepKernel):
    """``Restorer.step`` for one stream (batch 1): frame (1, n_bins, 2) float32 and the state of
    ``config.initial_state(1)`` -> restored frame (1, n_bins, 2), new state."""

    @classmethod
    def supports(cls, config) -> bool:
        return isinstance(config, RestorerConfig)

    def __init__(self, config: RestorerConfig, arrays: dict[str, np.ndarray]):
        c, n = config, config.network
        erb = np.ascontiguousarray(array(arrays, "network.erb", (n.stft.n_bins, n.erb_bands)).T)  # (bands, n_bins)
        finder = (np.float32(c.memory_rate), np.float32(c.stopband_db), np.float32(c.settle_stopband_db), np.float32(c.settle_frames),
                  *c.cutoff_bins, *c.reference_bins, erb, c.fill_sources(), np.float32(10.0 ** (c.band_gain_db / 20.0)))  # fmt: skip
        super().__init__(config, _step, (finder, network_weights(n, arrays, "network.")))


@numba.njit(cache=True, nogil=True)
def _step(frame, mean, count, conv1_state, conv2_state, h, past_state, finder, network):
    """One hop: frame (1, n_bins, 2), state as ``RestorerConfig.initial_state(1)`` -> out (1, n_bins, 2), new state."""
    memory_rate, stopband_db, settle_stopband_db, settle, lowest, highest, ref_lo, ref_hi, erb, sources, band_gain = finder
    spec = frame[0]
    n_bins = spec.shape[0]
    # the long-term spectrum: a plain mean of the frames so far, then an exponential one
    new_count = np.empty((1, 1), dtype=np.float32)
    new_count[0, 0] = count[0, 0] + 1.0
    rate = max(1.0 / new_count[0, 0], memory_rate)
    new_mean = np.empty((1, n_bins), dtype=np.float32)
    level = np.empty(n_bins, dtype=np.float32)
    for k in range(n_bins):
        power = spec[k, 0] * spec[k, 0] + spec[k, 1] * spec[k, 1]
        new_mean[0, k] = mean[0, k] + rate * (power - mean[0, k])
        level[k] = 10.0 * math.log10(new_mean[0, k] + 1e-12)
    # the cutoff: the lowest bin from which every bin up lies stopband_db below the speech band's peak
    peak = level[ref_lo]
    for k in range(ref_lo, ref_hi):
        peak = max(peak, level[k])
    if new_count[0, 0] < settle:  # a stream's first moments: only a deep stopband is a band limit
        stopband_db = settle_stopband_db
    cutoff = n_bins
    top = level[n_bins - 1]
    for k in range(n_bins - 1, lowest - 1, -1):
        top = max(top, level[k])
        if top >= peak - stopband_db:
            break
        cutoff = k
    if cutoff > highest:
        cutoff = n_bins
    # the fill: bins from the cutoff up copy the one RestorerConfig.fill_sources names
    filled = np.empty((n_bins, 2), dtype=np.float32)
    above = np.zeros(n_bins, dtype=np.float32)
    for k in range(n_bins):
        source = sources[cutoff, k]
        above[k] = 1.0 if k >= cutoff else 0.0
        filled[k, 0] = spec[source, 0]
        filled[k, 1] = spec[source, 1]
    share = np.dot(erb, above)
    out, net_state = network_step(filled, share, conv1_state, conv2_state, h, past_state, network)
    out[0, cutoff:] *= band_gain
    out[0, :cutoff] = spec[:cutoff]  # below the cutoff (everywhere, when nothing is missing) the input as it came
    return out, (new_mean, new_count) + net_state
