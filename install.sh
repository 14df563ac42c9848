#!/usr/bin/env bash
# Set up streamdl on Debian or Ubuntu: audio system libraries, JACK (for the device tests), PipeWire (the
# virtual microphone; its tests start a private session), a PulseAudio server unpacked for its tests on PulseAudio,
# a virtual environment in .venv with CPU PyTorch, and streamdl with its test, ONNX, training and demo extras;
# then the Numba kernels are compiled once.
# Override the PyTorch requirement with TORCH_SPEC (default torch==2.13.0).
set -euo pipefail
cd "$(dirname "$0")"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if command -v apt-get >/dev/null; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libportaudio2 libsndfile1 jackd2 gcc python3-dev espeak-ng \
    pipewire pipewire-bin wireplumber pipewire-pulse pipewire-jack pipewire-alsa pulseaudio-utils dbus libasound2-plugins \
    libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0 >/dev/null  # the last line: Qt for the demo
  # a plain PulseAudio server for the virtual microphone's tests, unpacked: the package conflicts with pipewire-alsa
  if [ ! -x /opt/streamdl-pulseaudio/usr/bin/pulseaudio ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      $(apt-cache depends pulseaudio | awk '/Depends: lib/ {print $2}') >/dev/null
    (cd "$(mktemp -d)" && apt-get download -qq pulseaudio && $sudo dpkg -x pulseaudio_*.deb /opt/streamdl-pulseaudio)
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/python -m pip install -q -e ".[dev,onnx,train,demo]"
.venv/bin/streamdl warmup  # compile the Numba kernels once, so the first real run starts at once
echo "streamdl installed in .venv: try .venv/bin/streamdl --help"
