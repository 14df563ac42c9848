"""Helpers for exercising streamdl through real audio servers: a JACK dummy server and a probe client,
and a private PipeWire session for the virtual microphone.

Used by the test suite and by ``benchmarks/``; handy for checking a deployment too. The JACK parts
need ``jackd`` (Debian ``jackd2``) and the ``JACK-Client`` package.
"""

from __future__ import annotations

import gc
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time

import numpy as np

from streamdl.errors import StreamdlError


def start_jack_dummy(name: str, rate: int = 16000, period: int = 160, timeout: float = 10.0) -> subprocess.Popen:
    """Start ``jackd -n NAME -R -d dummy`` (2 in, 2 out) and wait until it accepts clients.

    Its log goes to a temporary file (a pipe nobody reads would fill up and block the server).
    Stop it with :func:`stop_jack` only after every PortAudio stream and JACK client on it is closed.
    """
    import jack

    jackd = shutil.which("jackd")
    if jackd is None:
        raise StreamdlError("jackd is not installed; apt-get install jackd2")
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([jackd, "-n", name, "-R", "-P", "70", "-d", "dummy", "-r", str(rate), "-p", str(period), "-C", "2", "-P", "2"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        try:
            jack.Client("ready-check", servername=name, no_start_server=True).close()
            return proc
        except jack.JackError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_jack(proc)
                log.seek(0)
                raise StreamdlError(f"jackd did not start: {log.read().decode(errors='replace')[-300:]}") from None
            time.sleep(0.1)


def stop_jack(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Terminate a jackd started by :func:`start_jack_dummy`, killing it if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class JackProbe:
    """A JACK client that plays a signal out of its 'play' port and records its 'rec' port.

    Both happen in the same process callback, so the recording lines up sample for sample with
    the playback on the server's clock.
    """

    def __init__(self, server: str, signal: np.ndarray, record_seconds: float):
        import jack

        self.client = jack.Client("streamdl-probe", servername=server, no_start_server=True)
        self.play_port = self.client.outports.register("play")
        self.rec_port = self.client.inports.register("rec")
        self.signal = signal.astype(np.float32)
        self.recorded = np.zeros(int(record_seconds * self.client.samplerate) + len(signal), np.float32)
        self.pos = 0  # frames since playback started
        self.start = None  # server frame time of the first played frame
        self.playing = threading.Event()
        self.client.set_process_callback(self._process)

    def _process(self, frames):
        """Play and record by the server's frame clock, so a missed cycle leaves a gap, never a shift."""
        out = self.play_port.get_array()
        out[:] = 0
        if not self.playing.is_set():
            return
        now = self.client.last_frame_time
        if self.start is None:
            self.start = now
        start = now - self.start
        if start >= len(self.recorded):
            self.pos = len(self.recorded)
            return
        chunk = self.signal[start : start + frames]
        out[: len(chunk)] = chunk
        n = min(frames, len(self.recorded) - start)
        self.recorded[start : start + n] = self.rec_port.get_array()[:n]
        self.pos = start + frames

    def other_ports(self, timeout: float = 30.0, *, inputs: bool = True) -> tuple[list[str], list[str]]:
        """(inputs, outputs) of the first client that is neither this probe nor the system, once it has
        output ports (and input ports, unless ``inputs`` is False: an output-only stream)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = [p.name for p in self.client.get_ports(is_audio=True)]
            clients = {n.split(":")[0] for n in names} - {"system", self.client.name}
            if clients:
                client = sorted(clients)[0]
                ins = sorted(p.name for p in self.client.get_ports(f"{client}:.*", is_input=True, is_audio=True))
                outs = sorted(p.name for p in self.client.get_ports(f"{client}:.*", is_output=True, is_audio=True))
                if outs and (ins or not inputs):
                    return ins, outs
            time.sleep(0.05)
        raise AssertionError("no streamdl JACK ports appeared")

    def connect_to_other_client(self) -> None:
        """Wire this probe to the other client: 'play' into its first input, its first output into 'rec'."""
        ins, outs = self.other_ports()
        self.client.connect(self.play_port, ins[0])
        self.client.connect(outs[0], self.rec_port)
        time.sleep(0.3)  # let the graph settle before the first played frame

    def play(self, timeout: float) -> None:
        """Play the whole signal and record; return when the recording is complete."""
        self.playing.set()
        deadline = time.monotonic() + timeout
        while self.pos < len(self.recorded):
            if time.monotonic() > deadline:
                raise TimeoutError("the probe did not finish recording")
            time.sleep(0.05)

    def __enter__(self) -> JackProbe:
        gc.collect()
        gc.disable()  # a collection inside the process callback would be an xrun of the probe's own making
        self.client.activate()
        return self

    def __exit__(self, *exc) -> None:
        self.client.deactivate()
        self.client.close()
        gc.enable()


class _SoundServer:
    """A private sound server's processes, in their own runtime folder; ``env`` reaches them."""

    def __init__(self, runtime_dir: str):
        os.makedirs(runtime_dir, mode=0o700, exist_ok=True)
        self.env = {**os.environ, "XDG_RUNTIME_DIR": runtime_dir, "PIPEWIRE_RUNTIME_DIR": runtime_dir, "PULSE_RUNTIME_PATH": f"{runtime_dir}/pulse"}
        self._log = tempfile.TemporaryFile()
        self._procs: dict[str, subprocess.Popen] = {}

    def _start(self, program: str, *args: str) -> None:
        self._procs[program] = subprocess.Popen([program, *args], env=self.env, stdout=self._log, stderr=subprocess.STDOUT)

    def _wait(self, timeout: float) -> None:
        """Until the PulseAudio interface answers."""
        deadline = time.monotonic() + timeout
        while subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self._procs.values()):
                self.stop()
                self._log.seek(0)
                raise StreamdlError(f"{type(self).__name__} did not start: {self._log.read().decode(errors='replace')[-300:]}")
            time.sleep(0.1)

    def end(self, program: str) -> None:
        """Stop one of the server's programs ("pipewire": the sound server itself going away)."""
        proc = self._procs.pop(program)
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10).stdout

    def sources(self) -> list[str]:
        return [line.split("\t")[1] for line in self.pactl("list", "short", "sources").splitlines() if "\t" in line]

    def stop(self) -> None:
        for program in reversed(list(self._procs)):
            self.end(program)


UNPACKED_PULSEAUDIO = "/opt/streamdl-pulseaudio"  # where install.sh unpacks Debian's pulseaudio, which conflicts with pipewire-alsa


class PulseAudioStack(_SoundServer):
    """A private plain PulseAudio server with one null sink as its speakers, for tests of the virtual
    microphone there. :meth:`stop` ends it.

    Runs Debian's pulseaudio as installed, or as install.sh unpacks it into ``UNPACKED_PULSEAUDIO``
    (the package conflicts with pipewire-alsa, which the PipeWire tests need); PortAudio reaches it
    through libasound2-plugins' ALSA ``pulse`` device.
    """

    def __init__(self, runtime_dir: str, timeout: float = 15.0):
        daemon, options = shutil.which("pulseaudio"), []
        super().__init__(runtime_dir)
        if daemon is None and os.path.isfile(f"{UNPACKED_PULSEAUDIO}/usr/bin/pulseaudio"):
            daemon = f"{UNPACKED_PULSEAUDIO}/usr/bin/pulseaudio"
            libraries = glob.glob(f"{UNPACKED_PULSEAUDIO}/usr/lib/pulse-*/modules") + glob.glob(f"{UNPACKED_PULSEAUDIO}/usr/lib/*/pulseaudio")
            options = [f"--dl-search-path={libraries[0]}"] if libraries else []
            self.env["LD_LIBRARY_PATH"] = ":".join(libraries)  # libpulsecore and the modules' own libraries
        if daemon is None or shutil.which("pactl") is None:
            raise StreamdlError("pulseaudio or pactl missing: run install.sh (it unpacks pulseaudio), and apt install pulseaudio-utils")
        self._start(daemon, *options, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disallow-exit",
                    "-L", "module-native-protocol-unix", "-L", "module-null-sink sink_name=speakers")  # fmt: skip
        self._wait(timeout)


class PipeWireStack(_SoundServer):
    """A private PipeWire session (a D-Bus session bus, pipewire, wireplumber, pipewire-pulse) in its
    own runtime folder, for tests and checks of the virtual microphone; ``env`` reaches it.

    Needs Debian's pipewire, pipewire-bin, wireplumber, pipewire-pulse, pipewire-jack, pulseaudio-utils
    and dbus (and pipewire-alsa for PortAudio to reach it). :meth:`stop` ends every process it started.
    """

    def __init__(self, runtime_dir: str, timeout: float = 15.0):
        missing = [tool for tool in ("dbus-daemon", "pipewire", "wireplumber", "pipewire-pulse", "pactl") if shutil.which(tool) is None]
        if missing:
            raise StreamdlError(f"{', '.join(missing)} missing: apt install dbus pipewire pipewire-bin wireplumber pipewire-pulse pulseaudio-utils")
        super().__init__(runtime_dir)
        bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                             capture_output=True, text=True, env=self.env, timeout=timeout)  # fmt: skip
        address, pid = bus.stdout.split()[:2]
        self._bus_pid = int(pid)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        for program in ("pipewire", "wireplumber", "pipewire-pulse"):
            self._start(program)
            time.sleep(0.3)
        self._wait(timeout)

    def restart(self, program: str, timeout: float = 15.0) -> None:
        """Stop one of the session's programs and start it again (a sound-server restart)."""
        self.end(program)
        self._start(program)
        self._wait(timeout)

    def stop(self) -> None:
        super().stop()
        try:
            os.kill(self._bus_pid, 15)
        except ProcessLookupError:
            pass
