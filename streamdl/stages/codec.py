"""Using the codec: files to ``.sdlc`` and back, and a live stage that plays the decoded round trip.

Files are coded with the model's chunk functions over the whole signal (equal to frame-by-frame
streaming, see the tests); the live stage runs the two ends' exported steps once per codec frame
(two hops) and so delays the chain by one hop more: 30 ms algorithmic in all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.io.bitstream import StreamInfo, read_stream, write_stream
from streamdl.models.checkpoint import load_model
from streamdl.models.codec import CodecDecoder, CodecEncoder
from streamdl.models.spectrum import Spectrum
from streamdl.stages.base import ModelStage


def shipped_codec_path() -> Path:
    """The shipped codec's weights; a clear error while none ships."""
    if not shipped_model_path("codec").is_file():
        raise StreamdlError("this streamdl ships no trained codec yet; train one with 'streamdl train codec' and pass --model FILE")
    return shipped_model_path("codec")


def load_codec(path: str | Path | None = None) -> torch.nn.Module:
    """The codec in ``path`` (a weights file or checkpoint), or the shipped one."""
    return load_model(path or shipped_codec_path(), "codec")


@torch.no_grad()
def encode(model, x: np.ndarray, kbps: float) -> tuple[np.ndarray, StreamInfo]:
    """Mono float32 (samples,) at the model's rate -> codes (frames, quantizers), header info."""
    c = model.config
    try:
        n = c.quantizers_for(kbps)
    except ValueError as e:
        raise StreamdlError(str(e)) from None
    frame, delay = c.pool * c.stft.hop, c.stft.delay_samples
    padded = np.pad(np.asarray(x, np.float32), (0, delay + -(len(x) + delay) % frame))  # flush the analysis delay, whole frames
    spec = Spectrum(c.stft).stft(torch.from_numpy(padded)[None])
    codes = model.encode_chunk(spec, model.encoder_state(1), n)[0][0].numpy()
    bitrate = n * c.bits_per_code * c.stft.sample_rate // frame
    return codes, StreamInfo(c.stft.sample_rate, bitrate, c.bits_per_code, n, frame, len(codes), len(x))


@torch.no_grad()
def decode(model, codes: np.ndarray, info: StreamInfo) -> np.ndarray:
    """Codes (frames, quantizers) -> mono float32 (info.samples,), aligned with the encoded input."""
    c = model.config
    if info.sample_rate != c.stft.sample_rate or info.bits != c.bits_per_code:
        raise StreamdlError(f"this file was made by another codec ({info.sample_rate} Hz, {info.bits}-bit codes); decode it with that model")
    if info.quantizers > c.quantizers:
        raise StreamdlError(f"this file uses {info.quantizers} quantizers; the model has {c.quantizers}")
    spec = model.decode_chunk(torch.from_numpy(codes)[None], model.decoder_state(1))[0]
    y = Spectrum(c.stft).istft(spec)[0].numpy()
    delay = c.stft.delay_samples
    return np.clip(np.pad(y[delay:], (0, max(0, info.samples - len(y) + delay)))[: info.samples], -1.0, 1.0)


def encode_file(model, x: np.ndarray, path: str | Path, kbps: float) -> StreamInfo:
    codes, info = encode(model, x, kbps)
    write_stream(path, codes, info)
    return info


def decode_file(model, path: str | Path) -> tuple[np.ndarray, StreamInfo]:
    codes, info = read_stream(path)
    return decode(model, codes, info), info


class StreamingCodec(ModelStage):
    """Spectral stage at 16 kHz: each STFT frame in, the decoded round trip out, ``pool - 1`` hops later.

    Frames are coded in groups of ``pool`` (a 20 ms codec frame of two hops by default): the sending
    end's step turns a group into codes at ``kbps``, the receiving end's step turns them back into
    frames. While a group fills, the stage plays the previous group's decoded frames, so it adds
    exactly ``pool - 1`` hops of delay (10 ms by default; 30 ms algorithmic in all).
    """

    kind = "codec"

    def __init__(self, model=None, *, kbps: float = 6.0, device: str = "cpu", backend: str = "auto"):
        self.kbps = kbps
        super().__init__(model, device=device, backend=backend)
        self._encode, self._decode = self._steps
        self.pool = self.config.pool
        self.delay_hops = self.pool - 1  # the chain's output is this much later
        self._frames = np.zeros((1, *self.config.frame_shape), np.float32)
        self.reset()

    @classmethod
    def shipped_model(cls) -> Path:
        return shipped_codec_path()

    def step_modules(self) -> list:
        """The two ends, exported at the chosen bitrate."""
        try:
            self.model.set_bitrate(self.kbps)
        except ValueError as e:
            raise StreamdlError(str(e)) from None
        return [CodecEncoder(self.model), CodecDecoder(self.model)]

    def reset(self) -> None:
        super().reset()
        self._count = 0
        self._decoded = np.zeros((self.pool, self.config.stft.n_bins), np.complex64)
        self._out = np.zeros(self.config.stft.n_bins, np.complex64)

    def __call__(self, spec: np.ndarray) -> np.ndarray:
        self._frames[0, self._count] = spec.view(np.float32).reshape(-1, 2)
        self._count += 1
        if self._count == self.pool:
            self._count = 0
            codes = self._encode(self._frames)
            self._decoded = np.ascontiguousarray(self._decode(codes)[0]).view(np.complex64)[..., 0]
        self._out[:] = self._decoded[self._count]  # the frame pool - 1 hops back
        return self._out
