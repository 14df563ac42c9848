"""The virtual microphone on a plain PulseAudio server (see :mod:`streamdl.engine.virtual_mic`, which picks it)."""

from __future__ import annotations

import os
import re
import time

from streamdl.engine.endpoints import NO_STATUS
from streamdl.engine.virtual_mic import (
    DEFAULT_NAME,
    DESCRIPTION,
    OWNER_KEY,
    VirtualSource,
    node_names,
    pactl,
)
from streamdl.errors import StreamdlError

OPEN_ATTEMPTS = 3  # tries at opening the stream into the null sink


def _captures_of(pid: int) -> list[tuple[str, str]]:
    """(source-output index, source index) of every capture stream of process ``pid`` on the server."""
    found = []
    for block in pactl("list", "source-outputs").split("Source Output #")[1:]:
        source = re.search(r"^\s*Source: (\d+)", block, re.M)
        if source and re.search(rf'application\.process\.id = "{pid}"', block):
            found.append((block.split()[0], source.group(1)))
    return found


class PulseVirtualMicrophone(VirtualSource):
    """A sink that is a virtual source named ``name`` on a plain PulseAudio server, mono, at the server's
    default rate: a null sink ``NAME_feed`` and a source remapped from its monitor.

    It runs on the server's clock: :meth:`start` plays into the null sink through a PortAudio stream on
    ALSA's ``pulse`` device, ``callback(None, outdata (frames, 1), frames, time_info, status)`` filling each block.
    """

    def __init__(self, name: str = DEFAULT_NAME, description: str = DESCRIPTION):
        super().__init__(name, description)
        spec = re.search(r"Default Sample Specification: \S+ \d+ch (\d+)Hz", pactl("info"))
        self._rate = int(spec.group(1)) if spec else 48000
        self._stream = None

    @property
    def _feed(self) -> str:
        return f"{self.name}_feed"

    def _modules_made(self) -> list[tuple[str, str, str]]:
        return [("module-remap-source", "source_name", self.name), ("module-null-sink", "sink_name", self._feed)]

    def _create(self) -> None:
        owner = f"{OWNER_KEY}={os.getpid()}"
        if self._feed not in node_names():
            self._load("module-null-sink", f"sink_name={self._feed}", "channels=1", "channel_map=mono",
                       f"sink_properties='device.description=\"{self.description} (its input)\" {owner}'")  # fmt: skip
        self._load("module-remap-source", f"source_name={self.name}", f"master={self._feed}.monitor", "channels=1",
                   "channel_map=mono", f"source_properties='device.description=\"{self.description}\" {owner}'")  # fmt: skip

    # ---- the engine's interface ----------------------------------------------------------------
    def rate(self, preferred: int) -> int:
        """The server's default rate: the engine runs at it."""
        return self._rate

    @property
    def blocksize(self) -> int:
        """Frames per callback: 10 ms."""
        return self._rate // 100

    def start(self, callback) -> None:
        """Play ``callback``'s blocks into the null sink, and keep the source there."""
        from streamdl.engine.devices import load_sounddevice

        sd = load_sounddevice()
        pulse = [i for i, d in enumerate(sd.query_devices()) if d["name"] == "pulse" and d["max_output_channels"] > 0]
        if not pulse:
            raise StreamdlError("the virtual microphone on PulseAudio needs ALSA's pulse device: apt install libasound2-plugins")

        def play(outdata, frames, time_info, status) -> None:
            self.cycles += 1
            if status.output_underflow:
                self.xruns += 1
            callback(None, outdata, frames, time_info, NO_STATUS)

        previous = os.environ.get("PULSE_SINK")
        os.environ["PULSE_SINK"] = self._feed  # where ALSA's pulse device plays, read when the stream opens
        try:
            for attempt in range(OPEN_ATTEMPTS):  # the pulse plugin's connection can time out on a busy machine
                try:
                    self._stream = sd.OutputStream(device=pulse[0], channels=1, samplerate=self._rate, blocksize=self.blocksize,
                                                   dtype="float32", latency="low", callback=play)  # fmt: skip
                    self._stream.start()
                    break
                except sd.PortAudioError as e:
                    if attempt == OPEN_ATTEMPTS - 1:
                        raise StreamdlError(f"cannot play into the virtual microphone through ALSA's pulse device ({e})") from None
                    time.sleep(0.5)
        finally:
            if previous is None:
                del os.environ["PULSE_SINK"]
            else:
                os.environ["PULSE_SINK"] = previous
        self._start_watching()

    gone = ("the PulseAudio server went away or removed the virtual microphone's input; streamdl stopped "
            "(as a service, it starts again on its own)")  # fmt: skip

    def _check(self) -> None:
        """Re-create a source someone removed, undo a loop of our own output; when the server or the null
        sink is gone, say so in ``error``."""
        try:
            names = node_names()
        except StreamdlError:
            names = set()
        if self._feed not in names:
            self.error = StreamdlError(self.gone)
            return
        if self.name not in names:
            self._loaded = self._loaded[:1]  # the null sink stays; its source is made again
            try:
                self._create()
            except StreamdlError:
                return
        self._unloop()

    def _unloop(self) -> None:
        """When the server moved this process's capture onto our own source (the microphone went away and
        ours was the one left), move it to the default source, or, while that is ours too, have the engine
        mute it (``hears_itself``)."""
        ours = {self.name, f"{self._feed}.monitor"}
        try:
            rows = [line.split("\t") for line in pactl("list", "short", "sources").splitlines()]
            indices = {row[0] for row in rows if len(row) > 1 and row[1] in ours}
            looping = [index for index, source in _captures_of(os.getpid()) if source in indices]
            default = pactl("get-default-source").strip() if looping else ""
        except StreamdlError:
            return
        for index in looping if default and default not in ours else []:
            pactl("move-source-output", index, default, check=False)
        self.hears_itself = bool(looping) and (not default or default in ours)

    def stop(self) -> None:
        """Stop playing and remove the source and the null sink. Safe to call twice."""
        self._stop_watching()
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:
                pass
            self._stream = None  # it holds the engine's callback
        self._unload()
