"""Tagger training: random labelled scenes, frame-level binary cross-entropy, the shared loop.

See :mod:`streamdl.training.loop` for the schedule, checkpoints, resume and DDP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from streamdl.data.mixing import room_impulse_responses
from streamdl.data.scenes import SceneConfig, SceneDataset, SceneMaker, fixed_scenes
from streamdl.models.spectrum import Spectrum
from streamdl.models.tagger import Tagger, TaggerConfig
from streamdl.tagging.metrics import frame_metrics
from streamdl.training.loop import device_of, fit


@dataclass(frozen=True)
class TagTrainConfig:
    corpus: str  # folder made by 'streamdl data build'
    out_dir: str  # where last.pt, best.pt and log.jsonl go
    arch: str = "crnn"  # "crnn" or "attention"
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    max_steps: int = 6000
    max_minutes: float = 0.0
    val_every: int = 250
    val_scenes: int = 96
    patience: int = 10
    seconds: float = 6.0  # length of training scenes
    workers: int = 1
    rirs: int = 32
    seed: int = 0
    device: str = "cpu"


def tagger_loss(model, spectrum: Spectrum, audio: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy over frames and labels; audio (B, samples), labels (B, frames, L)."""
    logits = model(spectrum.stft(audio))
    return F.binary_cross_entropy_with_logits(logits, labels[:, : logits.shape[1]])


def validate(model, spectrum: Spectrum, audio: torch.Tensor, labels: torch.Tensor, batch: int) -> dict:
    """Validation loss, frame mAP and macro-F1 over fixed scenes."""
    logits = torch.cat([model(spectrum.stft(audio[i : i + batch])) for i in range(0, len(audio), batch)])
    target = labels[:, : logits.shape[1]]
    scores = frame_metrics(torch.sigmoid(logits).flatten(0, 1).cpu().numpy(), target.flatten(0, 1).cpu().numpy(), model.config.labels)
    return {"val_loss": float(F.binary_cross_entropy_with_logits(logits, target)), "mAP": scores["mAP"], "macro_f1": scores["macro_f1"]}


def train_tagger(tc: TagTrainConfig, *, resume: bool = False) -> Path:
    """Train until max_steps, max_minutes or early stopping; return the path of best.pt."""
    device = device_of(tc.device)
    corpus = Path(tc.corpus)
    torch.manual_seed(tc.seed)
    model = Tagger(TaggerConfig(arch=tc.arch)).to(device)
    spectrum = Spectrum(model.config.stft).to(device)
    scenes = SceneConfig(seconds=tc.seconds, sample_rate=model.config.stft.sample_rate)
    rirs = room_impulse_responses(tc.rirs, scenes.sample_rate, seed=tc.seed)

    def batches(rank: int, step: int):
        dataset = SceneDataset((corpus, "train", scenes), {"rirs": rirs}, seed=tc.seed * 1000 + rank * 100 + step)
        loader = torch.utils.data.DataLoader(dataset, batch_size=tc.batch_size, num_workers=tc.workers, persistent_workers=tc.workers > 0)
        return ([t.to(device) for t in batch] for batch in loader)

    val = None

    def validate_fn(m):
        nonlocal val
        if val is None:
            val = [t.to(device) for t in fixed_scenes(SceneMaker(corpus, "val", scenes, rirs=rirs[: tc.rirs // 4]), tc.val_scenes, seed=1234)]
        return validate(m, spectrum, *val, tc.batch_size)

    def loss_fn(m, batch):
        return tagger_loss(m, spectrum, *batch)

    return fit(tc, model, "tagger", batches, loss_fn, validate_fn, resume=resume)
