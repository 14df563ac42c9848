"""End-to-end delay of the virtual microphone at several PipeWire quanta, measured in a private session.

A JACK client on PipeWire's libjack plays clicks into a microphone (a virtual source, PortAudio reads it
through ALSA "default"), and records, in the same process callback, that microphone and streamdl's
virtual microphone: the clicks' offset between the two recordings is streamdl's delay, as any app
recording both would see it. Needs the PipeWire packages of install.sh (pipewire-alsa included).

    python benchmarks/virtual_mic_delay.py [--quanta 256 512 1024] [--seconds 6] [--denoise] [--json]
    python benchmarks/virtual_mic_delay.py --quanta 512 --seconds 600   # ten minutes: does the delay creep?

Long runs go without the denoiser: within seconds it takes clicks that come every 370 ms for noise, and removes them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from streamdl.engine.virtual_mic import _load_pipewire_jack
from streamdl.testing import PipeWireStack


def _clicks(x: np.ndarray) -> np.ndarray:
    """Sample positions where a click starts (rising past half the peak after a quiet stretch)."""
    above = np.flatnonzero(np.abs(x) > 0.5 * np.abs(x).max())
    return above[np.concatenate([[True], np.diff(above) > 2000])] if len(above) else above


def measure(stack: PipeWireStack, quantum: int, seconds: float, denoise: bool) -> dict:
    subprocess.run(["pw-metadata", "-n", "settings", "0", "clock.force-quantum", str(quantum)], env=stack.env, capture_output=True)
    jack = _load_pipewire_jack()
    client = jack.Client("delay-probe", no_start_server=True)
    rate = client.samplerate
    play, rec_mic, rec_vm = client.outports.register("play"), client.inports.register("mic"), client.inports.register("vm")
    clicks = np.zeros(int(seconds * rate), np.float32)
    clicks[rate // 2 :: int(0.37 * rate)] = 0.9  # every 370 ms: no period the chain's hops line up with
    recorded = {"mic": np.zeros(len(clicks), np.float32), "vm": np.zeros(len(clicks), np.float32)}
    position = [0]

    @client.set_process_callback
    def process(frames):
        a = position[0]
        n = max(0, min(frames, len(clicks) - a))
        out = play.get_array()
        out[:] = 0
        out[:n] = clicks[a : a + n]
        recorded["mic"][a : a + n] = rec_mic.get_array()[:n]
        recorded["vm"][a : a + n] = rec_vm.get_array()[:n]
        position[0] = a + frames

    cmd = [sys.executable, "-m", "streamdl", "run", "--virtual-mic", "vm", "-i", "default", *([] if denoise else ["--no-denoise"])]
    proc = subprocess.Popen(cmd, env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while "vm" not in stack.sources():
            if proc.poll() is not None:
                raise SystemExit(proc.stderr.read())
            time.sleep(0.1)
        client.activate()
        client.connect(play, "mic:input_MONO")
        client.connect("mic:capture_MONO", rec_mic)
        client.connect("vm:capture_MONO", rec_vm)
        time.sleep(0.5)
        position[0] = 0
        time.sleep(seconds + 0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        client.deactivate()
        client.close()
    sent, heard = _clicks(recorded["mic"]), _clicks(recorded["vm"])
    pairs = [(h, int(h - sent[np.searchsorted(sent, h, side="right") - 1])) for h in heard if h >= sent[0]]  # not those sent before the count began
    delays = [d for _, d in pairs]
    by_minute = {}
    for h, d in pairs:
        by_minute.setdefault(h // (60 * rate), []).append(d)
    ms = lambda d: round(1000 * float(np.median(d)) / rate, 2)  # noqa: E731
    return {"quantum": quantum, "rate": rate, "clicks_sent": len(sent), "clicks": len(pairs), "delay_ms": ms(delays),
            "per_minute_ms": [ms(d) for _, d in sorted(by_minute.items())],
            "spread_samples": int(np.percentile(delays, 99) - np.percentile(delays, 1)) if delays else None}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quanta", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--denoise", action="store_true", help="with the denoiser in the chain (default: pass-through)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runtime:
        stack = PipeWireStack(runtime)
        os.environ.update(stack.env)  # this process's JACK client joins the private session too
        try:
            stack.pactl("load-module", "module-null-sink", "media.class=Audio/Source/Virtual", "sink_name=mic", "channel_map=mono",
                        "sink_properties=node.nick=mic")  # its ports go by this name in the JACK view
            stack.pactl("set-default-source", "mic")
            rows = [measure(stack, quantum, args.seconds, args.denoise) for quantum in args.quanta]
        finally:
            stack.stop()
    if args.json:
        print(json.dumps(rows))
        return
    for row in rows:
        print(f"quantum {row['quantum']:5d} at {row['rate']} Hz: {row['delay_ms']:.1f} ms from microphone to virtual microphone "
              f"({row['clicks']} of {row['clicks_sent']} clicks heard, 1-99 % spread {row['spread_samples']} samples; median per "
              f"minute {', '.join(f'{m:.1f}' for m in row['per_minute_ms'])} ms)")


if __name__ == "__main__":
    main()
