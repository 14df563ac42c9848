"""The virtual microphone's systemd user service: written with the run options given, checked first, removed again."""

import subprocess
import sys


def _streamdl(home, *args):
    return subprocess.run([sys.executable, "-m", "streamdl", "virtual-mic", *args], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home)}, timeout=120)  # fmt: skip


def test_install_status_uninstall(tmp_path):
    unit = tmp_path / ".config" / "systemd" / "user" / "streamdl-virtual-mic.service"
    assert "not installed" in _streamdl(tmp_path, "status").stdout
    result = _streamdl(tmp_path, "install", "-i", "2", "--attenuation-limit", "12")
    assert result.returncode == 0 and "wrote" in result.stdout, result.stderr
    text = unit.read_text()
    assert "-m streamdl run --virtual-mic -i 2 --attenuation-limit 12" in text and "Restart=on-failure" in text
    assert "installed" in _streamdl(tmp_path, "status").stdout
    assert "removed" in _streamdl(tmp_path, "uninstall").stdout and not unit.exists()


def test_bad_run_options_are_refused_before_anything_is_written(tmp_path):
    result = _streamdl(tmp_path, "install", "--mix", "3")
    assert result.returncode == 2 and "mix (--mix)" in result.stderr
    assert not (tmp_path / ".config").exists()
