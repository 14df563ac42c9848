"""Single-producer single-consumer ring buffer for audio blocks.

The producer (usually a PortAudio callback) calls :meth:`RingBuffer.write`; the consumer (the
worker thread, or an output callback) calls :meth:`RingBuffer.read` / :meth:`RingBuffer.skip`.
Neither side takes a lock or allocates sample memory: the storage is preallocated and each side
only advances its own counter, after the samples are copied. Overflows (frames that did not fit)
and underflows (frames asked for but missing) are counted, never raised, so the buffer is safe to
use inside an audio callback.
"""

from __future__ import annotations

import numpy as np

from streamdl.errors import StreamdlError


class RingBuffer:
    """Lock-free SPSC ring of float32 frames, shape (capacity, channels).

    Args:
        capacity: frames the buffer holds.
        channels: samples per frame.

    Overflow policy: a write that does not fit stores what fits and drops the newest frames,
    counting them in ``overflow_frames`` (the consumer owns the read position, so the producer
    may never discard old frames itself). A consumer that falls behind calls :meth:`skip`.
    Underflow: a read asking for more frames than are stored fills the rest with zeros and
    counts the missing frames in ``underflow_frames``.
    """

    def __init__(self, capacity: int, channels: int = 1):
        if capacity < 1 or channels < 1:
            raise StreamdlError(f"ring buffer needs capacity >= 1 and channels >= 1, got {capacity}, {channels}")
        self._buf = np.zeros((capacity, channels), dtype=np.float32)
        self.capacity = capacity
        self.channels = channels
        self._written = 0  # total frames ever written; only the producer changes it
        self._read = 0  # total frames ever read or skipped; only the consumer changes it
        self.overflow_frames = 0
        self.overflow_events = 0
        self.underflow_frames = 0
        self.underflow_events = 0

    @property
    def readable(self) -> int:
        """Frames stored and not yet read."""
        return self._written - self._read

    @property
    def writable(self) -> int:
        """Frames that fit before the buffer is full."""
        return self.capacity - (self._written - self._read)

    def write(self, block: np.ndarray) -> int:
        """Append ``block`` (frames, channels) or (frames,) for mono; return frames stored."""
        frames = len(block)
        n = min(frames, self.writable)
        if n < frames:
            self.overflow_frames += frames - n
            self.overflow_events += 1
        if n:
            start = self._written % self.capacity
            first = min(n, self.capacity - start)
            data = block.reshape(frames, -1) if block.ndim == 1 else block
            self._buf[start : start + first] = data[:first]
            self._buf[: n - first] = data[first:n]
            self._written += n  # publish only after the copy
        return n

    def read(self, out: np.ndarray) -> int:
        """Fill ``out`` (frames, channels) with the oldest frames; return frames read.

        Missing frames become zeros and count as underflow.
        """
        frames = len(out)
        n = min(frames, self.readable)
        if n:
            start = self._read % self.capacity
            first = min(n, self.capacity - start)
            out[:first] = self._buf[start : start + first]
            out[first:n] = self._buf[: n - first]
            self._read += n
        if n < frames:
            out[n:] = 0.0
            self.underflow_frames += frames - n
            self.underflow_events += 1
        return n

    def skip(self, frames: int) -> int:
        """Discard up to ``frames`` of the oldest frames (consumer side); return frames dropped."""
        n = min(frames, self.readable)
        self._read += n
        return n
