"""SteadyPlayout: a queue filled on one clock, played on another, at a delay that does not grow."""

import numpy as np

from streamdl.dsp.ringbuffer import RingBuffer
from streamdl.engine.playout import FADE_FRAMES, SteadyPlayout

RATE = 48000
HOP = 480  # the worker writes whole hops
QUANTUM = 512  # the server reads blocks of its own size
PREFILL = QUANTUM + HOP


def _run(playout: SteadyPlayout, ring: RingBuffer, seconds: float, stall_at: float | None = None, stall: int = 0):
    """Write a 220 Hz tone hop by hop and play it block by block on a clock 0.1 % slower than the writer's; the writer stalls
    ``stall`` frames at ``stall_at`` s and then catches up. Returns the played signal and the spare fill after each block."""
    tone = np.sin(2 * np.pi * 220 * np.arange(int(seconds * RATE) + RATE) / RATE).astype(np.float32)[:, None]
    ring.write(np.zeros((PREFILL, 1), np.float32))
    written, out, spare = 0, [], []
    played = 0
    while played < seconds * RATE:
        due = int(played * 1.001) + QUANTUM  # the writer's clock runs 0.1 % faster than the reader's
        if stall_at is not None and stall_at * RATE <= played < stall_at * RATE + stall:
            due -= stall
        while written + HOP <= due:
            ring.write(tone[written : written + HOP])
            written += HOP
        block = np.zeros((QUANTUM, 1), np.float32)
        playout.play(block)
        out.append(block)
        spare.append(ring.readable)
        played += QUANTUM
    return np.concatenate(out)[:, 0], np.array(spare)


def _make():
    ring = RingBuffer(RATE, 1)
    return SteadyPlayout(ring, PREFILL, window=RATE, tolerance=HOP // 4), ring


def test_steady_clocks_drop_nothing_once_settled():
    playout, ring = _make()
    _, spare = _run(playout, ring, 10.0)
    assert spare.max() <= PREFILL
    late = spare[len(spare) // 2 :]
    assert late.max() - late.min() <= QUANTUM + HOP  # the fill only jitters by the blocks' phases


def test_an_underrun_leaves_no_lasting_delay():
    playout, ring = _make()
    out, spare = _run(playout, ring, 8.0, stall_at=3.0, stall=2 * QUANTUM)  # the worker 21 ms late once
    blocks_per_s = RATE // QUANTUM
    before = spare[2 * blocks_per_s : 3 * blocks_per_s].min()
    after = spare[6 * blocks_per_s :].min()
    assert abs(after - before) <= HOP // 4, (before, after)
    assert playout.skipped > 0


def test_drops_are_crossfaded():
    playout, ring = _make()
    out, _ = _run(playout, ring, 8.0, stall_at=3.0, stall=2 * QUANTUM)
    step = np.abs(np.diff(out[RATE:]))  # after the prefill's zeros
    tone_step = 2 * np.pi * 220 / RATE
    silent = np.abs(out[RATE:]) < 1e-6  # the underrun's zeros are the worker's gap, not a drop
    edges = np.convolve(silent, np.ones(3), "same")[:-1] > 0
    assert step[~edges].max() < 4 * tone_step


def test_a_full_queue_is_cut_to_the_ceiling_at_once():
    playout, ring = _make()
    ring.write(np.ones((PREFILL + 3 * QUANTUM, 1), np.float32))
    block = np.zeros((QUANTUM, 1), np.float32)
    playout.play(block)
    assert ring.readable == PREFILL
    assert playout.skipped == 2 * QUANTUM  # one block of the four queued beyond it is played
    assert FADE_FRAMES <= QUANTUM
