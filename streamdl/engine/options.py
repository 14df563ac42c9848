"""What a chain runs and where live audio comes from and goes to: settings with their defaults, checks
and command-line flags (see :mod:`streamdl.config`), importable without loading any model."""

from __future__ import annotations

import math
from dataclasses import dataclass

from streamdl.config import check_between, check_choice, option
from streamdl.errors import StreamdlError
from streamdl.models.backends import BACKENDS, DEVICES


@dataclass(frozen=True)
class ChainOptions:
    """Which stages a chain runs, with which models, where and how (see :func:`streamdl.engine.pipeline.build_chain`)."""

    denoise: bool = option(True, "pass the audio through without denoising it", flag="--no-denoise")
    model: str = option("", "denoiser model file (default: the shipped weights)", metavar="FILE")
    attenuation_limit: float | None = option(None, "suppress noise by at most this many dB (default: no limit)", metavar="DB")
    mix: float = option(1.0, "1 = fully denoised, 0 = the original (default: 1)")
    restore: bool = option(False, "also restore damaged speech: repair clipping and gaps (adds 80 ms), rebuild the high band of "
                           "band-limited speech (after denoising)")  # fmt: skip
    restorer_model: str = option("", "restorer model file (default: the shipped weights)", metavar="FILE")
    tag: bool = option(False, "also tag sounds and report events as they start and end")
    tagger_model: str = option("", "tagger model file (default: the shipped weights)", metavar="FILE")
    codec: float = option(0.0, "also pass the audio through the neural codec at this bitrate (3, 6, 12)", metavar="KBPS")
    codec_model: str = option("", "codec model file (default: the shipped weights)", metavar="FILE")
    device: str = option("cpu", "where the models run (default: cpu)", choices=DEVICES)
    backend: str = option("auto", "model runtime (default: a model's Numba kernel on the CPU, else ONNX Runtime; TorchScript on CUDA)",
                          choices=("auto", *BACKENDS))  # fmt: skip

    def __post_init__(self):
        check_between(self, "mix", 0.0, 1.0, "the denoised share of the output")
        check_between(self, "attenuation_limit", 0.0, math.inf, "a number of dB")
        check_between(self, "codec", 0.0, math.inf, "a bitrate in kbps")
        check_choice(self, "device", DEVICES)
        check_choice(self, "backend", ("auto", *BACKENDS))


@dataclass(frozen=True)
class LiveOptions:
    """Where live audio comes from and goes to (see :func:`streamdl.engine.pipeline.open_engine`)."""

    input: str = option("", "microphone: device index or name substring (default: the system's default input)",
                        flag="-i --input", metavar="DEVICE")  # fmt: skip
    input_file: str = option("", "play this audio file as the microphone, in real time", metavar="FILE")
    loop: bool = option(False, "with --input-file: play it in a loop")
    output: str = option("", "output device index or name substring (default: the system's default)", flag="-o --output", metavar="DEVICE")
    play: bool = option(True, "open no output device (use with --record)", flag="--no-play")
    virtual_mic: str = option("", "play into a virtual microphone other apps can pick (PipeWire or PulseAudio), named NAME (default streamdl_mic), "
                              "instead of an output device", metavar="NAME", const="streamdl_mic")  # fmt: skip
    channel: int | None = option(None, "use this input channel (0-based) instead of mixing all down")
    blocksize: int | None = option(None, "device frames per callback (default: one 10 ms hop)")
    record: str = option("", "also write the processed audio to this wav/flac file", metavar="FILE")

    def __post_init__(self):
        check_between(self, "channel", 0, 255, "an input channel, counted from 0")
        check_between(self, "blocksize", 1, 1 << 16, "a number of device frames")
        if self.input and self.input_file:
            raise StreamdlError("give a microphone (-i) or a file (--input-file), not both")
        if self.virtual_mic and self.output:
            raise StreamdlError("give an output device (-o) or a virtual microphone (--virtual-mic), not both")
