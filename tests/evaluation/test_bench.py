import time

from streamdl.engine.chain import Chain
from streamdl.evaluation.bench import run_bench


class _EveryOtherHop:
    """A tap that, like the tagger, buffers one hop and works on the next: 1 ms of work every second call."""

    pool = 2
    name = "tap"

    def __init__(self):
        self.calls = 0

    def __call__(self, spec):
        self.calls += 1
        if self.calls % 2 == 0:
            end = time.perf_counter() + 1e-3
            while time.perf_counter() < end:
                pass


def test_a_pooled_tap_is_timed_on_the_hops_where_it_works():
    """Each hop runs once, so the tap's working hops are timed too: 1 ms every second hop is about
    0.5 ms per hop (never 0, never 1 ms), and it shows in the chain's total."""
    tap = _EveryOtherHop()
    report = run_bench(Chain(taps=[tap]), 3.0)
    assert tap.calls == 200 + 300  # the warm-up's hops, then each of the 300 timed hops once
    assert 450 < report["stages"]["tap"]["median_us"] < 900
    assert report["total"]["p99_us"] > 1000
