"""Tagger metrics: frame mAP and F1, clip confusion, event-based F1 with an onset tolerance."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """Area under the precision-recall curve for one label (scores, targets: (N,)); NaN without positives."""
    positives = targets.sum()
    if positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    hits = targets[order] > 0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].sum() / positives)


def f1(pred: np.ndarray, targets: np.ndarray) -> float:
    """F1 of 0/1 predictions; NaN when there are neither positives nor predictions."""
    tp = float((pred & targets).sum())
    denom = float(pred.sum() + targets.sum())
    return float("nan") if denom == 0 else 2 * tp / denom


def frame_metrics(probs: np.ndarray, targets: np.ndarray, labels: tuple[str, ...], threshold: float = 0.5) -> dict:
    """probs, targets (frames, labels) -> {"mAP", "macro_f1", "per_class": {label: {"ap", "f1", "frames"}}}.

    Means are over labels that occur in ``targets``.
    """
    per_class = {}
    for i, label in enumerate(labels):
        t = targets[:, i] > 0.5
        per_class[label] = {"ap": average_precision(probs[:, i], t), "f1": f1(probs[:, i] >= threshold, t), "frames": int(t.sum())}
    present = [v for v in per_class.values() if v["frames"]]
    return {"mAP": float(np.mean([v["ap"] for v in present])), "macro_f1": float(np.mean([np.nan_to_num(v["f1"]) for v in present])),
            "per_class": per_class}  # fmt: skip


def confusion(true: list[str], predicted: list[str], labels: tuple[str, ...]) -> np.ndarray:
    """Counts (labels, labels): row = true label of a clip, column = the tagger's top label."""
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(true, predicted):
        matrix[labels.index(t), labels.index(p)] += 1
    return matrix


def save_confusion_png(matrix: np.ndarray, labels: tuple[str, ...], path: Path, title: str = "") -> None:
    """The confusion matrix as a PNG (rows normalised; counts written in the cells)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.flatnonzero(matrix.sum(1))
    norm = matrix[rows] / matrix[rows].sum(1, keepdims=True)
    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(labels), max(3.0, 1 + 0.45 * len(rows))))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(rows)), [labels[r] for r in rows])
    for (i, j), count in np.ndenumerate(matrix[rows]):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("tagger's top label")
    ax.set_ylabel("true label")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def event_f1(reference: list[dict], detected: list[dict], tolerance_s: float = 0.2) -> dict:
    """Event-based F1: a detection matches an unmatched reference event of its label whose onset
    is within ``tolerance_s``. Events are dicts with "label" and "onset_s".
    Returns {"f1", "precision", "recall", "onset_delays_s": [detected - true onset per match]}.
    """
    used = set()
    delays = []
    for d in sorted(detected, key=lambda e: e["onset_s"]):
        best = None
        for i, r in enumerate(reference):
            if i not in used and r["label"] == d["label"] and abs(d["onset_s"] - r["onset_s"]) <= tolerance_s:
                if best is None or abs(d["onset_s"] - r["onset_s"]) < abs(d["onset_s"] - reference[best]["onset_s"]):
                    best = i
        if best is not None:
            used.add(best)
            delays.append(d["onset_s"] - reference[best]["onset_s"])
    tp = len(used)
    precision = tp / len(detected) if detected else float("nan")
    recall = tp / len(reference) if reference else float("nan")
    score = 2 * tp / (len(detected) + len(reference)) if detected or reference else float("nan")
    return {"f1": score, "precision": precision, "recall": recall, "onset_delays_s": delays}
