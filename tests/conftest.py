"""Shared fixtures: a real JACK dummy server, a JACK client that plays into and records from ports, a private
PipeWire session, espeak-ng."""

from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pytest

from streamdl.errors import StreamdlError

os.environ.setdefault("JACK_NO_START_SERVER", "1")  # PortAudio must never spawn a server of its own
os.environ.setdefault("JACK_NO_AUDIO_RESERVATION", "1")
# Tests press Ctrl-C (SIGINT) on streamdl processes. A shell that starts pytest in the background
# ignores SIGINT, and children inherit an ignored signal: they would never see it. A handled one is
# reset to the default in each child.
signal.signal(signal.SIGINT, signal.default_int_handler)

JACK_RATE = 16000
JACK_PERIOD = 160  # 10 ms


def _unavailable(reason: str):
    """In CI the tests of real system parts (JACK, espeak-ng) must run: fail there, skip on a developer
    machine without them."""
    if os.environ.get("CI"):
        pytest.fail(f"tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def espeak():
    """The espeak-ng synthesiser (``streamdl data tts``), installed by install.sh."""
    if shutil.which("espeak-ng") is None:
        _unavailable("espeak-ng is not installed (apt-get install espeak-ng)")


@pytest.fixture(scope="session")
def jack_server():
    """Name of a running JACK dummy server (16 kHz, 160-frame periods, 2 in / 2 out)."""
    try:
        from streamdl.testing import start_jack_dummy, stop_jack

        name = f"streamdl-test-{os.getpid()}"
        proc = start_jack_dummy(name, JACK_RATE, JACK_PERIOD)
    except (ImportError, OSError, StreamdlError) as e:
        _unavailable(f"no JACK server: {e}")
    yield name
    stop_jack(proc)


@pytest.fixture
def jack_env(jack_server):
    """Environment for a subprocess whose PortAudio should talk to the test server."""
    return {**os.environ, "JACK_DEFAULT_SERVER": jack_server}


@pytest.fixture
def jack_probe(jack_server):
    probes = []

    from streamdl.testing import JackProbe

    def make(signal: np.ndarray, record_seconds: float) -> JackProbe:
        probe = JackProbe(jack_server, signal, record_seconds)
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        probe.client.close()


def _pipewire_stack(runtime_dir):
    try:
        from streamdl.testing import PipeWireStack

        return PipeWireStack(str(runtime_dir))
    except (OSError, StreamdlError) as e:
        _unavailable(f"no PipeWire session: {e}")


@pytest.fixture(scope="module")
def pipewire(tmp_path_factory):
    """A private PipeWire session (its own D-Bus bus and runtime folder), shared by a module; ``.env`` reaches it."""
    stack = _pipewire_stack(tmp_path_factory.mktemp("pipewire-runtime"))
    yield stack
    stack.stop()


@pytest.fixture
def own_pipewire(tmp_path):
    """A private PipeWire session for one test, which may restart or break it."""
    stack = _pipewire_stack(tmp_path / "pipewire-runtime")
    yield stack
    stack.stop()


@pytest.fixture
def pulseaudio(tmp_path):
    """A private plain PulseAudio server for one test; ``.env`` reaches it."""
    from streamdl.testing import PulseAudioStack

    try:
        stack = PulseAudioStack(str(tmp_path / "pulse-runtime"))
    except (OSError, StreamdlError) as e:
        _unavailable(f"no PulseAudio server: {e}")
    yield stack
    stack.stop()


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
