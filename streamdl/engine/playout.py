"""Playout of a queue that another clock fills, at a delay that does not grow.

A virtual microphone is played on the sound server's clock while a capture device fills the queue on
its own. When the server's clock runs slower, frames pile up; when a callback finds the queue short
(an underrun: the worker was late), zeros are played and every later frame arrives that much later.
Either way the delay would grow and stay. :class:`SteadyPlayout` holds it: beyond ``ceiling`` frames
left after a callback it drops the excess at once, and after a whole window in which the queue never
fell to its settled level (the least it held over the first windows) it drops the surplus too. Frames
are dropped with a short crossfade into what follows, so no click is heard.
"""

from __future__ import annotations

import numpy as np

from streamdl.dsp.ringbuffer import RingBuffer

FADE_FRAMES = 64  # crossfade over a drop: 1.3 ms at 48 kHz
SETTLE_WINDOWS = 2  # windows whose least spare fill sets the level to come back to


class SteadyPlayout:
    """Reads ``ring`` (frames, channels) into each output block at a steady delay.

    Args:
        ring: the queue the worker writes, at the device rate.
        ceiling: the most frames that may stay queued after a callback (the prefill).
        window: frames of output per window (about a second).
        tolerance: surplus frames over the settled level that are left alone.
    Counts ``skipped`` frames. Runs in the audio callback: no allocation, no lock.
    """

    def __init__(self, ring: RingBuffer, ceiling: int, window: int, tolerance: int):
        self.ring, self.ceiling, self.window, self.tolerance = ring, ceiling, window, tolerance
        self.skipped = 0
        self.settled: int | None = None  # the least spare fill over the first windows
        self._low, self._played, self._windows = ceiling, 0, 0  # the current window's least spare fill, its frames
        self._tail = np.zeros((FADE_FRAMES, ring.channels), np.float32)
        self._fade_in = ((np.arange(FADE_FRAMES, dtype=np.float32) + 0.5) / FADE_FRAMES)[:, None]
        self._fade_out = 1.0 - self._fade_in

    def play(self, outdata: np.ndarray) -> None:
        """Fill ``outdata`` (frames, channels): queued frames, zeros when the queue runs dry."""
        frames = len(outdata)
        spare = self.ring.readable - frames  # left queued after this block
        drop = spare - self.ceiling
        self._low = min(self._low, spare)
        self._played += frames
        if self._played >= self.window:
            drop = max(drop, self._end_window())  # a new window starts from the ceiling
        elif drop > 0:
            self._low -= drop  # the window's fill so far, as if dropped from the start
        if drop > 0:
            self._drop(drop)
        got = self.ring.read(outdata)
        if drop > 0 and got >= FADE_FRAMES:  # from the frames that would have come next into those after the drop
            if drop < FADE_FRAMES:  # which go on into the frames after it
                self._tail[drop:] = outdata[: FADE_FRAMES - drop]
            np.multiply(outdata[:FADE_FRAMES], self._fade_in, out=outdata[:FADE_FRAMES])
            np.multiply(self._tail, self._fade_out, out=self._tail)
            np.add(outdata[:FADE_FRAMES], self._tail, out=outdata[:FADE_FRAMES])

    def _end_window(self) -> int:
        """Frames to drop at the end of a window: its surplus over the settled level, or 0."""
        low, self._low, self._played = self._low, self.ceiling, 0
        self._windows += 1
        if self._windows <= SETTLE_WINDOWS:
            self.settled = low if self.settled is None else min(self.settled, low)
            return 0
        surplus = low - max(self.settled, 0)
        return surplus if surplus > self.tolerance else 0

    def _drop(self, frames: int) -> None:
        """Skip ``frames`` queued frames, keeping the first of them (the fade's source) in ``_tail``."""
        keep = min(frames, FADE_FRAMES)
        self.ring.read(self._tail[:keep])
        self.skipped += keep + self.ring.skip(frames - keep)
