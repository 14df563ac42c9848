"""Using the codec: files to ``.sdlc`` and back, and a live stage that plays the decoded round trip.

Files are coded with the model's chunk functions over the whole signal (equal to frame-by-frame
streaming, see the tests). The live stage works on the chain's output samples, one hop at a time: it
runs the round trip once per 20 ms frame (on the CPU as one Numba kernel, without PyTorch) and so
delays the chain by a frame less a hop plus the window ramp (240 samples, 15 ms, at 10 ms hops); the
codec's own algorithmic latency is 25 ms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamdl.assets import shipped_model_path
from streamdl.errors import StreamdlError
from streamdl.io.bitstream import StreamInfo, read_stream, write_stream
from streamdl.stages.base import ModelStage


def load_codec(path: str | Path | None = None):
    """The codec in ``path`` (a weights file or checkpoint), or the shipped one, as a PyTorch model (files
    are coded with PyTorch; the live stage needs it only off the CPU kernel)."""
    from streamdl.models.checkpoint import load_model

    return load_model(path or shipped_model_path("codec"), "codec")


def quantizers_for(config, kbps: float) -> int:
    """Codes a frame at ``kbps``; a one-line error for a bitrate the codec does not have."""
    try:
        return config.quantizers_for(kbps)
    except ValueError as e:
        raise StreamdlError(str(e)) from None


def encode(model, x: np.ndarray, kbps: float) -> tuple[np.ndarray, StreamInfo]:
    """Mono float32 (samples,) at 16 kHz -> codes (frames, quantizers), header info."""
    c = model.config
    n = quantizers_for(c, kbps)
    import torch

    padded = np.pad(np.asarray(x, np.float32), (0, -(len(x) + c.overlap) % c.frame + c.overlap))  # flush the ramp, whole frames
    with torch.no_grad():
        codes = model.encode_chunk(torch.from_numpy(padded)[None], model.encoder_state(1), n)[0][0].numpy()
    bitrate = n * c.bits_per_code * c.sample_rate // c.frame
    return codes, StreamInfo(c.sample_rate, bitrate, c.bits_per_code, n, c.frame, len(codes), len(x))


def decode(model, codes: np.ndarray, info: StreamInfo) -> np.ndarray:
    """Codes (frames, quantizers) (a frame of codes < 0: lost, concealed) -> mono float32 (info.samples,),
    aligned with the encoded input."""
    c = model.config
    if info.sample_rate != c.sample_rate or info.bits != c.bits_per_code or info.frame_samples != c.frame:
        raise StreamdlError(f"this file was made by another codec ({info.sample_rate} Hz, {info.bits}-bit codes); decode it with that model")
    if info.quantizers not in [n for n, _, _ in c.layouts]:
        raise StreamdlError(f"this file has {info.quantizers} codes a frame, which this codec does not make; decode it with the model that made it")
    import torch

    with torch.no_grad():
        y = model.decode_chunk(torch.from_numpy(codes.astype(np.int64))[None], model.decoder_state(1))[0][0].numpy()
    return np.clip(np.pad(y[c.overlap :], (0, max(0, info.samples - len(y) + c.overlap)))[: info.samples], -1.0, 1.0)


def encode_file(model, x: np.ndarray, path: str | Path, kbps: float) -> StreamInfo:
    codes, info = encode(model, x, kbps)
    write_stream(path, codes, info)
    return info


def decode_file(model, path: str | Path) -> tuple[np.ndarray, StreamInfo]:
    codes, info = read_stream(path)
    return decode(model, codes, info), info


class StreamingCodec(ModelStage):
    """Signal stage at 16 kHz: ``hop`` output samples of the chain in, their decoded round trip out,
    ``delay_samples`` later (a codec frame less a hop, plus the window ramp).

    The chain's hops fill a 20 ms codec frame; when it is full, the round trip runs on it (the sending
    end's codes at ``kbps`` go straight to the receiving end), and its output is played out a hop at a time.
    """

    kind = "codec"

    def __init__(self, model=None, *, kbps: float = 6.0, hop: int = 160, device: str = "cpu", backend: str = "auto"):
        self.kbps = kbps
        if backend == "onnx":
            raise StreamdlError("the codec runs on numba, eager or torchscript, not onnx")
        super().__init__(model, device=device, backend=backend)
        self._step = self._steps[0]
        frame = self.config.frame
        if frame % hop:
            raise StreamdlError(f"the codec's {frame}-sample frames do not split into hops of {hop} samples")
        self.hop, self.pool = hop, frame // hop  # the round trip runs once every ``pool`` hops
        self.delay_samples = frame - hop + self.config.overlap
        self.reset()

    def kernel_options(self) -> dict:
        return {"quantizers": quantizers_for(self.config, self.kbps)}

    def step_modules(self) -> list:
        """The round trip at the chosen bitrate."""
        self.model.active = quantizers_for(self.config, self.kbps)
        return [self.model]

    def reset(self) -> None:
        super().reset()
        self._count = 0
        self._in = np.zeros((1, self.config.frame), np.float32)
        self._out = np.zeros(self.config.frame, np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self._in[0, self._count * self.hop : (self._count + 1) * self.hop] = x
        self._count = (self._count + 1) % self.pool
        if self._count == 0:
            self._out = self._step(self._in)[0]
        return self._out[self._count * self.hop : (self._count + 1) * self.hop]
