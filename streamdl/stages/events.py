"""Turning per-frame label probabilities into timed events: smoothing, hysteresis, minimum durations.

Per label: probabilities are smoothed with a one-pole average (time constant ``smoothing_s``);
an event starts when the smoothed value has stayed at or above the label's *on* threshold for
``min_on_s`` (its onset is the first of those frames) and ends once it has stayed below the
*off* threshold for ``min_off_s`` (its offset is the first of those frames). Separate on and off
thresholds keep a label hovering near one threshold from flickering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventConfig:
    frame_s: float = 0.02  # time between probability frames
    smoothing_s: float = 0.04
    on: float = 0.5
    off: float = 0.3
    min_on_s: float = 0.06  # an onset is confirmed after this long above `on`
    min_off_s: float = 0.2  # an offset after this long below `off` (bridges short gaps)
    per_label: dict[str, tuple[float, float]] = field(default_factory=dict)  # label -> (on, off) overrides


@dataclass
class _Track:
    smoothed: float = 0.0
    active: bool = False
    since: int = -1  # first frame of the current run above `on` (inactive) or below `off` (active)
    onset: int = 0
    peak: float = 0.0


def describe(event: dict) -> str:
    """One line for people: ``"    1.20 s           dog        started"`` or ``"    1.20 -     2.40 s  dog        ended (peak 0.91)"``."""
    if "offset_s" in event:
        return f"{event['onset_s']:8.2f} - {event['offset_s']:8.2f} s  {event['label']:<10} ended (peak {event['score']:.2f})"
    return f"{event['onset_s']:8.2f} s {'':>10} {event['label']:<10} started"


class EventDetector:
    """Feed probability frames in order; get events as they start and end.

    ``update(probs)`` returns a list of ``{"label", "onset_s"}`` dicts for events that just
    started and ``{"label", "onset_s", "offset_s", "score"}`` for events that just ended
    (score: the highest smoothed probability during the event). ``flush()`` ends open events.
    """

    def __init__(self, labels: tuple[str, ...], config: EventConfig = EventConfig()):
        self.labels, self.config = labels, config
        self.alpha = 1.0 - math.exp(-config.frame_s / config.smoothing_s) if config.smoothing_s > 0 else 1.0
        self.thresholds = [config.per_label.get(label, (config.on, config.off)) for label in labels]
        self.min_on = max(1, round(config.min_on_s / config.frame_s))
        self.min_off = max(1, round(config.min_off_s / config.frame_s))
        self.reset()

    def reset(self) -> None:
        self.frame = 0
        self.tracks = [_Track() for _ in self.labels]

    def _time(self, frame: int) -> float:
        return round(frame * self.config.frame_s, 3)

    def _end(self, label: str, t: _Track, offset: int) -> dict:
        t.active = False
        t.since = -1
        return {"label": label, "onset_s": self._time(t.onset), "offset_s": self._time(offset), "score": round(t.peak, 3)}

    def update(self, probs) -> list[dict]:
        """One frame of probabilities (len(labels),) -> events that started or ended at this frame."""
        events = []
        for label, t, (on, off), p in zip(self.labels, self.tracks, self.thresholds, probs):
            t.smoothed += self.alpha * (float(p) - t.smoothed)
            if not t.active:
                if t.smoothed >= on:
                    t.since = self.frame if t.since < 0 else t.since
                    if self.frame - t.since + 1 >= self.min_on:
                        t.active, t.onset, t.peak, t.since = True, t.since, t.smoothed, -1
                        events.append({"label": label, "onset_s": self._time(t.onset)})
                else:
                    t.since = -1
            else:
                t.peak = max(t.peak, t.smoothed)
                if t.smoothed < off:
                    t.since = self.frame if t.since < 0 else t.since
                    if self.frame - t.since + 1 >= self.min_off:
                        events.append(self._end(label, t, t.since))
                else:
                    t.since = -1
        self.frame += 1
        return events

    def flush(self) -> list[dict]:
        """End every open event at the current time (end of a file or stream)."""
        return [self._end(label, t, t.since if t.since >= 0 else self.frame) for label, t in zip(self.labels, self.tracks) if t.active]
