"""Denoise one file with the shipped model: python examples/denoise_file.py noisy.wav clean.wav"""

import argparse

from streamdl import ChainOptions, build_chain, process_array, read_audio, write_audio

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("input")
parser.add_argument("output")
parser.add_argument("--attenuation-limit", type=float, help="suppress by at most this many dB")
args = parser.parse_args()

audio, rate = read_audio(args.input)  # float32 (frames, channels), any rate
chain = build_chain(ChainOptions(attenuation_limit=args.attenuation_limit))
write_audio(args.output, process_array(chain, audio, rate), rate)  # same rate, length, channels
print(f"wrote {args.output}")
