"""The virtual microphone on a real, private, plain PulseAudio server: a null sink and a source remapped from its
monitor, which other programs record."""

import subprocess
import time

import numpy as np
import pytest
import soundfile as sf

from streamdl.assets import asset_path
from tests.engine.test_virtual_mic import _rms, _start, _stop, _wait_for_node, recorders_hear_the_denoised_voice


def test_a_recorder_hears_the_denoised_voice_on_plain_pulseaudio(pulseaudio, tmp_path):
    """A null sink and a source remapped from its monitor: the source is what apps list, and both go at the end."""
    recorders_hear_the_denoised_voice(pulseaudio, tmp_path)
    assert "vm_voice_feed" not in pulseaudio.pactl("list", "short", "sinks")


def test_plain_pulseaudio_going_away_ends_the_run_with_a_one_line_error(pulseaudio):
    proc = _start(pulseaudio, "--virtual-mic", "vm_gone", "--input-file", str(asset_path("sample_noisy.flac")), "--loop")
    _wait_for_node(pulseaudio, "vm_gone", proc)
    deadline = time.monotonic() + 30
    while not _playing(pulseaudio, "vm_gone_feed"):
        assert time.monotonic() < deadline, "streamdl never played into its null sink"
        time.sleep(0.1)
    pulseaudio.stop()  # while streamdl plays into it
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("streamdl kept running without its sound server")
    last = err.strip().splitlines()[-1]  # before it: the status line, and PortAudio's own report of the lost stream
    assert proc.returncode == 2 and last.startswith("streamdl: error: the PulseAudio server went away"), err
    assert "Traceback" not in err


def test_a_capture_moved_onto_our_own_source_goes_back_to_the_microphone(pulseaudio, tmp_path):
    """What the server does when the microphone goes and ours is the source left; here the microphone stays, so
    the capture must go back to it (no loop of our own output), and the tone comes through again."""
    pulseaudio.pactl("load-module", "module-null-sink", "sink_name=micsink", "channels=1")
    pulseaudio.pactl("load-module", "module-remap-source", "source_name=mic", "master=micsink.monitor", "channels=1")
    pulseaudio.pactl("set-default-source", "mic")
    t = np.arange(60 * 44100) / 44100
    sf.write(tmp_path / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100, subtype="FLOAT")
    player = subprocess.Popen(["paplay", "-d", "micsink", str(tmp_path / "tone.wav")], env=pulseaudio.env)
    proc = _start(pulseaudio, "--virtual-mic", "vm_loop", "-i", "pulse")
    try:
        _wait_for_node(pulseaudio, "vm_loop", proc)
        time.sleep(1.0)
        assert _rms(pulseaudio, "vm_loop", tmp_path / "before.wav") > 0.1
        captures = _captures(pulseaudio, proc.pid)
        assert [source for _, source in captures] == ["mic"]
        pulseaudio.pactl("move-source-output", captures[0][0], "vm_loop")
        time.sleep(2.0)
        assert [source for _, source in _captures(pulseaudio, proc.pid)] == ["mic"]
        assert _rms(pulseaudio, "vm_loop", tmp_path / "after.wav") > 0.1
        assert _stop(proc)[0] == 130
    finally:
        proc.kill()
        player.kill()


def _captures(server, pid: int) -> list[tuple[str, str]]:
    """(index, source name) of each capture stream of process ``pid``."""
    sources = {row.split("\t")[0]: row.split("\t")[1] for row in server.pactl("list", "short", "sources").splitlines()}
    blocks = server.pactl("list", "source-outputs").split("Source Output #")[1:]
    return [(b.split()[0], sources[b.split("Source: ")[1].split()[0]]) for b in blocks if f'application.process.id = "{pid}"' in b]


def _playing(server, sink: str) -> bool:
    """Whether a stream plays into ``sink``."""
    rows = [row.split("\t") for row in server.pactl("list", "short", "sinks").splitlines()]
    return any(len(row) > 4 and row[1] == sink and row[4] == "RUNNING" for row in rows)
