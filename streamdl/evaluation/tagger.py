"""Evaluating a tagger on material it never trained on, through the streaming path users run.

Two held-out sets, both from a corpus folder:

- **scenes**: labelled scenes (:mod:`streamdl.data.scenes`) built from the validation split
  (source files the tagger never saw, held-out speakers and music). Frame mAP, macro-F1 and
  per-class F1; event-based F1 with an onset tolerance, where reference events are the runs of
  each label in the frame labels; onset error and detection latency (when the event is reported
  minus the sound's true onset).
- **clips**: single recordings, one label each (speech from held-out speakers, music from
  held-out pieces, and the labelled validation recordings), cut to at most ``clip_seconds``. Top-1
  clip accuracy and a confusion matrix over all labels.

:func:`score_clips` also scores recordings from anywhere else, a folder per label
(:func:`folder_clips`): ``scripts/make_tagger_eval.py`` builds one from packages training never uses.
A folder named ``none`` holds sounds of no label: a tagger that knows it does not know reports no
event of a sound for them (silence in their quiet stretches is no mistake).
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from streamdl.data.configs import SceneConfig
from streamdl.data.mixing import Pool
from streamdl.data.scenes import ClipBank, SceneMaker
from streamdl.engine.files import read_mono
from streamdl.errors import StreamdlError
from streamdl.evaluation.tag_metrics import confusion, event_f1, frame_metrics, save_confusion_png
from streamdl.io.audiofile import find_audio_files
from streamdl.labels import LABELS
from streamdl.stages.tagger import StreamingTagger, tag_signal

CLIP_GOAL_LABELS = ("speech", "music", "water", "wind", "vehicle", "crowd")  # the top-1 accuracy goal
NO_LABEL = "none"  # the folder of clips that fit no label (out of vocabulary)


def reference_events(labels: np.ndarray, names: tuple[str, ...], frame_s: float, min_frames: int = 3, max_gap: int = 10) -> list[dict]:
    """Runs of 1s per label in frame labels (frames, labels) -> [{"label", "onset_s"}].

    Runs less than ``max_gap`` frames apart are one event (pauses between words, between
    footsteps), as an annotator would mark them; events shorter than ``min_frames`` are dropped.
    """
    events = []
    for i, name in enumerate(names):
        runs = np.flatnonzero(np.diff(np.concatenate([[0], labels[:, i], [0]])) != 0).reshape(-1, 2).tolist()
        merged = []
        for a, b in runs:
            if merged and a - merged[-1][1] < max_gap:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        events += [{"label": name, "onset_s": round(a * frame_s, 3)} for a, b in merged if b - a >= min_frames]
    return events


def held_out_clips(corpus: Path, *, per_pool: int = 40, clip_seconds: float = 8.0, seed: int = 0) -> list[tuple[str, str, np.ndarray]]:
    """(label, name, audio) for single-label recordings the tagger never trained on."""
    rng = np.random.default_rng(seed)
    n = int(clip_seconds * 16000)
    clips = []
    for role in ("speech", "music"):
        if (corpus / f"{role}_test.npz").is_file():
            pool = Pool.load(corpus / f"{role}_test.npz")
            clips += [(role, f"{role}_test window {i}", pool.window(rng, n)) for i in range(per_pool)]
    bank = ClipBank(corpus, "val")
    for label, entries in sorted(bank.by_label.items()):
        if label in ("", "speech", "music"):
            continue
        for pool, start, end in entries:
            index = int(np.searchsorted(pool.offsets, start, side="right") - 1)
            clips.append((label, str(pool.names[index]), pool.audio[start : min(end, start + n)].astype(np.float32) / 32768.0))
    return clips


def evaluate_tagger(tagger: StreamingTagger, corpus: Path, out_dir: Path | None = None, *, scenes: int = 100, seed: int = 77,
                    onset_tolerance_s: float = 0.25) -> dict:  # fmt: skip
    """Scores on held-out scenes and clips; writes report.json and confusion.png to ``out_dir`` if given."""
    labels = tagger.labels
    columns = [LABELS.index(label) for label in labels]  # a model may know fewer labels than the scenes carry
    frame_s = tagger.frame_s
    maker = SceneMaker(corpus, "val", SceneConfig())
    rng = np.random.default_rng(seed)
    probs, targets, refs, dets = [], [], [], []
    for _ in range(scenes):
        audio, target = maker.scene(rng)
        target = target[:, columns]
        result = tag_signal(tagger, audio)
        frames = np.array(tagger.history[: len(target)])
        probs.append(frames)
        targets.append(target[: len(frames)])
        refs.append(reference_events(target, labels, frame_s))
        dets.append(result["events"])
    frame = frame_metrics(np.concatenate(probs), np.concatenate(targets), labels)
    per_label_events = {}
    delays = []
    for label in labels:
        m = [event_f1([e for e in r if e["label"] == label], [e for e in d if e["label"] == label], onset_tolerance_s) for r, d in zip(refs, dets)]
        tp = sum(len(x["onset_delays_s"]) for x in m)
        n_ref = sum(len([e for e in r if e["label"] == label]) for r in refs)
        n_det = sum(len([e for e in d if e["label"] == label]) for d in dets)
        if n_ref:
            per_label_events[label] = {"f1": round(2 * tp / (n_ref + n_det), 3), "reference": n_ref, "detected": n_det}
        delays += [d for x in m for d in x["onset_delays_s"]]
    min_on = tagger.detector.min_on * frame_s
    clips = score_clips(tagger, held_out_clips(corpus))
    report = {
        "scenes": scenes,
        "frame_mAP": round(frame["mAP"], 4),
        "frame_macro_f1": round(frame["macro_f1"], 4),
        "per_class": {k: {"ap": round(v["ap"], 3), "f1": round(float(np.nan_to_num(v["f1"])), 3), "frames": v["frames"]}
                      for k, v in frame["per_class"].items() if v["frames"]},  # fmt: skip
        "event_f1": {"onset_tolerance_s": onset_tolerance_s, "macro": round(float(np.mean([v["f1"] for v in per_label_events.values()])), 3),
                     "per_class": per_label_events},  # fmt: skip
        "onset_error_median_s": round(float(np.median(delays)), 3) if delays else None,
        "detection_latency_median_s": round(float(np.median(delays)) + min_on, 3) if delays else None,
        "detection_latency_p90_s": round(float(np.percentile(delays, 90)) + min_on, 3) if delays else None,
        **clips,
    }
    if out_dir is not None:
        write_report(report, out_dir)
    return report


def middle(audio: np.ndarray, n: int) -> np.ndarray:
    """The middle n samples of ``audio`` (all of it when shorter)."""
    start = max(0, (len(audio) - n) // 2)
    return audio[start : start + n]


def folder_clips(root: Path, *, clip_seconds: float = 8.0) -> list[tuple[str, str, np.ndarray]]:
    """(label, name, audio) for the audio files under ``root/LABEL/``; the middle ``clip_seconds`` of each, 16 kHz."""
    if not root.is_dir():
        raise StreamdlError(f"{root}: not a folder; give a folder with one subfolder per label, e.g. {root}/water/rain.wav")
    clips = []
    n = int(clip_seconds * 16000)
    for path in find_audio_files(root):
        label = path.relative_to(root).parts[0]
        if label not in (*LABELS, NO_LABEL):
            raise StreamdlError(f"{root / label}: not a tagger label; name the subfolders after labels ({', '.join(LABELS)}), "
                                f"or {NO_LABEL} for sounds of no label")  # fmt: skip
        clips.append((label, str(path.relative_to(root)), middle(read_mono(path, 16000), n)))
    return clips


def score_clips(tagger: StreamingTagger, clips: list[tuple[str, str, np.ndarray]]) -> dict:
    """Top-1 clip accuracy of single-label recordings: over the goal labels (per clip and with equal
    weight per label), over all labels, per label, a confusion matrix and one row per clip; for clips of
    no label (``NO_LABEL``), the share with no event of a sound and the events reported."""
    labels = tagger.labels
    unknown = sorted({label for label, _, _ in clips} - {*labels, NO_LABEL})
    if unknown:
        warnings.warn(f"the model has no label {', '.join(unknown)}: those clips are left out")
        clips = [clip for clip in clips if clip[0] in labels or clip[0] == NO_LABEL]
    true, predicted, rows, unlabelled = [], [], [], []
    for label, name, audio in clips:
        tagged = tag_signal(tagger, audio, name=name)
        scores = tagged["clip_scores"]
        top = max(scores, key=scores.get)
        if label == NO_LABEL:
            heard = sorted({e["label"] for e in tagged["events"]} - {"silence"})
            unlabelled.append({"name": name, "top": top, "score": scores[top], "events": heard})
            continue
        true.append(label)
        predicted.append(top)
        rows.append({"label": label, "name": name, "top": top, "score": scores[label]})
    per_label = {lab: {"clips": true.count(lab), "top1": round(float(np.mean([p == lab for t, p in zip(true, predicted) if t == lab])), 3)}
                 for lab in labels if lab in true}  # fmt: skip
    goal = [t == p for t, p in zip(true, predicted) if t in CLIP_GOAL_LABELS]
    goal_labels = [lab for lab in CLIP_GOAL_LABELS if lab in per_label]
    return {
        "clip_top1_goal_labels": {"labels": goal_labels, "clips": len(goal), "accuracy": round(float(np.mean(goal)), 3) if goal else None,
                                  "balanced": round(float(np.mean([per_label[lab]["top1"] for lab in goal_labels])), 3) if goal_labels else None},  # fmt: skip
        "clip_top1_all": round(float(np.mean([t == p for t, p in zip(true, predicted)])), 3) if true else None,
        "clip_per_label": per_label,
        "confusion": {"labels": list(labels), "matrix": confusion(true, predicted, labels).tolist()},
        "clips": rows,
        "no_label": {"clips": len(unlabelled), "without_events": round(float(np.mean([not u["events"] for u in unlabelled])), 3) if unlabelled else None,
                     "rows": unlabelled},  # fmt: skip
    }


def write_report(report: dict, out_dir: Path) -> None:
    """report.json and confusion.png (the clips' confusion matrix) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    matrix = np.array(report["confusion"]["matrix"])
    top1 = report["clip_top1_all"]
    save_confusion_png(matrix, report["confusion"]["labels"], out_dir / "confusion.png", "held-out clips" + (f", top-1 {top1:.2f}" if top1 is not None else ""))


def format_report(report: dict) -> str:
    """A short human-readable summary of :func:`evaluate_tagger`'s or :func:`score_clips`'s report."""
    goal = report["clip_top1_goal_labels"]
    lines = []
    if "frame_mAP" in report:
        lines += [
            f"scenes: frame mAP {report['frame_mAP']:.3f}, macro-F1 {report['frame_macro_f1']:.3f}, "
            f"event F1 {report['event_f1']['macro']:.3f} (onset within {report['event_f1']['onset_tolerance_s']} s)",
            f"detection latency: median {report['detection_latency_median_s']} s, p90 {report['detection_latency_p90_s']} s "
            f"(onset error median {report['onset_error_median_s']} s)",
        ]
    if goal["clips"]:
        lines.append(f"clips: top-1 {goal['accuracy']:.3f} over {', '.join(goal['labels'])} ({goal['clips']} clips; "
                     f"{goal['balanced']:.3f} with each label weighted equally); all labels {report['clip_top1_all']:.3f}")  # fmt: skip
    elif report["clip_top1_all"] is not None:
        lines.append(f"clips: top-1 {report['clip_top1_all']:.3f} over all labels")
    scenes = "per_class" in report
    lines.append(f"{'label':<10}" + (f"{'AP':>7}{'F1':>7}{'event F1':>10}" if scenes else "") + f"{'clips':>7}{'top-1':>7}  most often taken for")
    per_class, per_clip = report.get("per_class", {}), report["clip_per_label"]
    for label in [lab for lab in report["confusion"]["labels"] if lab in per_class or lab in per_clip]:
        row = f"{label:<10}"
        if scenes:
            v = per_class.get(label, {"ap": float("nan"), "f1": float("nan")})
            ev = report["event_f1"]["per_class"].get(label, {}).get("f1", float("nan"))
            row += f"{v['ap']:>7.3f}{v['f1']:>7.3f}{ev:>10.3f}"
        clip = per_clip.get(label, {"clips": 0, "top1": float("nan")})
        wrong = Counter(r["top"] for r in report["clips"] if r["label"] == label and r["top"] != label).most_common(2)
        lines.append(row + f"{clip['clips']:>7}{clip['top1']:>7.3f}  " + ", ".join(f"{k} ({n})" for k, n in wrong))
    none = report.get("no_label", {"clips": 0})
    if none["clips"]:
        wrong = Counter(label for row in none["rows"] for label in row["events"]).most_common(3)
        lines.append(f"{NO_LABEL:<10}" + " " * (24 if scenes else 0) + f"{none['clips']:>7}{none['without_events']:>7.3f}  (share without "
                     "events of a sound; events: " + (", ".join(f"{k} ({n})" for k, n in wrong) or "none") + ")")  # fmt: skip
    return "\n".join(lines)
