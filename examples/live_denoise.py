"""Denoise a microphone live and play it back: python examples/live_denoise.py [-d DEVICE] [-s SECONDS]"""

import argparse
import time

from streamdl import Chain, DeviceInput, DeviceOutput, LiveEngine, StreamdlError, StreamingDenoiser, list_devices

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("-l", "--list-devices", action="store_true", help="show the audio devices and exit")
parser.add_argument("-d", "--device", help="input and output device (index or name substring)")
parser.add_argument("-s", "--seconds", type=float, default=10.0)
args = parser.parse_args()
if args.list_devices:
    parser.exit(0, list_devices() + "\n")
try:
    with LiveEngine(Chain(stages=[StreamingDenoiser()]), DeviceInput(args.device), DeviceOutput(args.device)) as engine:
        while engine.elapsed < args.seconds:
            time.sleep(0.5)
            print(engine.status_line(), end="\r")
    print()
except StreamdlError as e:
    parser.exit(1, f"{type(e).__name__}: {e}\n")
