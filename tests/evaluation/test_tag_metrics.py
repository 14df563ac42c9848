"""Tagger metrics against hand-computed values."""

import numpy as np
import pytest

from streamdl.evaluation.tag_metrics import average_precision, confusion, event_f1, f1, frame_metrics, save_confusion_png


def test_average_precision():
    assert average_precision(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0])) == 1.0
    # ranks: pos (P=1), neg, pos (P=2/3) -> (1 + 2/3) / 2
    assert average_precision(np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1])) == pytest.approx(5 / 6)
    assert np.isnan(average_precision(np.array([0.5]), np.array([0])))


def test_f1_and_frame_metrics():
    assert f1(np.array([True, True, False]), np.array([True, False, True])) == pytest.approx(0.5)
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.1]])
    targets = np.array([[1, 0], [0, 1], [1, 0]])
    m = frame_metrics(probs, targets, ("a", "b"))
    assert m["mAP"] == 1.0 and m["macro_f1"] == 1.0 and m["per_class"]["a"]["frames"] == 2


def test_confusion_and_png(tmp_path):
    labels = ("speech", "music", "wind")
    matrix = confusion(["speech", "speech", "music"], ["speech", "wind", "music"], labels)
    assert matrix.tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 0]]
    save_confusion_png(matrix, labels, tmp_path / "c.png", "test")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_event_f1_with_onset_tolerance():
    ref = [{"label": "dog", "onset_s": 1.0}, {"label": "door", "onset_s": 3.0}]
    det = [{"label": "dog", "onset_s": 1.1}, {"label": "door", "onset_s": 3.5}, {"label": "dog", "onset_s": 5.0}]
    m = event_f1(ref, det, tolerance_s=0.2)
    assert m["precision"] == pytest.approx(1 / 3) and m["recall"] == 0.5 and m["f1"] == pytest.approx(0.4)
    assert m["onset_delays_s"] == [pytest.approx(0.1)]
