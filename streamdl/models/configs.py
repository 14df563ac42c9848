"""What each model is: frozen configs stored beside the weights, with the shapes of a step's input and
of the stream state, importable without PyTorch (the Numba kernels and weights files read them too).

Each config's ``initial_state(batch)`` is the one definition of its model's stream state at the start
of a stream, as float32 numpy arrays: the PyTorch model turns it into tensors, a kernel uses it as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from streamdl.dsp.stft import STFTConfig
from streamdl.errors import StreamdlError
from streamdl.labels import LABELS

GATE_SCALE = 4.0  # the gate head's output is scaled so that, under Adam, a gate grown into a trained model learns 4x faster than it
FLOOR_RISE_S, FLOOR_FALL_S = 2.0, 0.1  # time constants of the noise-floor tracker: slow to rise (speech), fast to fall (pauses)
FLOOR_START = 3.0  # where the tracker starts, in feature units ((dB + 60) / 30): +30 dB, above any real band level
FRAMES_PER_SECOND = 50  # codec frames a second


def _zeros(*shapes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return tuple(np.zeros(shape, np.float32) for shape in shapes)


@dataclass(frozen=True)
class DenoiserConfig:
    stft: STFTConfig = field(default_factory=STFTConfig)  # 16 kHz, 20 ms frames, 10 ms hop
    erb_bands: int = 32  # gain resolution over the whole spectrum
    df_bins: int = 64  # low bins that are deep-filtered (64 bins = 0..3.2 kHz)
    df_order: int = 3  # taps of the deep filter: the current frame and df_order - 1 past ones
    conv_channels: int = 128  # width of the causal convolution encoder
    conv_kernel: int = 3  # frames each convolution sees (kernel - 1 past frames)
    gru_hidden: int = 160  # GRU width
    gru_layers: int = 2
    compress: float = 0.3  # magnitude compression of the deep-filter input features
    output_gate: bool = False  # a last gain per ERB band on the whole output, gains and deep filter together
    noise_floor: bool = False  # each ERB band's tracked noise floor among the inputs (see Denoiser.track_floor)
    extra_inputs: int = 0  # inputs per frame given beside the spectrum's own features (the restorer's: which bands it filled)
    max_gain: float = 1.0  # the largest band gain: 1 only attenuates (denoising); above 1 it can also restore a band's level

    def __post_init__(self):
        if self.noise_floor and self.conv_kernel < 2:
            raise StreamdlError("noise_floor keeps the floors in conv1's input buffer: it needs conv_kernel of 2 or more")

    @classmethod
    def from_dict(cls, d: dict) -> DenoiserConfig:
        return cls(**{**d, "stft": STFTConfig(**d["stft"])})

    @property
    def floor_at(self) -> int:
        """conv1's inputs are the band levels, the compressed low bins, then (noise_floor) the floors from here."""
        return self.erb_bands + 2 * self.df_bins

    @property
    def extra_at(self) -> int:
        """Where conv1's ``extra_inputs`` start: after the band levels, the low bins and the floors."""
        return self.floor_at + (self.erb_bands if self.noise_floor else 0)

    @property
    def n_feat(self) -> int:
        return self.extra_at + self.extra_inputs

    @property
    def floor_rates(self) -> tuple[float, float]:
        """How far the noise-floor tracker moves towards a band's level per hop: (rising, falling)."""
        hop_s = self.stft.hop / self.stft.sample_rate
        return 1.0 - math.exp(-hop_s / FLOOR_RISE_S), 1.0 - math.exp(-hop_s / FLOOR_FALL_S)

    @property
    def frame_shape(self) -> tuple[int, int]:
        """One step's input without the batch: one STFT frame (n_bins, 2)."""
        return (self.stft.n_bins, 2)

    def initial_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """(conv1 inputs, conv2 inputs, GRU hidden, past low-bin frames), all zero but the noise floors
        among conv1's inputs (rows ``floor_at`` to ``extra_at``), at ``FLOOR_START``."""
        context = self.conv_kernel - 1
        state = _zeros((batch, self.n_feat, context), (batch, self.conv_channels, context), (self.gru_layers, batch, self.gru_hidden),
                       (batch, self.df_order - 1, self.df_bins, 2))  # fmt: skip
        state[0][:, self.floor_at : self.extra_at] = FLOOR_START
        return state


@dataclass(frozen=True)
class RestorerConfig:
    """The speech restorer (:mod:`streamdl.models.restorer`): a cutoff finder, a spectral fill above the
    cutoff, and a denoiser-shaped network that sets every band's level. 16 kHz, 10 ms hop, 20 ms latency."""

    network: DenoiserConfig = field(default_factory=lambda: DenoiserConfig(
        df_bins=32, df_order=2, conv_channels=96, gru_hidden=128, extra_inputs=32, max_gain=6.0))  # fmt: skip
    memory_s: float = 4.0  # the long-term spectrum's time constant (its plain mean until then)
    stopband_db: float = 50.0  # bins this far below the speech band's peak, from there up to the top, are missing
    cutoff_hz: tuple[float, float] = (3000.0, 7000.0)  # the cutoffs looked for (a full-band file at 16 kHz stops near 7.7 kHz)
    reference_hz: tuple[float, float] = (300.0, 3000.0)  # where the speech band's peak is taken
    settle_s: float = 0.5  # for a stream's first moments (a vowel or two, whose spectrum can stop low) bins
    settle_stopband_db: float = 70.0  # must lie this far below the peak to be missing (a band limit lies further)
    band_gain_db: float = -6.0  # in use (not in training), the rebuilt band plays this far below the level the network sets

    def __post_init__(self):
        if self.network.extra_inputs != self.network.erb_bands:
            raise StreamdlError("the restorer tells its network each band's filled share: extra_inputs must equal erb_bands")

    @classmethod
    def from_dict(cls, d: dict) -> RestorerConfig:
        return cls(**{**d, "network": DenoiserConfig.from_dict(d["network"]), "cutoff_hz": tuple(d["cutoff_hz"]),
                      "reference_hz": tuple(d["reference_hz"])})  # fmt: skip

    def _bin(self, hz: float) -> int:
        return round(hz * self.network.stft.n_fft / self.network.stft.sample_rate)

    @property
    def memory_rate(self) -> float:
        """How far the long-term spectrum moves towards each frame, once older than ``memory_s``."""
        return 1.0 - math.exp(-self.network.stft.hop / self.network.stft.sample_rate / self.memory_s)

    @property
    def settle_frames(self) -> int:
        """Frames seen before the cutoff is found with ``stopband_db`` rather than ``settle_stopband_db``."""
        return round(self.settle_s * self.network.stft.sample_rate / self.network.stft.hop)

    @property
    def cutoff_bins(self) -> tuple[int, int]:
        return self._bin(self.cutoff_hz[0]), self._bin(self.cutoff_hz[1])

    @property
    def reference_bins(self) -> tuple[int, int]:
        return self._bin(self.reference_hz[0]), self._bin(self.reference_hz[1])

    @property
    def frame_shape(self) -> tuple[int, int]:
        """One step's input without the batch: one STFT frame (n_bins, 2)."""
        return self.network.frame_shape

    def fill_sources(self) -> np.ndarray:
        """Where each bin's fill comes from, for every cutoff: int64 (n_bins + 1, n_bins), row c for a cutoff at
        bin c (row n_bins: nothing missing, each bin its own). A bin from c up copies the one a whole number of
        even widths (about c / 2) below it, so the copy's phase runs on from hop to hop at hop = n_fft / 2."""
        bins, cutoff = np.arange(self.network.stft.n_bins), np.arange(self.network.stft.n_bins + 1)[:, None]
        width = np.maximum(2 * (cutoff // 4), 2)
        return np.where(bins >= cutoff, bins - ((bins - cutoff) // width + 1) * width, bins)

    def initial_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """(long-term power spectrum (B, n_bins), frames seen (B, 1)), then the network's state."""
        return _zeros((batch, self.network.stft.n_bins), (batch, 1)) + self.network.initial_state(batch)


@dataclass(frozen=True)
class TaggerConfig:
    stft: STFTConfig = field(default_factory=STFTConfig)  # 16 kHz, 10 ms hop
    labels: tuple[str, ...] = LABELS
    arch: str = "crnn"  # "crnn" or "attention"
    pool: int = 2  # STFT hops per tagger frame (20 ms)
    n_mels: int = 64
    channels: tuple[int, ...] = (16, 32, 32)  # channels of the 2-D convolution blocks (each halves the mel bands)
    kernel: int = 3  # frames each block sees
    hidden: int = 128  # GRU width, or attention model width
    heads: int = 4
    window: int = 32  # attention: past frames each frame may see (32 x 20 ms = 0.64 s)
    thresholds: tuple[float, ...] = ()  # per-label decision thresholds calibrated on validation; () = 0.5 each

    def __post_init__(self):
        if self.arch not in ("crnn", "attention"):
            raise StreamdlError(f"unknown tagger arch {self.arch!r}; use crnn or attention")
        if len(self.channels) != 3 or self.n_mels % 8:
            raise StreamdlError("the tagger front end has three blocks and needs n_mels divisible by 8")

    @classmethod
    def from_dict(cls, d: dict) -> TaggerConfig:
        return cls(**{**d, "stft": STFTConfig(**d["stft"]), "labels": tuple(d["labels"]), "channels": tuple(d["channels"]),
                      "thresholds": tuple(d.get("thresholds", ()))})  # fmt: skip

    @property
    def block_inputs(self) -> tuple[int, int, int]:
        """Input channels of the three convolution blocks."""
        return (1, *self.channels[:2])

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """One step's input without the batch: ``pool`` STFT frames (pool, n_bins, 2)."""
        return (self.pool, self.stft.n_bins, 2)

    def initial_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """(block 1, 2, 3 inputs, GRU hidden or attention key/value cache), all zero."""
        blocks = [(batch, self.block_inputs[i], self.kernel - 1, self.n_mels >> i) for i in range(3)]
        last = (batch, self.window, 2 * self.hidden) if self.arch == "attention" else (1, batch, self.hidden)
        return _zeros(*blocks, last)


@dataclass(frozen=True)
class CodecConfig:
    """The speech codec: a low-overlap MDCT at 16 kHz (20 ms frames of 320 coefficients, 25 Hz apart;
    window ramps of ``overlap`` samples), band energies coded predictively, band-normalised
    coefficients below 4 kHz coded by residual vector quantization, noise filled above, and a
    recurrent post-filter in the decoder. A frame is ``quantizers`` 10-bit codes; ``layouts`` says,
    per code count (per bitrate), how many go to the envelope and to each shape group. Algorithmic
    latency: one frame plus one window ramp, 25 ms.
    """

    sample_rate: int = 16000
    frame: int = 320  # samples per frame and coefficients per frame (20 ms)
    overlap: int = 80  # samples of each window ramp (5 ms)
    band_edges: tuple[int, ...] = (0, 8, 16, 24, 32, 40, 48, 56, 64, 76, 88, 100, 112, 128, 144, 160, 192, 224, 256, 288, 320)
    shape_groups: tuple[tuple[int, int], ...] = ((0, 64), (64, 160))  # coefficient ranges coded as shapes (0-1.6, 1.6-4 kHz)
    codebook_size: int = 1024  # 10 bits per code
    envelope_stages: int = 4
    group_stages: tuple[int, ...] = (12, 8)
    layouts: tuple[tuple[int, int, tuple[int, ...]], ...] = ((6, 2, (4, 0)), (12, 3, (9, 0)), (24, 4, (12, 8)))  # (codes, envelope, groups)
    envelope_memory: float = 0.5  # the envelope is predicted as this much of the last frame's (about its mean)
    hidden: int = 192  # the post-filter's GRU
    magnitude_groups: tuple[bool, ...] = (False, False)  # groups coded as magnitudes only (their signs are noise); after the signed ones

    @classmethod
    def from_dict(cls, d: dict) -> CodecConfig:
        return cls(**{**d, "band_edges": tuple(d["band_edges"]), "shape_groups": tuple(tuple(g) for g in d["shape_groups"]),
                      "group_stages": tuple(d["group_stages"]), "layouts": tuple((n, e, tuple(g)) for n, e, g in d["layouts"]),
                      **({"magnitude_groups": tuple(d["magnitude_groups"])} if "magnitude_groups" in d else {})})  # fmt: skip

    @property
    def bands(self) -> int:
        return len(self.band_edges) - 1

    @property
    def coded_bins(self) -> int:
        """Coefficients the shape groups cover (0 .. coded_bins); above them, noise is filled."""
        return self.shape_groups[-1][1]

    @property
    def signed_bins(self) -> int:
        """Coefficients coded with their signs (0 .. signed_bins), which the post-filter estimates as they are."""
        return max((hi for (_, hi), magnitude in zip(self.shape_groups, self.magnitude_groups) if not magnitude), default=0)

    @property
    def bits_per_code(self) -> int:
        return (self.codebook_size - 1).bit_length()

    @property
    def quantizers(self) -> int:
        """The most codes a frame carries (the highest bitrate)."""
        return max(n for n, _, _ in self.layouts)

    @property
    def default_quantizers(self) -> int:
        """Codes a frame when no bitrate is asked for: the middle layout's (6 kbps)."""
        return self.layouts[len(self.layouts) // 2][0]

    @property
    def latency_samples(self) -> int:
        return self.frame + self.overlap

    def quantizers_for(self, kbps: float) -> int:
        """How many codes a frame carries at ``kbps`` (kbps * 1000 / 50 frames / 10 bits): one of ``layouts``."""
        n = round(kbps * 1000 / FRAMES_PER_SECOND / self.bits_per_code)
        if n not in (counts := [c for c, _, _ in self.layouts]):
            rates = ", ".join(f"{c * self.bits_per_code * FRAMES_PER_SECOND / 1000:g}" for c in counts)
            raise ValueError(f"{kbps:g} kbps is not a bitrate of this codec ({rates} kbps)")
        return n

    def layout(self, quantizers: int) -> tuple[int, tuple[int, ...]]:
        """(envelope codes, codes per shape group) of a frame of ``quantizers`` codes."""
        return next((e, g) for n, e, g in self.layouts if n == quantizers)

    @property
    def frame_shape(self) -> tuple[int]:
        """One step's input without the batch: one frame of samples."""
        return (self.frame,)

    def encoder_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """The sending end's stream state: (the last ``overlap`` input samples, the decoded envelope
        so far less its mean)."""
        return _zeros((batch, self.overlap), (batch, self.bands))

    def decoder_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """The receiving end's stream state: (decoded envelope less its mean, post-filter GRU hidden,
        the window ramp still to overlap-add, frames decoded so far: the noise generator's seed)."""
        return _zeros((batch, self.bands), (1, batch, self.hidden), (batch, self.overlap), (batch,))

    def initial_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """The round trip's stream state: the encoder's, then the decoder's."""
        return self.encoder_state(batch) + self.decoder_state(batch)


CONFIGS = {"denoiser": DenoiserConfig, "tagger": TaggerConfig, "codec": CodecConfig, "restorer": RestorerConfig}  # by model kind
