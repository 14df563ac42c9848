"""Finding audio devices by index or name, and choosing a rate each device accepts."""

from __future__ import annotations

import os

from streamdl.errors import StreamdlError


def load_sounddevice():
    """The sounddevice module; a one-line error when PortAudio itself is missing.

    PortAudio's JACK backend would otherwise start a JACK server of its own when none runs;
    streamdl never starts audio servers behind the user's back: start JACK yourself to use it.
    """
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        import sounddevice
    except OSError as e:  # libportaudio2 missing
        raise StreamdlError(f"PortAudio is not available ({e}); install libportaudio2 (./install.sh does)") from None
    return sounddevice


def list_devices() -> str:
    """A table of devices, one per line, marking the defaults (sounddevice's format)."""
    sd = load_sounddevice()
    return str(sd.query_devices()) or "no audio devices found"


def device_index(spec: str | int | None, kind: str) -> int:
    """Device index for ``spec`` (an index, a name substring, or None for the default).

    ``kind`` is "input" or "output". Raises StreamdlError naming the choices when nothing or
    several devices match.
    """
    sd = load_sounddevice()
    devices = sd.query_devices()
    channels_key = f"max_{kind}_channels"
    if spec is None:
        index = sd.default.device[0 if kind == "input" else 1]
        if index is None or index < 0:
            raise StreamdlError(f"no default {kind} device; pick one with {'-i' if kind == 'input' else '-o'} (see 'streamdl devices')")
        return int(index)
    if isinstance(spec, int) or str(spec).isdigit():
        index = int(spec)
        if not 0 <= index < len(devices) or devices[index][channels_key] < 1:
            raise StreamdlError(f"no {kind} device with index {index}; see 'streamdl devices'")
        return index
    matches = [i for i, d in enumerate(devices) if str(spec).lower() in d["name"].lower() and d[channels_key] > 0]
    if not matches:
        raise StreamdlError(f"no {kind} device matches {spec!r}; see 'streamdl devices'")
    if len(matches) > 1:
        names = ", ".join(f"{i}: {devices[i]['name']}" for i in matches)
        raise StreamdlError(f"{spec!r} matches several {kind} devices ({names}); give the index")
    return matches[0]


def device_rate(index: int, kind: str, preferred: int) -> int:
    """``preferred`` when the device accepts it, else the device's default rate."""
    sd = load_sounddevice()
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        check(device=index, samplerate=preferred, channels=1, dtype="float32")
        return preferred
    except Exception:  # PortAudio says no: fall back to the device's own rate, resampled
        return int(sd.query_devices(index)["default_samplerate"])
