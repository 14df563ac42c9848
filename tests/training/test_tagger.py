"""Tagger training runs, logs, checkpoints and resumes."""

import json

import torch

from streamdl.models.checkpoint import load_model
from streamdl.training.tagger import TagTrainConfig, train_tagger


def test_train_a_few_steps_then_resume(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    torch.set_num_threads(1)
    tc = TagTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), arch="attention", batch_size=2, max_steps=4, val_every=2,
                        val_scenes=4, seconds=1.0, workers=0, rirs=2)  # fmt: skip
    best = train_tagger(tc)
    assert load_model(best, "tagger").config.arch == "attention"
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and all(0 <= r["mAP"] <= 1 for r in log)
    train_tagger(TagTrainConfig(**{**tc.__dict__, "max_steps": 6}), resume=True)
    assert [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [2, 4, 6]
