"""Tagger training: random labelled scenes, frame-level binary cross-entropy, the shared loop.

See :mod:`streamdl.training.loop` for the schedule, checkpoints, resume and DDP.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from streamdl.data.configs import SceneConfig
from streamdl.data.examples import RandomExamples, fixed_examples, validation_rooms
from streamdl.data.mixing import room_impulse_responses
from streamdl.data.scenes import SceneMaker
from streamdl.evaluation.tag_metrics import f1, frame_metrics
from streamdl.labels import LABELS
from streamdl.models.checkpoint import load_model, save_model
from streamdl.models.configs import TaggerConfig
from streamdl.models.spectrum import Spectrum
from streamdl.models.tagger import Tagger
from streamdl.training.configs import TaggerTrainConfig
from streamdl.training.loop import device_of, distributed, fit, starting_model


def targets(model, labels: torch.Tensor, frames: int) -> torch.Tensor:
    """The scene labels (B, frames >= ``frames``, len(LABELS)) of the model's own labels: (B, frames, its labels)."""
    return labels[:, :frames, [LABELS.index(label) for label in model.config.labels]]


BAND_MASK_BINS = 16  # widest masked band, STFT bins: 800 Hz at 16 kHz, n_fft 320


def mask_bands(spec: torch.Tensor, masks: int, width: int = BAND_MASK_BINS) -> torch.Tensor:
    """``spec`` (B, T, bins, 2) with ``masks`` random bands of up to ``width`` bins zeroed in each
    example, over all frames (SpecAugment's frequency masks: the labels must not hang on one band)."""
    if masks == 0:
        return spec
    batch, _, bins, _ = spec.shape
    keep = torch.ones(batch, bins, device=spec.device)
    bin_index = torch.arange(bins, device=spec.device)
    for _ in range(masks):
        widths = torch.randint(0, width + 1, (batch, 1), device=spec.device)
        starts = (torch.rand(batch, 1, device=spec.device) * (bins - widths + 1)).long()
        keep = keep * ~((bin_index >= starts) & (bin_index < starts + widths))
    return spec * keep[:, None, :, None]


def tagger_loss(model, spectrum: Spectrum, audio: torch.Tensor, labels: torch.Tensor, *, band_masks: int = 0) -> torch.Tensor:
    """Mean binary cross-entropy over frames and labels; audio (B, samples), labels (B, frames, L);
    with ``band_masks``, frequency bands of the input masked (:func:`mask_bands`)."""
    logits = model(mask_bands(spectrum.stft(audio), band_masks))
    return F.binary_cross_entropy_with_logits(logits, targets(model, labels, logits.shape[1]))


def predict(model, spectrum: Spectrum, audio: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """Logits (N, frames, labels) for scenes (N, samples), ``batch`` at a time."""
    return torch.cat([model(spectrum.stft(audio[i : i + batch])) for i in range(0, len(audio), batch)])


def validate(model, spectrum: Spectrum, audio: torch.Tensor, labels: torch.Tensor, batch: int) -> dict:
    """Validation loss, frame mAP and macro-F1 over fixed scenes."""
    logits = predict(model, spectrum, audio, batch)
    target = targets(model, labels, logits.shape[1])
    scores = frame_metrics(torch.sigmoid(logits).flatten(0, 1).cpu().numpy(), target.flatten(0, 1).cpu().numpy(), model.config.labels)
    return {"val_loss": float(F.binary_cross_entropy_with_logits(logits, target)), "mAP": scores["mAP"], "macro_f1": scores["macro_f1"]}


def calibrate_thresholds(probs: np.ndarray, targets: np.ndarray, grid: np.ndarray = np.arange(0.2, 0.81, 0.05)) -> tuple[float, ...]:
    """Per label, the threshold on frame probabilities (frames, labels) with the best F1 (0.5 without positives)."""
    best = []
    for i in range(probs.shape[1]):
        t = targets[:, i] > 0.5
        scores = [np.nan_to_num(f1(probs[:, i] >= g, t)) if t.any() else 0.0 for g in grid]
        best.append(round(float(grid[int(np.argmax(scores))]), 2) if t.any() else 0.5)
    return tuple(best)


def calibrate_model_file(path: Path, corpus: Path, scenes: int = 96, seed: int = 4321) -> tuple[float, ...]:
    """Calibrate the thresholds of a tagger file on validation scenes and store them in the file."""
    model = load_model(path, "tagger")
    spectrum = Spectrum(model.config.stft)
    audio, labels = fixed_examples(SceneMaker(corpus, "val", SceneConfig()).scene, scenes, seed=seed)
    with torch.no_grad():
        probs = torch.sigmoid(predict(model, spectrum, audio))
    thresholds = calibrate_thresholds(probs.flatten(0, 1).numpy(), targets(model, labels, probs.shape[1]).flatten(0, 1).numpy())
    model.config = dataclasses.replace(model.config, thresholds=thresholds)
    save_model(path, model, "tagger")
    return thresholds


def train_tagger(tc: TaggerTrainConfig, *, resume: bool = False) -> Path:
    """Train until max_steps, max_minutes or early stopping, then calibrate best.pt's thresholds; return its path."""
    device = device_of(tc.device)
    corpus = Path(tc.corpus)
    torch.manual_seed(tc.seed)
    fresh = lambda: Tagger(TaggerConfig(arch=tc.arch, labels=tc.label_names))  # noqa: E731
    model = starting_model(tc, "tagger", fresh, grow=lambda m: m.with_labels(tc.label_names))
    spectrum = Spectrum(model.config.stft).to(device)
    scenes = SceneConfig(sample_rate=model.config.stft.sample_rate)
    rirs = room_impulse_responses(tc.rirs, scenes.sample_rate, seed=tc.seed)
    train_scenes = dataclasses.replace(scenes, level_db=tc.level_db, seconds=tc.seconds, p_synthetic=tc.synthetic_share, speed=tc.speed,
                                       p_more_unlabelled=tc.more_unlabelled)

    train_data = lambda seed: RandomExamples(SceneMaker, (corpus, "train", train_scenes), {"rirs": rirs}, "scene", seed)  # noqa: E731

    def val_data():  # the same rooms and scenes for every run, whatever the training scenes' options
        maker = SceneMaker(corpus, "val", scenes, rirs=validation_rooms(tc.rirs, scenes.sample_rate))
        return fixed_examples(maker.scene, tc.val_examples)

    loss_fn = lambda m, audio, labels: tagger_loss(m, spectrum, audio, labels, band_masks=tc.band_masks)  # noqa: E731
    validate_fn = lambda m, audio, labels: validate(m, spectrum, audio, labels, tc.batch_size)  # noqa: E731
    best = fit(tc, model, "tagger", train_data, val_data, loss_fn, validate_fn, resume=resume)
    if distributed()[0] == 0:
        calibrate_model_file(best, corpus, scenes=tc.val_examples)
    return best
