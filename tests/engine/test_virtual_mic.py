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


def _aligned_si_sdr(recorded: np.ndarray, reference: np.ndarray) -> float:
    """SI-SDR of the recording against the reference, at the lag where they match best."""
    n = 1 << int(np.ceil(np.log2(len(recorded) + len(reference))))
    corr = np.fft.irfft(np.fft.rfft(recorded, n) * np.conj(np.fft.rfft(reference, n)), n)
    lag = int(np.argmax(corr[: len(recorded) - RATE]))
    part = recorded[lag : lag + len(reference)]
    return si_sdr_db(part, reference[: len(part)])


def test_a_recorder_hears_the_denoised_voice(pipewire, tmp_path):
    clean, _ = sf.read(asset_path("sample_clean.flac"), dtype="float32")
    noisy, _ = sf.read(asset_path("sample_noisy.flac"), dtype="float32")
    proc = _start(pipewire, "--virtual-mic", "vm_voice", "--input-file", str(asset_path("sample_noisy.flac")), denoise=True)
    _wait_for_node(pipewire, "vm_voice", proc)
    recorders = [_record(pipewire, "vm_voice", 8, tmp_path / f"rec{i}.wav") for i in range(2)]  # two at once
    time.sleep(8)
    for recorder in recorders:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)
    code, err = _stop(proc)
    assert code == 130, err
    for i in range(2):
        recorded, _ = sf.read(tmp_path / f"rec{i}.wav", dtype="float32")
        assert len(recorded) > 6 * RATE
        # the 12 s file played from its start: the recording holds a stretch of it, denoised
        out_sdr = max(_aligned_si_sdr(recorded, clean[s : s + 4 * RATE]) for s in range(0, 8 * RATE, 2 * RATE))
        in_sdr = max(_aligned_si_sdr(noisy, clean[s : s + 4 * RATE]) for s in range(0, 8 * RATE, 2 * RATE))
        assert out_sdr >= in_sdr + 3.0, (out_sdr, in_sdr)
    assert "vm_voice" not in pipewire.sources()


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
    assert result.returncode == 2 and "no PipeWire server reachable" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
