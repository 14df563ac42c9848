"""streamdl: real-time audio processing with deep learning, live and on files, hop by hop.

Everything runs at 16 kHz in 10 ms hops (160 samples) on mono float32 audio; files and devices at
other rates are resampled. The names below are what a user needs; they are imported on first
use, so ``import streamdl`` is cheap.

- Stages: :class:`StreamingDenoiser` (20 ms algorithmic latency), :class:`StreamingRestorer` (a missing
  high band rebuilt, no latency beyond the same frame), :class:`StreamingRepair` (a signal stage before the
  STFT: clipped samples and gaps repaired, 80 ms lookahead), :class:`StreamingTagger` (a tap:
  label probabilities every 20 ms, timed events), :class:`StreamingCodec` (a signal stage: the round
  trip of the speech codec, 25 ms algorithmic latency).
- Chains: :class:`Chain` (one hop in, one hop out), :class:`Streamer` (blocks of any size),
  :func:`process_signal`, :func:`process_array`; :class:`ChainOptions` and :func:`build_chain` build
  the chain the command line runs.
- Live audio: :class:`LiveEngine` between a :class:`DeviceInput` or :class:`FileInput` and a
  :class:`DeviceOutput`; :class:`LiveOptions`, :func:`open_engine` and :func:`run_live` as the CLI uses them.
- Files: :func:`read_audio`, :func:`write_audio`, :func:`process_files`; :func:`sample_path`, the bundled recording.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "StreamingDenoiser": "streamdl.stages.denoiser",
    "StreamingRestorer": "streamdl.stages.restorer",
    "StreamingRepair": "streamdl.stages.repair",
    "StreamingTagger": "streamdl.stages.tagger",
    "tag_signal": "streamdl.stages.tagger",
    "StreamingCodec": "streamdl.stages.codec",
    "Chain": "streamdl.engine.chain",
    "Streamer": "streamdl.engine.chain",
    "process_signal": "streamdl.engine.chain",
    "ChainOptions": "streamdl.engine.options",
    "LiveOptions": "streamdl.engine.options",
    "build_chain": "streamdl.engine.pipeline",
    "open_engine": "streamdl.engine.pipeline",
    "run_live": "streamdl.engine.pipeline",
    "LiveEngine": "streamdl.engine.live",
    "DeviceInput": "streamdl.engine.endpoints",
    "FileInput": "streamdl.engine.endpoints",
    "DeviceOutput": "streamdl.engine.endpoints",
    "list_devices": "streamdl.engine.devices",
    "process_array": "streamdl.engine.files",
    "process_files": "streamdl.engine.files",
    "read_mono": "streamdl.engine.files",
    "read_audio": "streamdl.io.audiofile",
    "write_audio": "streamdl.io.audiofile",
    "sample_path": "streamdl.assets",
    "StreamdlError": "streamdl.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'streamdl' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
