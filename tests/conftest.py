"""Shared fixtures: a real JACK dummy server, and a JACK client that plays into and records from ports."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

os.environ.setdefault("JACK_NO_START_SERVER", "1")  # PortAudio must never spawn a server of its own
os.environ.setdefault("JACK_NO_AUDIO_RESERVATION", "1")

JACK_RATE = 16000
JACK_PERIOD = 160  # 10 ms


def _unavailable(reason: str):
    """In CI the device tests must run: fail there, skip on a developer machine without JACK."""
    if os.environ.get("CI"):
        pytest.fail(f"JACK tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def jack_server():
    """Name of a running JACK dummy server (16 kHz, 160-frame periods, 2 in / 2 out)."""
    jackd = shutil.which("jackd")
    if jackd is None:
        _unavailable("jackd is not installed (apt-get install jackd2)")
    try:
        import jack
    except (ImportError, OSError) as e:
        _unavailable(f"JACK-Client cannot load libjack ({e})")
    name = f"streamdl-test-{os.getpid()}"
    proc = subprocess.Popen(
        [jackd, "-n", name, "-R", "-P", "70", "-d", "dummy", "-r", str(JACK_RATE), "-p", str(JACK_PERIOD), "-C", "2", "-P", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            jack.Client("probe-ready", servername=name, no_start_server=True).close()
            break
        except jack.JackError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _unavailable(f"jackd did not start: {proc.stdout.read().decode(errors='replace')[-500:]}")
            time.sleep(0.1)
    yield name
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def jack_env(jack_server):
    """Environment for a subprocess whose PortAudio should talk to the test server."""
    return {**os.environ, "JACK_DEFAULT_SERVER": jack_server}


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
        self.recorded = np.zeros(int(record_seconds * JACK_RATE) + len(signal), np.float32)
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

    def other_ports(self, timeout: float = 30.0) -> tuple[list[str], list[str]]:
        """(inputs, outputs) of the first client that is neither this probe nor the system, once it has both."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = [p.name for p in self.client.get_ports(is_audio=True)]
            clients = {n.split(":")[0] for n in names} - {"system", self.client.name}
            if clients:
                client = sorted(clients)[0]
                ins = sorted(p.name for p in self.client.get_ports(f"{client}:.*", is_input=True, is_audio=True))
                outs = sorted(p.name for p in self.client.get_ports(f"{client}:.*", is_output=True, is_audio=True))
                if ins and outs:
                    return ins, outs
            time.sleep(0.05)
        raise AssertionError("no streamdl JACK ports appeared")

    def __enter__(self) -> JackProbe:
        gc.collect()
        gc.disable()  # a collection inside the process callback would be an xrun of the probe's own making
        self.client.activate()
        return self

    def __exit__(self, *exc) -> None:
        self.client.deactivate()
        self.client.close()
        gc.enable()


@pytest.fixture
def jack_probe(jack_server):
    probes = []

    def make(signal: np.ndarray, record_seconds: float) -> JackProbe:
        probe = JackProbe(jack_server, signal, record_seconds)
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        probe.client.close()


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """A corpus built from user folders of synthetic 'speech' (voiced, pitched bursts) and noise."""
    import soundfile as sf

    from streamdl.data.corpus import build_corpus
    from streamdl.data.sources import Source

    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    for i in range(120):
        t = np.arange(int(22050 * rng.uniform(0.4, 0.8))) / 22050
        f0 = rng.uniform(90, 250)
        voiced = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12)) * np.hanning(len(t))
        (root / "speech").mkdir(exist_ok=True)
        sf.write(root / "speech" / f"utt{i:02d}.wav", 0.3 * voiced, 22050)
        (root / "noise").mkdir(exist_ok=True)
        sf.write(root / "noise" / f"noise{i:02d}.flac", 0.1 * rng.standard_normal(8000), 16000)
    sources = tuple(Source(f"user-{role}", role, (str(root / role),), ("*.wav", "*.flac")) for role in ("speech", "noise"))
    summary = build_corpus(root, root / "corpus", sources=sources, workers=1)
    return root / "corpus", summary
