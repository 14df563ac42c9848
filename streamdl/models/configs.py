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
    def n_feat(self) -> int:
        return self.floor_at + (self.erb_bands if self.noise_floor else 0)

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
        among conv1's inputs (rows ``floor_at`` on), at ``FLOOR_START``."""
        context = self.conv_kernel - 1
        state = _zeros((batch, self.n_feat, context), (batch, self.conv_channels, context), (self.gru_layers, batch, self.gru_hidden),
                       (batch, self.df_order - 1, self.df_bins, 2))  # fmt: skip
        state[0][:, self.floor_at :] = FLOOR_START
        return state


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
    stft: STFTConfig = field(default_factory=STFTConfig)
    pool: int = 2  # STFT hops per codec frame (20 ms)
    hidden: int = 256
    latent: int = 32  # dimension of the quantized vectors (24 codebooks of 1024 x 32 floats: 3 MB)
    codebook_size: int = 1024  # 10 bits per code
    quantizers: int = 24  # the most that are ever sent (12 kbps)
    compress: float = 0.3  # magnitude compression of the spectra the networks see and produce
    kernel: int = 3

    @classmethod
    def from_dict(cls, d: dict) -> CodecConfig:
        return cls(**{**d, "stft": STFTConfig(**d["stft"])})

    @property
    def bits_per_code(self) -> int:
        return (self.codebook_size - 1).bit_length()

    def quantizers_for(self, kbps: float) -> int:
        """How many quantizers a bitrate sends (kbps * 1000 / 50 frames / 10 bits)."""
        n = round(kbps * 1000 / FRAMES_PER_SECOND / self.bits_per_code)
        if not 1 <= n <= self.quantizers:
            top = self.quantizers * self.bits_per_code * FRAMES_PER_SECOND / 1000
            raise ValueError(f"{kbps:g} kbps is outside this codec's range ({self.bits_per_code * FRAMES_PER_SECOND / 1000:g} to {top:g} kbps)")
        return n

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """One step's input without the batch: ``pool`` STFT frames (pool, n_bins, 2)."""
        return (self.pool, self.stft.n_bins, 2)

    def encoder_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """The sending end's stream state: (conv1 inputs, conv2 inputs)."""
        return _zeros((batch, self.pool * self.stft.n_bins * 2, self.kernel - 1), (batch, self.hidden, self.kernel - 1))

    def decoder_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """The receiving end's stream state: (conv inputs, GRU hidden)."""
        return _zeros((batch, self.hidden, self.kernel - 1), (1, batch, self.hidden))

    def initial_state(self, batch: int = 1) -> tuple[np.ndarray, ...]:
        """The round trip's stream state: the encoder's, then the decoder's."""
        return self.encoder_state(batch) + self.decoder_state(batch)


CONFIGS = {"denoiser": DenoiserConfig, "tagger": TaggerConfig, "codec": CodecConfig}  # by model kind
