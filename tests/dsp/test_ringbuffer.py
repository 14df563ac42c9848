import threading
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdl.dsp.ringbuffer import RingBuffer
from streamdl.errors import StreamdlError


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 64),
    channels=st.integers(1, 3),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 80)), max_size=60),
)
def test_matches_a_queue_model(capacity, channels, ops):
    """Any sequence of reads and writes of any size behaves like a bounded FIFO that drops the newest."""
    rb = RingBuffer(capacity, channels)
    model: deque = deque()
    counter = 0
    overflow = underflow = 0
    for is_write, n in ops:
        if is_write:
            block = np.arange(counter, counter + n, dtype=np.float32)[:, None].repeat(channels, 1)
            counter += n
            stored = rb.write(block)
            fits = min(n, capacity - len(model))
            assert stored == fits
            model.extend(block[:fits, 0])
            overflow += n - fits
        else:
            out = np.full((n, channels), -1.0, dtype=np.float32)
            got = rb.read(out)
            expect = [model.popleft() for _ in range(min(n, len(model)))]
            assert got == len(expect)
            np.testing.assert_array_equal(out[:got, 0], expect)
            assert (out[got:] == 0).all()
            underflow += n - got
        assert rb.readable == len(model)
        assert rb.writable == capacity - len(model)
    assert rb.overflow_frames == overflow
    assert rb.underflow_frames == underflow


def test_mono_blocks_and_skip():
    rb = RingBuffer(8)
    rb.write(np.arange(6, dtype=np.float32))
    assert rb.skip(4) == 4
    rb.write(np.arange(6, 12, dtype=np.float32))  # wraps around
    out = np.zeros((8, 1), np.float32)
    assert rb.read(out) == 8
    np.testing.assert_array_equal(out[:, 0], np.arange(4, 12))
    assert rb.skip(3) == 0


@pytest.mark.parametrize("capacity, channels", [(0, 1), (4, 0)])
def test_bad_sizes(capacity, channels):
    with pytest.raises(StreamdlError):
        RingBuffer(capacity, channels)


def _pump(total: int, sizes: list[int], ready, move) -> None:
    """Move ``total`` frames in blocks cycling through ``sizes``, as far as ``ready()`` allows each time."""
    pos = i = 0
    while pos < total:
        n = min(sizes[i % len(sizes)], total - pos, ready())
        i += 1
        if n:
            assert move(pos, n) == n
            pos += n


def test_two_threads_every_sample_once_in_order():
    """A producer and a consumer on separate threads, odd block sizes, a small buffer: nothing lost."""
    total = 400_000
    rb = RingBuffer(1021, 2)
    received = np.empty((total, 2), np.float32)
    signal = np.stack([np.arange(total), -np.arange(total)], 1).astype(np.float32)
    produce = threading.Thread(target=_pump, args=(total, [1, 7, 64, 160, 333, 512], lambda: rb.writable, lambda p, n: rb.write(signal[p : p + n])))
    consume = threading.Thread(target=_pump, args=(total, [3, 160, 257, 1000], lambda: rb.readable, lambda p, n: rb.read(received[p : p + n])))
    for t in (produce, consume):
        t.start()
    for t in (produce, consume):
        t.join(timeout=120)
    assert not produce.is_alive() and not consume.is_alive()
    np.testing.assert_array_equal(received, signal)
    assert rb.overflow_frames == 0 and rb.underflow_frames == 0
