"""Tagger evaluation: reference events from frame labels; the whole report on a tiny corpus."""

import json

import numpy as np
import torch

from streamdl.models.tagger import Tagger
from streamdl.tagging.evaluate import evaluate_tagger, format_report, reference_events
from streamdl.tagging.runtime import StreamingTagger


def test_reference_events_are_runs_of_each_label_with_short_gaps_bridged():
    labels = np.zeros((60, 2))
    labels[2:8, 0] = 1
    labels[12:15, 0] = 1  # 4 frames after the first run: the same event
    labels[40:41, 0] = 1  # alone and too short
    labels[5:20, 1] = 1
    labels[35:60, 1] = 1  # 15 frames later: a new event
    assert reference_events(labels, ("a", "b"), 0.02) == [
        {"label": "a", "onset_s": 0.04}, {"label": "b", "onset_s": 0.1}, {"label": "b", "onset_s": 0.7}]


def test_report_on_a_tiny_corpus(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    torch.manual_seed(0)
    report = evaluate_tagger(StreamingTagger(Tagger().eval()), corpus, tmp_path, scenes=3)
    assert 0 <= report["frame_mAP"] <= 1 and report["clip_per_label"]["speech"]["clips"] == 40
    assert json.loads((tmp_path / "report.json").read_text())["scenes"] == 3
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "frame mAP" in format_report(report)
