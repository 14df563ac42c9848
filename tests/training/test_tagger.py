"""Tagger training runs, logs, checkpoints and resumes."""

import json

import torch

from streamdl.assets import shipped_model_path
from streamdl.labels import LABELS
from streamdl.models.checkpoint import load_model
from streamdl.training.configs import TaggerTrainConfig
from streamdl.training.tagger import train_tagger


def test_train_a_few_steps_then_resume(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    torch.set_num_threads(1)
    tc = TaggerTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), arch="attention", batch_size=2, max_steps=4, val_every=2,
                        val_examples=4, seconds=1.0, workers=0, rirs=2)  # fmt: skip
    best = train_tagger(tc)
    assert load_model(best, "tagger").config.arch == "attention"
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and all(0 <= r["mAP"] <= 1 for r in log)
    train_tagger(TaggerTrainConfig(**{**tc.__dict__, "max_steps": 6}), resume=True)
    assert [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [2, 4, 6]


def test_fine_tuning_starts_from_the_given_model(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    torch.set_num_threads(1)
    start = load_model(shipped_model_path("tagger"), "tagger")
    tc = TaggerTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), batch_size=2, max_steps=2, val_every=2, val_examples=4, seconds=1.0,
                        workers=0, rirs=2, lr=1e-9, init=str(shipped_model_path("tagger")))  # fmt: skip
    tuned = load_model(train_tagger(tc), "tagger")
    assert tuned.config.labels == LABELS  # a model file with fewer labels grows into the vocabulary
    for a, b in zip(start.parameters(), tuned.parameters()):
        torch.testing.assert_close(a, b[: len(a)], atol=1e-6, rtol=0)


def test_a_run_can_learn_only_the_leading_labels(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    torch.set_num_threads(1)
    tc = TaggerTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), batch_size=2, max_steps=2, val_every=2, val_examples=4, seconds=1.0,
                        workers=0, rirs=2, labels=5)  # fmt: skip
    first = load_model(train_tagger(tc), "tagger")
    assert first.config.labels == LABELS[:5] and len(first.config.thresholds) == 5
    tc = TaggerTrainConfig(**{**tc.__dict__, "out_dir": str(tmp_path / "more"), "init": str(tmp_path / "best.pt"), "labels": 7})
    assert load_model(train_tagger(tc), "tagger").config.labels == LABELS[:7]  # grown by two


def test_calibrated_thresholds_maximise_f1_and_land_in_the_model_file(tiny_corpus, tmp_path):
    import numpy as np

    from streamdl.models.checkpoint import save_model
    from streamdl.models.tagger import Tagger
    from streamdl.stages.tagger import StreamingTagger
    from streamdl.training.tagger import calibrate_model_file, calibrate_thresholds

    probs = np.array([[0.9, 0.3], [0.7, 0.3], [0.4, 0.3], [0.1, 0.3]])
    targets = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    on = calibrate_thresholds(probs, targets)
    assert 0.4 < on[0] <= 0.7 and on[1] == 0.5
    corpus, _ = tiny_corpus
    save_model(tmp_path / "t.pt", Tagger(), "tagger")
    thresholds = calibrate_model_file(tmp_path / "t.pt", corpus, scenes=4)
    model = load_model(tmp_path / "t.pt", "tagger")
    assert model.config.thresholds == thresholds and len(thresholds) == len(model.config.labels)
    detector = StreamingTagger(model).detector
    assert detector.thresholds[0] == (thresholds[0], max(0.05, thresholds[0] - 0.2))


def test_band_masks_zero_whole_bands_of_each_scene_and_none_without_them():
    from streamdl.training.tagger import mask_bands

    torch.manual_seed(0)
    spec = torch.ones(8, 5, 161, 2)
    masked = mask_bands(spec, 2, 16)
    zeroed = masked[:, :, :, 0] == 0
    assert torch.equal(zeroed, zeroed[:, :1].expand_as(zeroed))  # the same bins in every frame
    assert (zeroed[:, 0].sum(1) <= 32).all() and zeroed.any()
    assert torch.equal(mask_bands(spec, 0, 16), spec)
