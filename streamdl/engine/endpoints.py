"""Where the live engine's audio comes from and goes to, behind one small interface.

A source is captured inside the audio callback, block by block: a :class:`DeviceInput` hands on
what the microphone delivered, a :class:`FileInput` the next samples of a file, paced by the
stream's clock exactly as a microphone would be (so a file can stand in for one). A sink is where
processed audio is played: a :class:`DeviceOutput`, a virtual microphone with a clock of its own
(:func:`has_own_clock`), or none. ``device`` is the PortAudio device index of an endpoint that is a
device, None otherwise; the engine opens one stream over the device endpoints (duplex, input only or
output only) or, with none, runs the callback on a clock.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from streamdl.engine.devices import device_index, device_rate, load_sounddevice
from streamdl.errors import StreamdlError

NO_STATUS = SimpleNamespace(input_overflow=False, output_underflow=False)  # for a callback no PortAudio calls: nothing to report


def has_own_clock(endpoint) -> bool:
    """Whether ``endpoint`` runs its own callback clock (a virtual microphone's graph), as ``start(callback)``."""
    return hasattr(endpoint, "start")


class DeviceInput:
    """A capture device (index, name substring, or None for the default), all channels mixed down
    or one (``channel``, 0-based)."""

    def __init__(self, device: int | str | None = None, channel: int | None = None):
        sd = load_sounddevice()
        self.device = device_index(device, "input")
        available = sd.query_devices(self.device)["max_input_channels"]
        if channel is not None and not 0 <= channel < available:
            raise StreamdlError(f"input channel {channel} does not exist; the device has channels 0..{available - 1}")
        self.channel = channel
        self.channels = available if channel is None else channel + 1  # opened: up to the one asked for
        self.finished = False  # a device never runs out

    def rate(self, preferred: int) -> int:
        return device_rate(self.device, "input", preferred)

    def open(self, rate: int, blocksize: int) -> None:
        """Nothing to prepare: the callback's block is the capture."""

    def capture(self, indata: np.ndarray, frames: int) -> np.ndarray:
        """The callback's input block (frames, channels). Called in the audio callback."""
        return indata[:, : self.channels]

    def mono(self, block: np.ndarray) -> np.ndarray:
        """(frames, channels) -> (frames,): the chosen channel, or all mixed down."""
        return block[:, self.channel] if self.channel is not None else block.mean(axis=1)


class FileInput:
    """An audio file played as if it were a microphone: read at the stream's rate, mixed to mono,
    delivered in real time by the stream's clock; ``loop`` repeats it, else ``finished`` turns True
    once every sample was captured."""

    device = None
    channels = 1

    def __init__(self, path: str | Path, *, loop: bool = False):
        from streamdl.io.audiofile import AudioFileSource

        self.path, self.loop = Path(path), loop
        with AudioFileSource(self.path) as source:  # checks the file now (unreadable, empty), before any stream opens
            self._rate = source.rate
        self.finished = False

    def rate(self, preferred: int) -> int:
        """With no device to follow, the file plays at its own rate."""
        return self._rate

    def open(self, rate: int, blocksize: int) -> None:
        """Read the file at ``rate`` and preallocate the callback's block."""
        from streamdl.engine.files import read_mono

        self._samples = read_mono(self.path, rate)
        self._block = np.zeros((max(blocksize, 1), 1), np.float32)
        self._pos = 0
        self.finished = False

    def capture(self, indata, frames: int) -> np.ndarray:
        """The next ``frames`` samples (fewer at the end without loop), (n, 1). Called in the audio
        callback: copies into a preallocated block, allocates nothing."""
        if len(self._block) < frames:  # PortAudio delivers a larger block than asked (rare): grow once
            self._block = np.zeros((frames, 1), np.float32)
        out, done = self._block[:frames, 0], 0
        while done < frames and not self.finished:
            take = min(frames - done, len(self._samples) - self._pos)
            out[done : done + take] = self._samples[self._pos : self._pos + take]
            done, self._pos = done + take, self._pos + take
            if self._pos == len(self._samples):
                self._pos, self.finished = 0, not self.loop
        return self._block[:done]

    def mono(self, block: np.ndarray) -> np.ndarray:
        return block[:, 0]


class DeviceOutput:
    """A playback device (index, name substring, or None for the default), mono or stereo."""

    def __init__(self, device: int | str | None = None):
        sd = load_sounddevice()
        self.device = device_index(device, "output")
        self.channels = min(2, sd.query_devices(self.device)["max_output_channels"])

    def rate(self, preferred: int) -> int:
        return device_rate(self.device, "output", preferred)
