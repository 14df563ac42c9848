"""A virtual microphone: a source every app lists, fed with streamdl's output, on PipeWire or PulseAudio.

:func:`streamdl.engine.pipeline.open_engine` asks the server which it is (:func:`on_pipewire`).

- **PipeWire** (:class:`VirtualMicrophone`): the node is a null sink of media class ``Audio/Source/Virtual``
  made through PipeWire's PulseAudio interface (``pactl load-module module-null-sink``); streamdl plays into
  it through a JACK port of PipeWire's own libjack (package ``pipewire-jack``), which the PipeWire graph
  clocks, and links that port to the node's input itself: WirePlumber does not route a stream into such a
  node on its own. A watcher keeps the link made and the node there (a restart of the PulseAudio side
  brings both back).
- **PulseAudio** (:class:`~streamdl.engine.pulse_mic.PulseVirtualMicrophone`): a null sink (``NAME_feed``) with a remapped source
  (``NAME``) on its monitor; streamdl plays into the null sink through ALSA's ``pulse`` device (package
  ``libasound2-plugins``), clocked by the server. A watcher re-creates the source if it is removed; when
  the server itself goes away the run ends with a one-line error.

Either way :meth:`stop` removes what was made, and what a run that was killed left is replaced at the next start.
"""

from __future__ import annotations

import ctypes.util
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading

from streamdl.engine.endpoints import NO_STATUS
from streamdl.errors import StreamdlError

DEFAULT_NAME = "streamdl_mic"
DESCRIPTION = "streamdl denoised microphone"
OWNER_KEY = "streamdl.pid"  # a node property: the process that made it, so a leftover of a killed run is known as one
WATCH_S = 0.5  # how often the watcher checks the node and the link
SILENT_GRAPH_S = 2.0  # no graph cycle for this long: PipeWire went away
_PIPEWIRE_JACK = "/usr/lib/*/pipewire-0.3/jack/libjack.so.0"


def pactl(*args: str, check: bool = True) -> str:
    """Run pactl; a one-line StreamdlError when it is missing or the server does not answer."""
    if shutil.which("pactl") is None:
        raise StreamdlError("the virtual microphone needs pactl: apt install pulseaudio-utils")
    result = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no answer"]
        raise StreamdlError(f"no PipeWire or PulseAudio server reachable (pactl {args[0]}: {reason[0]}); start the desktop's sound "
                            "server (systemctl --user start pipewire pipewire-pulse wireplumber, or pulseaudio --start)")  # fmt: skip
    return result.stdout


def _modules(kind: str) -> list[tuple[str, str]]:
    """(index, arguments) of every module of ``kind`` loaded on the server."""
    rows = [line.split("\t") for line in pactl("list", "short", "modules").splitlines()]
    return [(row[0], row[2] if len(row) > 2 else "") for row in rows if len(row) > 1 and row[1] == kind]


def on_pipewire() -> bool:
    """Whether the server ``pactl`` reaches is PipeWire's PulseAudio side (else a plain PulseAudio)."""
    server = re.search(r"Server Name: (.*)", pactl("info"))
    return server is not None and "pipewire" in server.group(1).lower()


def node_names() -> set[str]:
    """The names of every source and sink on the server."""
    names = set()
    for kind in ("sources", "sinks"):
        names.update(line.split("\t")[1] for line in pactl("list", "short", kind).splitlines() if "\t" in line)
    return names


def _own_loops(name: str) -> list[int]:
    """Ids of the links that carry the node ``name``'s own output back into a capture stream of this
    process: what the session manager makes when the real microphone goes away and the virtual one is
    the source left (streamdl would then denoise its own output)."""
    try:
        graph = json.loads(subprocess.run(["pw-dump"], capture_output=True, text=True, timeout=10).stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return []
    props = {o["id"]: o.get("info", {}).get("props", {}) for o in graph if o.get("type") == "PipeWire:Interface:Node"}
    clients = {o["id"] for o in graph if o.get("type") == "PipeWire:Interface:Client"
               and str(o.get("info", {}).get("props", {}).get("application.process.id")) == str(os.getpid())}  # fmt: skip
    ours = {i for i, p in props.items() if p.get("client.id") in clients and p.get("media.class") == "Stream/Input/Audio"}
    mine = {i for i, p in props.items() if p.get("node.name") == name}
    return [o["id"] for o in graph if o.get("type") == "PipeWire:Interface:Link"
            and o.get("info", {}).get("output-node-id") in mine and o.get("info", {}).get("input-node-id") in ours]  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _load_pipewire_jack():
    """The ``jack`` module bound to PipeWire's libjack (so its ports live in the PipeWire graph), whatever
    other libjack the process holds (PortAudio links one)."""
    found = sorted(glob.glob(_PIPEWIRE_JACK))
    if not found:
        raise StreamdlError("the virtual microphone needs PipeWire's JACK library: apt install pipewire-jack")
    if "jack" in sys.modules:
        jack = sys.modules["jack"]
        if jack._libname != found[0]:
            raise StreamdlError(f"this process already uses another JACK library ({jack._libname}); run the virtual microphone in a process of its own")
        return jack
    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: found[0] if "jack" in name else original(name)  # JACK-Client loads what this names
    try:
        import jack
    except (ImportError, OSError) as e:
        raise StreamdlError(f"the virtual microphone needs the JACK-Client package ({e}): pip install JACK-Client") from None
    finally:
        ctypes.util.find_library = original
    return jack


class VirtualSource:
    """What both virtual microphones share: the name, and the server modules that make the source, each
    marked with this process's id so that a leftover of a killed run is known as one (see :meth:`_modules_made`)."""

    device = None  # not a PortAudio device
    channels = 1

    def __init__(self, name: str, description: str):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise StreamdlError(f"{name!r}: a virtual microphone's name takes letters, digits, '_', '.' and '-'")
        self.name, self.description = name, description
        pactl("info")
        self._loaded: list[str] = []  # module indices, unloaded by stop
        self._replace_leftover()
        self._create()
        self.error: StreamdlError | None = None  # set when the server went away under us
        self.xruns = 0  # the server's, reported among the engine's device xruns
        self.cycles = 0  # callbacks run: the watcher's sign of life from the server
        self.hears_itself = False  # the engine's capture was found fed from this source: the engine mutes it meanwhile
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    gone = "the sound server went away"  # the error's words once the server stops running our callback

    def _start_watching(self) -> None:
        """Every ``WATCH_S`` in a thread until :meth:`stop`: say in ``error`` that the server went away once it
        has run no callback for ``SILENT_GRAPH_S``, else :meth:`_check` (which may set ``error`` too)."""

        def watch() -> None:
            seen, still = self.cycles, 0
            while not self._stop.wait(WATCH_S) and self.error is None:
                seen, still = self.cycles, (still + 1 if self.cycles == seen else 0)
                if still * WATCH_S >= SILENT_GRAPH_S:
                    self.error = StreamdlError(self.gone)
                    return
                self._check()

        self._watcher = threading.Thread(target=watch, name="streamdl-virtual-mic", daemon=True)
        self._watcher.start()

    def _check(self) -> None:
        raise NotImplementedError

    def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._stop.set()
            self._watcher.join(timeout=5)
            self._watcher = None

    def _modules_made(self) -> list[tuple[str, str, str]]:
        """(module, its node-name argument, node name) of each module that makes the source."""
        raise NotImplementedError

    def _replace_leftover(self) -> None:
        """Unload what a killed streamdl left under this name; refuse a node that another program made."""
        for kind, key, node in self._modules_made():
            for index, args in _modules(kind):
                if f"{key}={node} " not in args + " ":
                    continue
                owner = re.search(rf"{re.escape(OWNER_KEY)}=(\d+)", args)
                if owner is None:
                    break
                if int(owner.group(1)) != os.getpid() and _alive(int(owner.group(1))):
                    raise StreamdlError(f"{self.name}: a streamdl process (pid {owner.group(1)}) runs this virtual microphone; "
                                        "stop it, or pick another name with --virtual-mic NAME")  # fmt: skip
                pactl("unload-module", index, check=False)
        taken = node_names() & {node for _, _, node in self._modules_made()}
        if taken:
            raise StreamdlError(f"{self.name}: another program's audio device has the name {sorted(taken)[0]}; pick another with --virtual-mic NAME")

    def _load(self, *args: str) -> None:
        self._loaded.append(pactl("load-module", *args).strip())

    def _create(self) -> None:
        raise NotImplementedError

    def _unload(self) -> None:
        for index in reversed(self._loaded):
            pactl("unload-module", index, check=False)
        self._loaded = []


class VirtualMicrophone(VirtualSource):
    """A sink that is a virtual source node named ``name`` in the PipeWire graph, mono, at the graph's rate.

    It runs on the graph's clock: :meth:`start` hands the engine's playback callback to a JACK port's
    process callback, ``callback(outdata (frames, 1), frames, time_info, status)``.
    """

    def __init__(self, name: str = DEFAULT_NAME, description: str = DESCRIPTION):
        super().__init__(name, description)
        jack = _load_pipewire_jack()
        try:
            self._client = jack.Client(f"{name}_feed", no_start_server=True)
        except jack.JackError as e:
            self.stop()
            raise StreamdlError(f"cannot reach PipeWire's graph through its JACK interface ({e}); is pipewire running?") from None
        self._port = self._client.outports.register("out")

    # ---- the node -----------------------------------------------------------------------------
    def _modules_made(self) -> list[tuple[str, str, str]]:
        return [("module-null-sink", "sink_name", self.name)]

    def _create(self) -> None:
        props = f"node.nick={self.name} node.description=\"{self.description}\" {OWNER_KEY}={os.getpid()}"
        self._load("module-null-sink", "media.class=Audio/Source/Virtual", f"sink_name={self.name}", "channel_map=mono",
                   f"sink_properties='{props}'")  # fmt: skip

    @property
    def _input_port(self) -> str:
        return f"{self.name}:input_MONO"  # the node's nick names its ports in the JACK view

    # ---- the engine's interface ----------------------------------------------------------------
    def rate(self, preferred: int) -> int:
        """The graph's rate: the engine runs at it."""
        return self._client.samplerate

    @property
    def blocksize(self) -> int:
        """Frames per cycle of the graph (its quantum)."""
        return self._client.blocksize

    def start(self, callback) -> None:
        """Run ``callback`` on every cycle of the graph, linked into the node, and keep it linked."""
        port = self._port

        def process(frames: int) -> None:
            self.cycles += 1
            callback(None, port.get_array()[:, None], frames, None, NO_STATUS)

        def xrun(delay: float) -> None:
            self.xruns += 1

        def shutdown(status, reason: str) -> None:
            self.error = StreamdlError(f"the sound server went away ({reason.strip() or status}); the virtual microphone "
                                       "stopped (as a service, it starts again on its own)")  # fmt: skip

        self._client.set_process_callback(process)
        self._client.set_xrun_callback(xrun)
        self._client.set_shutdown_callback(shutdown)
        self._client.activate()
        self._link()
        self._start_watching()

    def _link(self) -> bool:
        """Link the feeding port to the node's input unless it is; False when the node is not there."""
        try:
            if self._input_port in [p.name for p in self._port.connections] + [a for p in self._port.connections for a in p.aliases]:
                return True
            self._client.connect(self._port, self._input_port)
            return True
        except Exception:  # the node is gone or not yet back: the watcher tries again
            return False

    gone = (f"PipeWire stopped running the virtual microphone (no cycle for {SILENT_GRAPH_S:g} s); "
            "the sound server went away (as a service, streamdl starts again on its own)")  # fmt: skip

    def _check(self) -> None:
        """Keep the node and the link: re-create a node the server lost (a restart of its PulseAudio side),
        re-link a dropped link, undo a loop of our own output."""
        try:
            if self.name not in node_names():
                self._loaded = []  # gone with the server's restart
                self._create()
            self._link()
        except StreamdlError:
            return  # the PulseAudio side is away for now
        loops = _own_loops(self.name)  # the microphone went away and the session manager fed us our own output:
        self.hears_itself = bool(loops)  # muted until no link is found (the session manager may make it again)
        for link in loops:
            subprocess.run(["pw-cli", "destroy", str(link)], capture_output=True, timeout=10)

    def stop(self) -> None:
        """Stop feeding and remove the node. Safe to call twice."""
        self._stop_watching()
        client = getattr(self, "_client", None)
        if client is not None:
            try:
                client.deactivate()
                client.close()
            except Exception:
                pass
            self._client = self._port = None  # they hold the engine's callback
        self._unload()
