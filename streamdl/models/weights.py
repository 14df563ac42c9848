"""Weights files: a model's config and its arrays in one ``.npz``, read without PyTorch and without
running any code (``numpy.load(allow_pickle=False)`` accepts only plain arrays).

Entries: ``__format__`` ("streamdl-weights-1"), ``__kind__`` ("denoiser", "restorer", "tagger", "codec"),
``__config__`` (the config as JSON), then one float32 array per entry of the PyTorch model's state
dict, under the same name. ``streamdl export`` writes one from a training checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import numpy as np

from streamdl.errors import StreamdlError
from streamdl.models.configs import CONFIGS

FORMAT = "streamdl-weights-1"
_META = ("__format__", "__kind__", "__config__")


def is_weights_file(path: str | Path) -> bool:
    """Whether ``path`` names a weights file (by its ``.npz`` suffix) rather than a PyTorch checkpoint."""
    return Path(path).suffix.lower() == ".npz"


def save_weights(path: str | Path, kind: str, config, arrays: dict[str, np.ndarray]) -> None:
    """Write ``config`` and ``arrays`` (floating-point arrays as float32) as a weights file."""
    meta = {"__format__": np.array(FORMAT), "__kind__": np.array(kind), "__config__": np.array(json.dumps(dataclasses.asdict(config)))}
    stored = {name: a.astype(np.float32) if np.issubdtype(a.dtype, np.floating) else a for name, a in arrays.items()}
    with open(path, "wb") as f:
        np.savez(f, **meta, **stored)


def read_weights(path: str | Path, kind: str | None = None) -> tuple[str, object, dict[str, np.ndarray]]:
    """(kind, config, {name: array}) of a weights file, which must hold a ``kind`` model when ``kind``
    is given; a one-line error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise StreamdlError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            entries = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise StreamdlError(f"{path}: not a streamdl weights file ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})") from None
    if any(name not in entries for name in _META) or str(entries["__format__"]) != FORMAT:
        raise StreamdlError(f"{path}: not a streamdl weights file (no '{FORMAT}' tag); export one with 'streamdl export'")
    stored = str(entries["__kind__"])
    if kind is not None and stored != kind:
        raise StreamdlError(f"{path}: this is a {stored} model, not a {kind}; pick a {kind} model file")
    try:
        config = CONFIGS[stored].from_dict(json.loads(str(entries["__config__"])))
    except (TypeError, KeyError, ValueError) as e:
        raise StreamdlError(f"{path}: its config does not describe a {stored} ({e})") from None
    return stored, config, {name: a for name, a in entries.items() if name not in _META}
