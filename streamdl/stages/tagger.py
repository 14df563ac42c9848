"""Running the tagger in the chain: a tap on the input spectrum, probabilities and events out.

The tagger sees what the microphone (or file) hears, before any denoising. It runs once per
``pool`` hops (every 20 ms); :attr:`StreamingTagger.probs` always holds the latest probabilities
and :attr:`StreamingTagger.events` collects events as they start and end, for readers on other
threads (the CLI, the demo window).
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from streamdl.engine.chain import Chain, process_signal
from streamdl.errors import StreamdlError
from streamdl.stages.base import ModelStage
from streamdl.stages.events import EventConfig, EventDetector

CLIP_TOP_FRACTION = 0.2  # a clip score is the mean of a label's highest 20% of frame probabilities
OFF_MARGIN = 0.2  # a calibrated label's off threshold sits this far below its on threshold


class StreamingTagger(ModelStage):
    """Chain tap at 16 kHz: each input STFT frame, complex64 (n_bins,), in; every ``pool`` frames a tagger step.

    Args:
        model: a :class:`~streamdl.models.tagger.Tagger`, its model file, or None for the shipped weights.
        device, backend: see :class:`~streamdl.stages.base.ModelStage` (the CRNN tagger has a Numba kernel).
        events: smoothing and thresholds of the event detector; labels it does not name use the
            model's calibrated on thresholds (``config.thresholds``) with off = on - 0.2.
        keep_history: also keep every probability frame (for whole-file clip scores).

    Latency: 30 ms algorithmic (the STFT frame and the second hop of a pair), plus the event
    detector's smoothing and ``min_on_s``.
    """

    kind = "tagger"

    def __init__(self, model=None, *, device: str = "cpu", backend: str = "auto",
                 events: EventConfig = EventConfig(), keep_history: bool = False):  # fmt: skip
        super().__init__(model, device=device, backend=backend)
        self._step = self._steps[0]
        self.labels = self.config.labels
        self.pool = self.config.pool
        stft = self.config.stft
        self.frame_s = self.pool * stft.hop / stft.sample_rate
        calibrated = {label: (on, max(0.05, on - OFF_MARGIN)) for label, on in zip(self.labels, self.config.thresholds)}
        self.detector = EventDetector(self.labels, dataclasses.replace(events, frame_s=self.frame_s, per_label={**calibrated, **events.per_label}))
        self._frames = np.zeros((1, *self.config.frame_shape), dtype=np.float32)
        self.keep_history = keep_history
        self.events: deque[dict] = deque(maxlen=10000)
        self.enabled = True
        self.restart()

    def reset(self) -> None:
        """A break in the stream (the chain resets after dropping hops): fresh model state, open
        events end; the clock, the history and unread events stay."""
        super().reset()
        self._count = 0
        self.probs = np.zeros(len(self.labels), dtype=np.float32)
        self.finish()

    def restart(self) -> None:
        """A new stream: everything from zero, time included."""
        self.reset()
        self.history: list[np.ndarray] = []
        self.detector.reset()
        self.events.clear()

    def __call__(self, spec: np.ndarray) -> None:
        if not self.enabled:
            return
        self._frames[0, self._count] = spec.view(np.float32).reshape(-1, 2)
        self._count += 1
        if self._count < self.pool:
            return
        self._count = 0
        out = self._step(self._frames)
        self.probs = np.asarray(out, dtype=np.float32).reshape(-1)
        if self.keep_history:
            self.history.append(self.probs)
        self.events.extend(self.detector.update(self.probs))

    def finish(self) -> None:
        """End open events (end of a file or stream)."""
        self.events.extend(self.detector.flush())


def clip_scores(history: np.ndarray, labels: tuple[str, ...]) -> dict[str, float]:
    """Clip scores from frame probabilities (frames, labels): a sound is in a clip if it is heard
    anywhere, so each label scores the mean of its highest ``CLIP_TOP_FRACTION`` of frames; a clip
    is silent only if it is silent throughout, so "silence" scores its mean over the whole clip."""
    if len(history) == 0:
        return dict.fromkeys(labels, 0.0)
    k = max(1, int(round(len(history) * CLIP_TOP_FRACTION)))
    scores = np.sort(history, axis=0)[-k:].mean(axis=0)
    if "silence" in labels:
        scores[labels.index("silence")] = history[:, labels.index("silence")].mean()
    return {label: round(float(v), 4) for label, v in zip(labels, scores)}


def tag_signal(tagger: StreamingTagger, x: np.ndarray, sample_rate: int = 16000, *, name: str = "the signal") -> dict:
    """Tag a mono float32 signal at the model's rate through the streaming chain.

    Returns {"duration_s", "clip_scores": {label: score}, "events": [{"label", "onset_s", "offset_s", "score"}]}.
    A signal shorter than one tagger frame (20 ms) has nothing to score: StreamdlError naming ``name``.
    """
    if len(x) < tagger.frame_s * sample_rate:
        raise StreamdlError(f"{name}: {len(x)} samples ({len(x) / sample_rate * 1000:.1f} ms) are shorter than one "
                            f"{tagger.frame_s * 1000:.0f} ms tagger frame; nothing to tag")  # fmt: skip
    tagger.keep_history = True
    tagger.restart()
    duration = round(len(x) / sample_rate, 3)
    process_signal(Chain(tagger.config.stft, taps=[tagger]), np.asarray(x, dtype=np.float32))
    tagger.finish()
    events = [{**e, "offset_s": min(e["offset_s"], duration)} for e in tagger.events if "offset_s" in e and e["onset_s"] < duration]
    frames = np.array(tagger.history[: int(len(x) / sample_rate / tagger.frame_s)])  # not the flushed tail
    return {"duration_s": duration, "clip_scores": clip_scores(frames, tagger.labels), "events": sorted(events, key=lambda e: (e["onset_s"], e["label"]))}
