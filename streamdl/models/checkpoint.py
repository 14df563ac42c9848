"""PyTorch models from model files, loaded without executing code.

Two kinds of file rebuild a model: a weights file (``.npz``, :mod:`streamdl.models.weights`; what
ships), and a training checkpoint, a ``torch.save`` of a plain dict ``{"format", "kind", "config",
"state_dict"}`` (``last.pt`` adds the optimizer state), read with ``torch.load(weights_only=True)``,
which accepts only tensors and plain containers. Neither can run code from the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from streamdl.errors import StreamdlError
from streamdl.models.codec import Codec
from streamdl.models.configs import CodecConfig, DenoiserConfig, RestorerConfig, TaggerConfig
from streamdl.models.denoiser import Denoiser, grown_alike
from streamdl.models.restorer import Restorer
from streamdl.models.tagger import Tagger
from streamdl.models.weights import is_weights_file, read_weights, save_weights

FORMAT = "streamdl-model-1"
KINDS = {"denoiser": (Denoiser, DenoiserConfig), "tagger": (Tagger, TaggerConfig), "codec": (Codec, CodecConfig),
         "restorer": (Restorer, RestorerConfig)}


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
    """Rebuild a model of ``kind`` from its weights file or checkpoint, in eval mode on the CPU."""
    if is_weights_file(path):
        return model_from_arrays(*read_weights(path, kind), path)
    return _rebuild(read_model_file(path), path, kind)


def model_kind(path: str | Path) -> str:
    """The kind of model ("denoiser", "restorer", "tagger", "codec") a weights file or checkpoint holds."""
    return read_weights(path)[0] if is_weights_file(path) else read_model_file(path)["kind"]


def model_from_arrays(kind: str, config, arrays: dict[str, np.ndarray], path: str | Path = "the weights") -> torch.nn.Module:
    """The ``kind`` model of ``config`` holding ``arrays`` (named as its state dict), in eval mode."""
    return _with_state(KINDS[kind][0](config), {name: torch.from_numpy(a) for name, a in arrays.items()}, path)


def _rebuild(d: dict, path: str | Path, kind: str) -> torch.nn.Module:
    """The model of ``kind`` that the dict read from ``path`` describes, in eval mode."""
    if d["kind"] != kind:
        raise StreamdlError(f"{path}: this is a {d['kind']} model, not a {kind}; pick a {kind} model file")
    model_cls, config_cls = KINDS[kind]
    return _with_state(model_cls(config_cls.from_dict(d["config"])), d["state_dict"], path)


def _with_state(model: torch.nn.Module, state: dict, path: str | Path) -> torch.nn.Module:
    try:
        model.load_state_dict(state)
    except RuntimeError as e:  # torch lists each difference on a line of its own, after a header line
        details = "; ".join(line.strip() for line in str(e).splitlines()[1:] if line.strip()) or str(e)
        raise StreamdlError(f"{path}: weights do not match the stored config ({details[:300]})") from None
    return model.eval()


def export_weights(model_file: str | Path, out: str | Path, *, band_gain_db: float | None = None) -> str:
    """Write the model of a checkpoint (or of another weights file) as a weights file; returns its kind.
    ``band_gain_db`` sets a restorer's ``RestorerConfig.band_gain_db`` (the level its rebuilt band plays at)."""
    kind = model_kind(model_file)
    model = load_model(model_file, kind)
    config = model.config
    if band_gain_db is not None:
        if kind != "restorer":
            raise StreamdlError(f"{model_file}: --band-gain-db sets a restorer's band level, and this is a {kind}; leave it out")
        config = dataclasses.replace(config, band_gain_db=band_gain_db)
    save_weights(out, kind, config, {name: t.detach().cpu().numpy() for name, t in model.state_dict().items()})
    return kind


def average_models(paths: Sequence[str | Path]) -> tuple[torch.nn.Module, str]:
    """(model, kind) whose weights are the mean of those in ``paths``: model files of one kind and one
    config, best runs fine-tuned from one starting point (their average, a "model soup", often beats each).
    Denoisers that differ only in what ``Denoiser.grown`` adds (an output gate, noise-floor inputs, wider
    parts) are first grown alike, which keeps each one's output. Taggers may differ in their calibrated
    thresholds; the soup gets their mean (recalibrate it to do better)."""
    kind = model_kind(paths[0])
    models = [load_model(path, kind) for path in paths]
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
