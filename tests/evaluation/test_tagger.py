"""Tagger evaluation: reference events from frame labels; the whole report on a tiny corpus; clips from labelled folders."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from streamdl.errors import StreamdlError
from streamdl.evaluation.tagger import evaluate_tagger, folder_clips, format_report, reference_events, score_clips
from streamdl.models.configs import TaggerConfig
from streamdl.models.tagger import Tagger
from streamdl.stages.tagger import StreamingTagger


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


def test_folder_clips_take_labels_from_subfolders_and_the_middle_of_each_file(tmp_path):
    (tmp_path / "water").mkdir()
    (tmp_path / "wind" / "gusts").mkdir(parents=True)
    ramp = np.arange(20 * 8000, dtype=np.float32) / (20 * 8000)
    sf.write(tmp_path / "water" / "long.wav", ramp, 8000, subtype="FLOAT")  # 20 s at 8 kHz
    sf.write(tmp_path / "wind" / "gusts" / "short.flac", np.full(16000, 0.5, np.float32), 16000)
    clips = folder_clips(tmp_path, clip_seconds=8.0)
    assert [(label, name) for label, name, _ in clips] == [("water", "water/long.wav"), ("wind", "wind/gusts/short.flac")]
    water, wind = clips[0][2], clips[1][2]
    assert len(water) == 8 * 16000 and water[len(water) // 2] == pytest.approx(0.5, abs=0.01)  # centred
    assert len(wind) == 16000


def test_folder_clips_reject_unknown_labels_and_empty_folders(tmp_path):
    with pytest.raises(StreamdlError, match="holds no audio files"):
        folder_clips(tmp_path)
    (tmp_path / "rain").mkdir()
    sf.write(tmp_path / "rain" / "a.wav", np.zeros(1600), 16000)
    with pytest.raises(StreamdlError, match="not a tagger label"):
        folder_clips(tmp_path)


def test_clip_scores_weigh_goal_labels_per_clip_and_per_label():
    torch.manual_seed(0)
    tagger = StreamingTagger(Tagger().eval())
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    clips = [("water", "a", noise), ("water", "b", noise), ("speech", "c", noise), ("dog", "d", noise)]
    report = score_clips(tagger, clips)
    top = report["clips"][0]["top"]  # the same audio four times: the same answer
    per_label = report["clip_per_label"]
    assert per_label["water"] == {"clips": 2, "top1": float(top == "water")} and per_label["dog"]["clips"] == 1
    goal = report["clip_top1_goal_labels"]
    assert goal["labels"] == ["speech", "water"] and goal["clips"] == 3
    assert goal["balanced"] == pytest.approx(np.mean([float(top == "speech"), float(top == "water")]))
    assert "clips: top-1" in format_report(report) and "frame mAP" not in format_report(report)


def test_clips_of_labels_the_model_lacks_are_left_out_with_a_warning():
    tagger = StreamingTagger(Tagger(TaggerConfig(labels=("speech", "music"))).eval())
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    with pytest.warns(UserWarning, match="no label machine"):
        report = score_clips(tagger, [("speech", "a", noise), ("machine", "b", noise)])
    assert [row["label"] for row in report["clips"]] == ["speech"]


def test_clips_of_no_label_count_the_share_without_events():
    """A `none` clip is right when the tagger reports no event for it, whatever its top label."""
    tagger = StreamingTagger(Tagger().eval())
    quiet = np.zeros(16000, np.float32)
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    report = score_clips(tagger, [("speech", "a", noise), ("none", "b", quiet), ("none", "c", quiet)])
    none = report["no_label"]
    assert none["clips"] == 2 and [row["name"] for row in none["rows"]] == ["b", "c"]
    assert none["without_events"] == float(np.mean([not row["events"] for row in none["rows"]]))
    assert [row["label"] for row in report["clips"]] == ["speech"]  # top-1 counts labelled clips only
    assert "none" in format_report(report)
