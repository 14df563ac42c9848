"""The virtual microphone as a systemd user service: up at login, started again if it stops.

``install`` writes ``~/.config/systemd/user/streamdl-virtual-mic.service`` running ``streamdl run
--virtual-mic`` with the options given, after the user's PipeWire, and enables and starts it;
``uninstall`` stops, disables and removes it; ``status`` says whether it is installed and running.
Restart=on-failure brings it back after a sound-server restart (which ends a run with an error).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

UNIT = "streamdl-virtual-mic.service"


def unit_path() -> Path:
    return Path.home() / ".config" / "systemd" / "user" / UNIT


def unit_text(run_args: list[str]) -> str:
    """The unit that runs ``streamdl run`` with ``run_args`` (which name the virtual microphone)."""
    command = shlex.join([sys.executable, "-m", "streamdl", "run", *run_args])
    return f"""[Unit]
Description=streamdl denoised microphone
After=pipewire.service pipewire-pulse.service wireplumber.service
Wants=pipewire.service pipewire-pulse.service

[Service]
ExecStart={command}
Restart=on-failure
RestartSec=2

[Install]
WantedBy=default.target
"""


def _systemctl(*args: str) -> subprocess.CompletedProcess | None:
    """``systemctl --user ARGS``, or None where there is no user systemd to ask."""
    if shutil.which("systemctl") is None:
        return None
    result = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=30)
    return None if "Failed to connect to bus" in result.stderr else result


def install(run_args: list[str]) -> str:
    """Write and enable the unit; a line that says what happened."""
    path = unit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unit_text(run_args))
    if _systemctl("daemon-reload") is None:
        return f"wrote {path}; no user systemd here: start it with 'systemctl --user enable --now {UNIT}' in your session"
    result = _systemctl("enable", "--now", UNIT)
    if result.returncode != 0:
        return f"wrote {path}; systemctl could not start it ({result.stderr.strip().splitlines()[-1:]}); see 'journalctl --user -u {UNIT}'"
    return f"wrote {path}; the virtual microphone starts now and at every login"


def uninstall() -> str:
    path = unit_path()
    if _systemctl("disable", "--now", UNIT) is not None:
        _systemctl("daemon-reload")
    if not path.exists():
        return "no streamdl virtual-microphone service is installed"
    path.unlink()
    return f"removed {path}"


def status() -> str:
    path = unit_path()
    if not path.exists():
        return "not installed ('streamdl virtual-mic install' sets it up)"
    result = _systemctl("is-active", UNIT)
    state = "unknown (no user systemd here)" if result is None else result.stdout.strip() or "inactive"
    return f"installed ({path}): {state}"
