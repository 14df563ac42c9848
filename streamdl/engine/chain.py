"""The processing chain: hop in, input stages, STFT, spectral stages in order, side taps, inverse STFT, signal stages, hop out.

The same chain object serves live devices (one hop per worker iteration) and files or arrays
(:func:`process_signal` runs it as fast as it goes), so file output is exactly what a listener
of the live stream hears.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from streamdl.dsp.stft import STFTConfig, StreamingISTFT, StreamingSTFT, warmup

SpectralStage = Callable[[np.ndarray], np.ndarray]  # complex64 (n_bins,) -> complex64 (n_bins,)
SignalStage = Callable[[np.ndarray], np.ndarray]  # float32 (hop,) -> float32 (hop,), ``delay_samples`` later (the repair, the codec)
Tap = Callable[[np.ndarray], None]  # sees each input spectrum frame; returns nothing
Part = Callable[[np.ndarray], np.ndarray | None]  # any of the above, or the STFT / inverse STFT


def part_name(part) -> str:
    """A chain part's name: its ``name`` attribute (model stages: their kind), else its class name."""
    return getattr(part, "name", type(part).__name__)


class Chain:
    """float32 (hop,) in -> float32 (hop,) out at ``config.sample_rate``.

    Output sample i is input sample i - ``delay_samples`` (for pass-through, exactly): the STFT's
    frame less one hop, plus each signal stage's ``delay_samples`` (the repair's lookahead before the
    STFT, the codec's after the inverse STFT).
    Algorithmic latency: ``algorithmic_latency_ms``, one STFT frame plus those delays.
    Signal stages run whether or not the spectral stages are ``enabled``: they carry the sound (a
    codec), and skipping them would move it in time.
    """

    def __init__(self, config: STFTConfig = STFTConfig(), stages: list[SpectralStage] = (), taps: list[Tap] = (),
                 output_taps: list[Tap] = (), signal_stages: list[SignalStage] = (), input_stages: list[SignalStage] = ()):  # fmt: skip
        warmup(config)
        self.config = config
        self.stages = list(stages)
        self.taps = list(taps)  # see each input frame
        self.output_taps = list(output_taps)  # see each output frame (after the stages, enabled or not)
        self.signal_stages = list(signal_stages)  # after the inverse STFT
        self.input_stages = list(input_stages)  # before the STFT
        self.stft = StreamingSTFT(config)
        self.istft = StreamingISTFT(config)
        self.enabled = True  # False: stages are skipped (instant A/B), taps still run

    @property
    def hop(self) -> int:
        return self.config.hop

    @property
    def _signal_delay(self) -> int:
        return sum(stage.delay_samples for stage in self.input_stages + self.signal_stages)

    @property
    def delay_samples(self) -> int:
        return self.config.delay_samples + self._signal_delay

    @property
    def algorithmic_latency_ms(self) -> float:
        return self.config.algorithmic_latency_ms + 1000.0 * self._signal_delay / self.config.sample_rate

    def named(self, name: str):
        """The stage or tap called ``name`` (e.g. "tagger"), or None."""
        parts = self.input_stages + self.taps + self.stages + self.output_taps + self.signal_stages
        return next((part for part in parts if part_name(part) == name), None)

    def process(self, x: np.ndarray) -> np.ndarray:
        """One hop; the returned array is reused by the next call."""
        for stage in self.input_stages:
            x = stage(x)
        spec = self.stft(x)
        for tap in self.taps:
            tap(spec)
        if self.enabled:
            for stage in self.stages:
                spec = stage(spec)
        for tap in self.output_taps:
            tap(spec)
        out = self.istft(spec)
        for stage in self.signal_stages:
            out = stage(out)
        return out

    def instrument(self, wrap: Callable[[str, Part], Part]) -> None:
        """Put every part (each input stage, the STFT, each tap, each stage, each output tap, the inverse STFT, each signal stage) behind
        ``wrap(name, part)``, which returns what :meth:`process` calls instead: a hook for timing
        (``streamdl bench``) or tracing that leaves :meth:`process` itself as it is. A wrapper should
        pass other attributes (``reset``) through to its part."""
        self.input_stages = [wrap(part_name(stage), stage) for stage in self.input_stages]  # in the order process() calls them
        self.stft = wrap("stft", self.stft)
        self.taps = [wrap(part_name(tap), tap) for tap in self.taps]
        self.stages = [wrap(part_name(stage), stage) for stage in self.stages]
        self.output_taps = [wrap(part_name(tap), tap) for tap in self.output_taps]
        self.istft = wrap("istft", self.istft)
        self.signal_stages = [wrap(part_name(stage), stage) for stage in self.signal_stages]

    def reset(self) -> None:
        self.stft.reset()
        self.istft.reset()
        for part in self.input_stages + self.stages + self.taps + self.output_taps + self.signal_stages:
            if hasattr(part, "reset"):
                part.reset()


def process_signal(chain: Chain, x: np.ndarray) -> np.ndarray:
    """Run a mono float32 signal (samples,) through a fresh chain; delay-compensated, same length.

    Output sample i lines up with input sample i: the chain's delay is flushed with zeros and cut
    from the front.
    """
    streamer = Streamer(chain)
    streamer.reset()
    y = np.concatenate([streamer.feed(x), streamer.flush()])
    return y[chain.delay_samples : chain.delay_samples + len(x)]


class Streamer:
    """Blocks of any size in, processed samples out, for callers holding arrays (mono float32).

    ``feed`` returns every output sample that is complete so far (a multiple of the hop);
    ``flush`` pushes the chain's delay through and returns the rest, so that the
    concatenation of all outputs, minus the first ``delay_samples``, lines up with the input.
    """

    def __init__(self, chain: Chain):
        self.chain = chain
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, block: np.ndarray) -> np.ndarray:
        data = np.concatenate([self._pending, np.asarray(block, dtype=np.float32).reshape(-1)])
        hop = self.chain.hop
        n = len(data) // hop * hop
        out = np.empty(n, dtype=np.float32)
        for start in range(0, n, hop):
            out[start : start + hop] = self.chain.process(data[start : start + hop])
        self._pending = data[n:]
        return out

    def flush(self) -> np.ndarray:
        """Zero-pad the pending samples and push the chain's delay out."""
        tail = self.chain.delay_samples + len(self._pending)
        return self.feed(np.zeros(-(-tail // self.chain.hop) * self.chain.hop - len(self._pending), dtype=np.float32))

    def reset(self) -> None:
        self.chain.reset()
        self._pending = np.zeros(0, dtype=np.float32)
