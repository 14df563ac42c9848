"""Soak: minutes of paced real time through the live engine on a JACK dummy server.

    python benchmarks/soak.py [--minutes 10] [--no-denoise] [--json]

A probe client plays the bundled sample in a loop into the engine's input port and records its
output port on the server's clock. Reports the end-to-end delay per minute (it must not creep),
the engine's lost samples and xruns (split into the device's and the engine's own), and the
processing time per hop.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def _delay(played: np.ndarray, recorded: np.ndarray, max_lag: int) -> int:
    n = 1 << int(np.ceil(np.log2(len(played) + len(recorded))))
    corr = np.fft.irfft(np.fft.rfft(recorded, n) * np.conj(np.fft.rfft(played, n)), n)
    return int(np.argmax(corr[:max_lag]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--no-denoise", action="store_true", help="pass-through chain")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from streamdl.testing import JackProbe, start_jack_dummy, stop_jack

    name = f"streamdl-soak-{os.getpid()}"
    server = start_jack_dummy(name)
    os.environ["JACK_DEFAULT_SERVER"] = name  # before PortAudio initialises
    import sounddevice as sd

    from streamdl import ChainOptions, DeviceInput, DeviceOutput, LiveEngine, build_chain, read_audio, sample_path

    sample, rate = read_audio(sample_path())
    seconds = args.minutes * 60
    played = np.resize(sample[:, 0], int(seconds * rate))
    try:
        engine = LiveEngine(build_chain(ChainOptions(denoise=not args.no_denoise)), DeviceInput(channel=0), DeviceOutput())
        probe = JackProbe(name, played, record_seconds=1.0)
        with engine, probe:
            probe.connect_to_other_client()
            start_stats = engine.stats()
            probe.play(timeout=seconds + 120)
            stats = engine.stats()
        sd._terminate()  # PortAudio must let go of the server before it stops
    finally:
        stop_jack(server)

    segment = min(60 * rate, len(played))  # one delay estimate per minute
    delays_ms = []
    for start in range(0, len(played) - segment + 1, segment):
        recorded = probe.recorded[start : start + segment + rate]
        delays_ms.append(round(1000 * _delay(played[start : start + segment], recorded, rate) / rate, 3))
    report = {
        "minutes": args.minutes,
        "chain": "pass-through" if args.no_denoise else "denoiser",
        "delay_ms_per_minute": delays_ms,  # by cross-correlation, one value per minute
        "delay_creep_ms": round(max(delays_ms) - min(delays_ms), 3),
        "expected_delay_ms": stats["latency_ms"]["expected_delay"],
        "dropped_samples": stats["dropped_samples"],
        "xruns_during_soak": {k: stats["xruns"][k] - start_stats["xruns"][k] for k in stats["xruns"]},
        "processing_ms": {"median": stats["latency_ms"]["processing_median"], "p99": stats["latency_ms"]["processing_p99"]},
        "realtime_worker": stats["realtime_worker"],
        "callbacks": stats["callbacks"],
    }
    print(json.dumps(report) if args.json else json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
