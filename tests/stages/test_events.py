"""Event detection: hysteresis, minimum durations, onset and offset times, flush."""

import numpy as np

from streamdl.stages.events import EventConfig, EventDetector

RAW = EventConfig(frame_s=0.02, smoothing_s=0.0, on=0.5, off=0.3, min_on_s=0.06, min_off_s=0.1)  # no smoothing: exact timing


def run(detector, track):
    started, ended = [], []
    for p in track:
        for e in detector.update([p]):
            (ended if "offset_s" in e else started).append(e)
    return started, ended


def test_onset_after_min_on_and_offset_after_min_off():
    track = [0.0] * 10 + [0.9] * 20 + [0.1] * 10
    started, ended = run(EventDetector(("dog",), RAW), track)
    assert started == [{"label": "dog", "onset_s": 0.2}]
    assert ended == [{"label": "dog", "onset_s": 0.2, "offset_s": 0.6, "score": 0.9}]


def test_hysteresis_keeps_an_event_between_the_thresholds():
    track = [0.9] * 5 + [0.4, 0.35, 0.45] * 10 + [0.0] * 10  # dips below on, never below off
    started, ended = run(EventDetector(("alarm",), RAW), track)
    assert len(started) == 1 and len(ended) == 1 and ended[0]["offset_s"] == 0.7


def test_blips_shorter_than_min_on_and_gaps_shorter_than_min_off_are_ignored():
    track = [0.9, 0.9, 0.0, 0.0] * 5 + [0.9] * 10 + [0.0, 0.0, 0.0] + [0.9] * 10 + [0.0] * 10
    started, ended = run(EventDetector(("door",), RAW), track)
    assert len(started) == 1 and len(ended) == 1
    assert ended[0]["onset_s"] == 0.4 and ended[0]["offset_s"] == 0.86


def test_per_label_thresholds_and_flush():
    config = EventConfig(frame_s=0.02, smoothing_s=0.0, min_on_s=0.02, per_label={"speech": (0.8, 0.6)})
    detector = EventDetector(("speech", "music"), config)
    started, _ = run_pairs(detector, [(0.7, 0.7)] * 5)
    assert [e["label"] for e in started] == ["music"]
    assert detector.flush() == [{"label": "music", "onset_s": 0.0, "offset_s": 0.1, "score": 0.7}]


def run_pairs(detector, frames):
    started, ended = [], []
    for probs in frames:
        for e in detector.update(probs):
            (ended if "offset_s" in e else started).append(e)
    return started, ended


def test_smoothing_delays_the_onset_by_about_its_time_constant():
    config = EventConfig(frame_s=0.02, smoothing_s=0.04, min_on_s=0.02)
    started, _ = run(EventDetector(("bird",), config), [0.0] * 10 + [1.0] * 10)
    delay = started[0]["onset_s"] - 0.2
    assert 0.0 < delay <= 0.04 + 1e-9  # 1 - exp(-t / 0.04) reaches 0.5 after 28 ms
    assert np.isclose(started[0]["onset_s"], 0.22)
