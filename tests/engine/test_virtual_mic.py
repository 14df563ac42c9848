"""The virtual microphone through a real, private PipeWire session: other programs record the denoised voice."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from streamdl.assets import asset_path
from streamdl.evaluation.speech import si_sdr_db

RATE = 16000


def _start(pipewire, *args: str, denoise: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamdl", "run", *args, *([] if denoise else ["--no-denoise"])]
    return subprocess.Popen(cmd, env=pipewire.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_node(pipewire, name: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while name not in pipewire.sources():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no node {name}: {proc.communicate()[1][-2000:]}")
        time.sleep(0.1)
    time.sleep(0.3)  # linked and flowing


def _record(pipewire, name: str, seconds: float, path) -> subprocess.Popen:
    return subprocess.Popen(["parecord", "--latency-msec=20", "-d", name, f"--rate={RATE}", "--channels=1", "--format=float32le",
                             "--file-format=wav", str(path)], env=pipewire.env)  # fmt: skip


def _stop(proc: subprocess.Popen, sig=signal.SIGINT) -> tuple[int, str]:
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def _lag(recorded: np.ndarray, reference: np.ndarray) -> int:
    """Where ``reference`` starts in ``recorded`` (negative: the recording starts inside it), by cross-correlation."""
    n = 1 << int(np.ceil(np.log2(len(recorded) + len(reference))))
    corr = np.fft.irfft(np.fft.rfft(recorded, n) * np.conj(np.fft.rfft(reference, n)), n)
    lag = int(np.argmax(np.abs(corr)))
    return lag if lag < n // 2 else lag - n


def test_a_recorder_hears_the_denoised_voice(pipewire, tmp_path):
    recorders_hear_the_denoised_voice(pipewire, tmp_path)


def recorders_hear_the_denoised_voice(server, tmp_path):
    clean, _ = sf.read(asset_path("sample_clean.flac"), dtype="float32")  # held-out speech, 12 s
    noise = np.random.default_rng(0).standard_normal(len(clean)).astype(np.float32)
    noisy = clean + noise * np.sqrt(np.mean(clean**2) / np.mean(noise**2))  # 0 dB
    sf.write(tmp_path / "noisy.wav", noisy, RATE, subtype="FLOAT")
    proc = _start(server, "--virtual-mic", "vm_voice", "--input-file", str(tmp_path / "noisy.wav"), denoise=True)
    _wait_for_node(server, "vm_voice", proc)
    recorders = [_record(server, "vm_voice", 8, tmp_path / f"rec{i}.wav") for i in range(2)]  # two at once
    time.sleep(8)
    for recorder in recorders:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)
    code, err = _stop(proc)
    assert code == 130, err
    for i in range(2):
        recorded, _ = sf.read(tmp_path / f"rec{i}.wav", dtype="float32")
        assert len(recorded) > 6 * RATE
        lag = _lag(recorded, noisy)  # the 12 s file played from its start; the recording holds a stretch of it
        start, stop = max(0, -lag) + RATE // 2, min(len(noisy), len(recorded) - lag) - RATE // 2
        out = recorded[start + lag : stop + lag]
        out_sdr, in_sdr = si_sdr_db(out, clean[start:stop]), si_sdr_db(noisy[start:stop], clean[start:stop])
        assert stop - start > 5 * RATE and out_sdr >= in_sdr + 3.0, (out_sdr, in_sdr)
    assert "vm_voice" not in server.sources()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_no_node_is_left_behind(pipewire, sig, code):
    proc = _start(pipewire, "--virtual-mic", "vm_gone", "--input-file", str(asset_path("sample_noisy.flac")), "--loop")
    _wait_for_node(pipewire, "vm_gone", proc)
    assert _stop(proc, sig)[0] == code
    assert "vm_gone" not in pipewire.sources()


def test_a_node_left_by_a_killed_run_is_replaced(pipewire):
    args = ("--virtual-mic", "vm_again", "--input-file", str(asset_path("sample_noisy.flac")), "--loop")
    first = _start(pipewire, *args)
    _wait_for_node(pipewire, "vm_again", first)
    first.kill()  # no chance to clean up
    first.wait()
    assert "vm_again" in pipewire.sources()
    second = _start(pipewire, *args)
    time.sleep(3)
    assert second.poll() is None, second.communicate()[1]
    assert pipewire.sources().count("vm_again") == 1
    assert _stop(second)[0] == 130 and "vm_again" not in pipewire.sources()


def test_a_name_another_program_took_is_a_one_line_error(pipewire):
    index = pipewire.pactl("load-module", "module-null-sink", "sink_name=vm_taken").strip()
    try:
        result = subprocess.run([sys.executable, "-m", "streamdl", "run", "--virtual-mic", "vm_taken", "--input-file",
                                 str(asset_path("sample_noisy.flac"))], env=pipewire.env, capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        pipewire.pactl("unload-module", index)
    assert result.returncode == 2 and "another program" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_no_sound_server_is_a_one_line_error(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "streamdl", "run", "--virtual-mic", "--input-file", str(asset_path("sample_noisy.flac"))],
                            env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and "no PipeWire or PulseAudio server reachable" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_48_khz_stream_keeps_its_highs(pipewire, tmp_path):
    """The graph runs at 48 kHz: what the 16 kHz chain cannot carry (here a 12 kHz tone) is the input's own, kept."""
    t = np.arange(8 * 48000) / 48000
    tones = (0.2 * np.sin(2 * np.pi * 1000 * t) + 0.2 * np.sin(2 * np.pi * 12000 * t)).astype(np.float32)
    sf.write(tmp_path / "tones.wav", tones, 48000, subtype="FLOAT")
    proc = _start(pipewire, "--virtual-mic", "vm_wide", "--input-file", str(tmp_path / "tones.wav"))
    _wait_for_node(pipewire, "vm_wide", proc)
    recorder = subprocess.Popen(["parecord", "--latency-msec=20", "-d", "vm_wide", "--rate=48000", "--channels=1", "--format=float32le",
                                 "--file-format=wav", str(tmp_path / "rec.wav")], env=pipewire.env)  # fmt: skip
    time.sleep(4)
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=10)
    _stop(proc)
    recorded, rate = sf.read(tmp_path / "rec.wav", dtype="float32")
    assert rate == 48000
    spectrum = np.abs(np.fft.rfft(recorded[4800:52800] * np.hanning(48000)))  # 1 s, 1 Hz bins
    low, high = spectrum[995:1006].max(), spectrum[11995:12006].max()
    assert low > 0 and 0.8 < high / low < 1.25  # both tones at their level: the highs came through


def test_the_demo_switches_its_output_to_the_virtual_microphone(pipewire):
    code = """
import subprocess, time
from streamdl.demo import VIRTUAL_MIC, DemoSession
from streamdl.engine.options import LiveOptions
session = DemoSession(LiveOptions(loop=True, play=False))
session.start()
session.restart(input_device=None, output_device=VIRTUAL_MIC)
time.sleep(1)
print("running", session.engine.error, subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True).stdout)
session.stop()
"""
    result = subprocess.run([sys.executable, "-c", code], env=pipewire.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "running None" in result.stdout and "streamdl_mic" in result.stdout, result.stderr
    assert "streamdl_mic" not in pipewire.sources()  # gone with the session


def test_a_sound_server_restart(own_pipewire, tmp_path):
    """The PulseAudio side restarting: the node comes back, linked, and carries sound. PipeWire itself going
    away: the run ends with a one-line error and exit code 2 (a service then starts it again)."""
    stack = own_pipewire
    try:
        proc = _start(stack, "--virtual-mic", "vm_back", "--input-file", str(asset_path("sample_noisy.flac")), "--loop")
        _wait_for_node(stack, "vm_back", proc)
        stack.restart("pipewire-pulse")
        deadline = time.monotonic() + 10
        while "vm_back" not in stack.sources() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # linked again
        recorder = _record(stack, "vm_back", 1, tmp_path / "back.wav")
        time.sleep(1.5)
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)
        recorded, _ = sf.read(tmp_path / "back.wav", dtype="float32")
        assert len(recorded) > RATE // 2 and np.sqrt(np.mean(recorded**2)) > 0.01  # the sample, not silence
        stack.end("pipewire")
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 2 and err.strip().splitlines()[-1].startswith("streamdl: error: PipeWire stopped"), err
    finally:
        proc.kill()


def _rms(pipewire, name: str, path, seconds: float = 1.5) -> float:
    recorder = _record(pipewire, name, seconds, path)
    time.sleep(seconds)
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=10)
    recorded, _ = sf.read(path, dtype="float32")
    return float(np.sqrt(np.mean(recorded[len(recorded) // 4 :] ** 2))) if len(recorded) else 0.0


def test_a_microphone_that_goes_away_leaves_silence_and_is_picked_up_when_it_returns(own_pipewire, tmp_path):
    """The microphone is a PipeWire source read through PortAudio's ALSA device "default" (pipewire-alsa)."""
    stack = own_pipewire
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(120 * 48000) / 48000)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, 48000, subtype="FLOAT")
    # linked only by hand, into the microphone: unplugged, the tone reaches no source (the new default stays silent)
    player = subprocess.Popen(["pw-play", "-P", "{ node.autoconnect = false }", str(tmp_path / "tone.wav")], env=stack.env)
    def plug_in() -> str:
        index = stack.pactl("load-module", "module-null-sink", "media.class=Audio/Source/Virtual", "sink_name=mic", "channel_map=mono").strip()
        stack.pactl("set-default-source", "mic")
        time.sleep(0.5)
        subprocess.run(["pw-link", "pw-play:output_MONO", "mic:input_MONO"], env=stack.env, capture_output=True)
        return index

    proc = None
    try:
        index = plug_in()
        proc = _start(stack, "--virtual-mic", "vm_stay", "-i", "default")
        _wait_for_node(stack, "vm_stay", proc)
        time.sleep(1.0)
        assert _rms(stack, "vm_stay", tmp_path / "before.wav") > 0.1  # the tone, through the microphone
        stack.pactl("unload-module", index)  # unplugged
        time.sleep(3.0)
        assert proc.poll() is None and "vm_stay" in stack.sources()
        assert _rms(stack, "vm_stay", tmp_path / "gone.wav") < 0.01  # up, and silent
        plug_in()
        time.sleep(6.0)
        assert _rms(stack, "vm_stay", tmp_path / "back.wav") > 0.1
        code, err = _stop(proc)
        assert code == 130 and "the microphone went away" in err and "the microphone is back" in err, err
        assert "vm_stay" not in stack.sources()
    finally:
        if proc is not None:
            proc.kill()
        player.kill()
