import numpy as np
import pytest

from streamdl.dsp.stft import STFTConfig
from streamdl.engine.chain import Chain, Streamer, process_signal


@pytest.fixture(scope="module")
def signal():
    return (0.3 * np.random.default_rng(0).standard_normal(20011)).astype(np.float32)


def test_pass_through_is_an_identity(signal):
    np.testing.assert_allclose(process_signal(Chain(), signal), signal, atol=1e-6)


@pytest.mark.parametrize("block", [1, 64, 65, 160, 161, 1009, 8193])
def test_any_block_size_gives_the_whole_signal_result(signal, block):
    chain = Chain(stages=[lambda spec: spec * np.float32(0.5)])
    whole = process_signal(chain, signal)
    streamer = Streamer(chain)
    streamer.reset()
    out = np.concatenate([streamer.feed(signal[i : i + block]) for i in range(0, len(signal), block)] + [streamer.flush()])
    np.testing.assert_array_equal(out[chain.delay_samples : chain.delay_samples + len(signal)], whole)


def test_disabled_chain_skips_stages_but_runs_taps(signal):
    seen = []
    chain = Chain(stages=[lambda spec: spec * 0], taps=[lambda spec: seen.append(1)])
    chain.enabled = False
    np.testing.assert_allclose(process_signal(chain, signal), signal, atol=1e-6)
    assert len(seen) > 0


def test_other_frame_sizes():
    config = STFTConfig(n_fft=512, hop=128)
    x = np.random.default_rng(1).standard_normal(5000).astype(np.float32) * 0.1
    np.testing.assert_allclose(process_signal(Chain(config), x), x, atol=1e-6)


class _Gain:
    def __init__(self, gain: float):
        self.gain = np.float32(gain)

    def __call__(self, spec):
        return spec * self.gain


def test_a_hook_on_every_part_sees_each_hop_in_order_and_changes_nothing():
    x = (0.1 * np.random.default_rng(1).standard_normal(1600)).astype(np.float32)
    plain = process_signal(Chain(stages=[_Gain(0.5)]), x)
    calls = []

    def hook(name, part):
        def call(frame):
            calls.append(name)
            return part(frame)

        call.reset = getattr(part, "reset", lambda: None)
        return call

    chain = Chain(stages=[_Gain(0.5)], taps=[lambda spec: None])
    chain.instrument(hook)
    np.testing.assert_array_equal(process_signal(chain, x), plain)
    assert calls[:4] == ["stft", "function", "_Gain", "istft"]


class _Delay:
    """A signal stage that plays its input ``delay_samples`` late, and says so."""

    delay_samples = 37

    def __init__(self):
        self.reset()

    def __call__(self, x):
        self.line = np.concatenate([self.line, x])
        out, self.line = self.line[: len(x)], self.line[len(x) :]
        return out

    def reset(self):
        self.line = np.zeros(self.delay_samples, np.float32)


def test_a_signal_stage_runs_after_the_inverse_stft_and_its_delay_is_compensated():
    x = (0.1 * np.random.default_rng(2).standard_normal(1600)).astype(np.float32)
    chain = Chain(signal_stages=[_Delay()])
    assert chain.delay_samples == 160 + 37 and chain.algorithmic_latency_ms == 20.0 + 1000 * 37 / 16000
    chain.enabled = False  # signal stages carry the sound: they run anyway, so the delay holds
    np.testing.assert_allclose(process_signal(chain, x), x, atol=1e-6)


def test_an_input_stage_runs_before_the_stft_and_its_delay_is_compensated():
    x = (0.1 * np.random.default_rng(3).standard_normal(1600)).astype(np.float32)
    chain = Chain(input_stages=[_Delay()])
    assert chain.delay_samples == 160 + 37 and chain.named("_Delay") is chain.input_stages[0]
    np.testing.assert_allclose(process_signal(chain, x), x, atol=1e-6)
    calls = []
    chain.instrument(lambda name, part: (lambda frame: calls.append(name) or part(frame)))
    chain.process(x[:160])
    assert calls == ["_Delay", "stft", "istft"]
