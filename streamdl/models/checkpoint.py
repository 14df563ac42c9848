"""Model files: weights plus the config that rebuilds the model, loaded without executing code.

A model file is a ``torch.save`` of a plain dict ``{"format", "kind", "config", "state_dict"}``
(training checkpoints add optimizer state); it is read with ``torch.load(weights_only=True)``,
which accepts only tensors and plain containers, so a file from anywhere cannot run code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import torch

from streamdl.errors import StreamdlError
from streamdl.models.codec import Codec, CodecConfig
from streamdl.models.denoiser import Denoiser, DenoiserConfig, grown_alike
from streamdl.models.tagger import Tagger, TaggerConfig

FORMAT = "streamdl-model-1"
KINDS = {"denoiser": (Denoiser, DenoiserConfig), "tagger": (Tagger, TaggerConfig), "codec": (Codec, CodecConfig)}


def model_dict(model: torch.nn.Module, kind: str) -> dict:
    """The serialisable description of ``model``: format tag, kind, config dict, state dict."""
    return {"format": FORMAT, "kind": kind, "config": dataclasses.asdict(model.config), "state_dict": model.state_dict()}


def save_model(path: str | Path, model: torch.nn.Module, kind: str) -> None:
    torch.save(model_dict(model, kind), path)


def read_model_file(path: str | Path) -> dict:
    """Load a model or checkpoint file's dict safely; one-line StreamdlError when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise StreamdlError(f"{path}: no such model file")
    try:
        d = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load fails in many ways on foreign bytes; weights_only already blocks code
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StreamdlError(f"{path}: not a streamdl model file ({first[:120]})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise StreamdlError(f"{path}: not a streamdl model file (no '{FORMAT}' tag); train one with 'streamdl train'")
    return d


def load_model(path: str | Path, kind: str) -> torch.nn.Module:
    """Rebuild a model of ``kind`` from its file, in eval mode on the CPU."""
    return _rebuild(read_model_file(path), path, kind)


def _rebuild(d: dict, path: str | Path, kind: str) -> torch.nn.Module:
    """The model of ``kind`` that the dict read from ``path`` describes, in eval mode."""
    if d["kind"] != kind:
        raise StreamdlError(f"{path}: this is a {d['kind']} model, not a {kind}; pick a {kind} model file")
    model_cls, config_cls = KINDS[kind]
    model = model_cls(config_cls.from_dict(d["config"]))
    try:
        model.load_state_dict(d["state_dict"])
    except RuntimeError as e:
        raise StreamdlError(f"{path}: weights do not match the stored config ({str(e).splitlines()[0]})") from None
    return model.eval()


def average_models(paths: Sequence[str | Path]) -> tuple[torch.nn.Module, str]:
    """(model, kind) whose weights are the mean of those in ``paths``: model files of one kind and one
    config, best runs fine-tuned from one starting point (their average, a "model soup", often beats each).
    Denoisers that differ only in what ``Denoiser.grown`` adds (an output gate, noise-floor inputs, wider
    parts) are first grown alike, which keeps each one's output. Taggers may differ in their calibrated
    thresholds; the soup gets their mean (recalibrate it to do better)."""
    files = [read_model_file(path) for path in paths]  # each read once
    kind = files[0]["kind"]
    models = [_rebuild(d, path, kind) for d, path in zip(files, paths)]
    if kind == "denoiser":
        models = grown_alike(models)
    if any(_uncalibrated(m.config) != _uncalibrated(models[0].config) for m in models):
        raise StreamdlError(f"{', '.join(map(str, paths))}: the models differ in shape (config); only one shape can be averaged")
    states = [m.state_dict() for m in models]
    mean = {k: sum(s[k] for s in states) / len(states) if v.is_floating_point() else v for k, v in states[0].items()}
    soup = models[0]
    soup.load_state_dict(mean)
    thresholds = [m.config.thresholds for m in models if getattr(m.config, "thresholds", ())]
    if len(thresholds) == len(models):
        soup.config = dataclasses.replace(soup.config, thresholds=tuple(round(sum(t) / len(t), 3) for t in zip(*thresholds)))
    return soup, kind


def _uncalibrated(config):
    """``config`` without what calibration sets after training (a tagger's thresholds)."""
    return dataclasses.replace(config, thresholds=()) if hasattr(config, "thresholds") else config
