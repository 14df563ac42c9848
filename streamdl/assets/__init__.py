"""Files that ship inside the package: the trained models (with their model cards) and a sample recording."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def asset_path(name: str) -> Path:
    """Where the package file ``streamdl/assets/NAME`` lives."""
    return Path(str(resources.files("streamdl.assets") / name))


def shipped_model_path(kind: str) -> Path:
    """The package's own trained ``kind`` model ("denoiser", "tagger", ...); its card is ``kind.md`` beside it."""
    return asset_path(f"{kind}.npz")


def sample_path() -> Path:
    """The bundled noisy speech sample (12 s, 16 kHz mono; see streamdl/assets/README.md)."""
    return asset_path("sample_noisy.flac")
