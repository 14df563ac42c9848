import numpy as np
import pytest

from streamdl.assets import asset_path
from streamdl.data.damage import clipped, with_gaps
from streamdl.engine.chain import Chain, Streamer, process_signal
from streamdl.engine.files import read_mono
from streamdl.errors import StreamdlError
from streamdl.stages.repair import HEADROOM, StreamingRepair


@pytest.fixture(scope="module")
def speech():
    return read_mono(asset_path("sample_clean.flac"), 16000)[:48000]


def _repaired(x):
    return process_signal(Chain(input_stages=[StreamingRepair()]), x)


def _stage_alone(x):
    """``x`` through the stage by itself, delay removed: exact, with no STFT in the way."""
    stage = StreamingRepair()
    padded = np.concatenate([x, np.zeros(stage.delay_samples + 160 - len(x) % 160, np.float32)])
    return np.concatenate([stage(h) for h in padded.reshape(-1, 160)])[stage.delay_samples :][: len(x)]


def _snr(reference, estimate):
    return 10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate) ** 2))


def test_whole_speech_passes_bit_for_bit(speech):
    np.testing.assert_array_equal(_stage_alone(speech), speech)


def test_clipped_speech_comes_back_closer_to_the_original(speech):
    damaged = clipped(speech, 0.3 * np.abs(speech).max())
    stage = StreamingRepair()
    out = process_signal(Chain(input_stages=[stage]), damaged)
    assert stage.clipping == (True, True)
    assert _snr(speech, out) > _snr(speech, damaged) + 3.0


def test_saturated_speech_comes_back_closer_to_the_original_and_fits(speech):
    loud = speech / np.abs(speech).max() * 0.9
    damaged = clipped(loud, 0.25 * 0.9, soft=True)
    stage = StreamingRepair()
    out = _stage_alone(damaged)
    assert stage.clipping == (False, False)
    later = slice(len(speech) // 2, None)  # once the saturation is found and the gain has settled
    assert _snr(loud[later], out[later] * (loud[later] @ out[later]) / (out[later] @ out[later])) > _snr(loud[later], damaged[later]) + 6.0
    assert np.abs(out).max() <= 1.0


def test_hard_clipping_is_not_taken_for_saturation(speech):
    stage = StreamingRepair()
    process_signal(Chain(input_stages=[stage]), clipped(speech, 0.25 * np.abs(speech).max()))
    assert stage.clipping == (True, True) and stage.saturation_level == np.inf


def test_speech_clipped_at_full_scale_is_turned_down_to_fit(speech):
    damaged = clipped(speech / np.abs(speech).max() * 2.0, 1.0)
    stage = StreamingRepair()
    out = process_signal(Chain(input_stages=[stage]), damaged)
    assert stage.gain == pytest.approx(HEADROOM / 1.0, rel=1e-3)
    assert np.abs(out).max() <= 1.0
    later = slice(len(speech) // 2, None)  # long after the gain has settled
    assert _snr(speech[later], out[later] / stage.gain * np.abs(speech).max() / 2.0) > _snr(speech[later], damaged[later] * np.abs(speech).max() / 2.0) + 3.0


def test_gaps_are_filled_at_the_level_of_the_sound_around_them(speech):
    damaged = with_gaps(speech, 16000, np.random.default_rng(0), per_second=4.0)
    out = _stage_alone(damaged)
    gaps = (damaged == 0) & (speech != 0)
    assert 0.3 < np.sum(out[gaps] ** 2) / np.sum(speech[gaps] ** 2) < 2.0  # filled at about the level that was lost
    np.testing.assert_array_equal(out[~gaps], damaged[~gaps])  # the rest is left as it came


def test_silence_at_the_start_is_not_a_gap():
    x = np.concatenate([np.zeros(1600, np.float32), 0.1 * np.ones(800, np.float32)])
    np.testing.assert_array_equal(_stage_alone(x), x)


def test_silence_longer_than_a_gap_stays_silent(speech):
    stage = StreamingRepair()
    edited = speech.copy()
    edited[16000 : 16000 + stage.longest_gap + 1] = 0.0  # a pause cut in by an editor, not a dropout
    np.testing.assert_array_equal(_stage_alone(edited), edited)


@pytest.mark.parametrize("block", [1, 160, 161, 997, 8193])
def test_any_block_size_gives_the_whole_signal_result(speech, block):
    damaged = with_gaps(clipped(speech, 0.3 * np.abs(speech).max()), 16000, np.random.default_rng(1))
    _chunked_equals_whole(damaged, block)


@pytest.mark.parametrize("block", [1, 161, 8193])
def test_any_block_size_gives_the_whole_signal_result_when_saturated(speech, block):
    _chunked_equals_whole(with_gaps(clipped(speech, 0.2 * np.abs(speech).max(), soft=True), 16000, np.random.default_rng(2)), block)


def _chunked_equals_whole(damaged, block):
    whole = _repaired(damaged)
    chain = Chain(input_stages=[StreamingRepair()])
    streamer = Streamer(chain)
    streamer.reset()
    pieces = [streamer.feed(damaged[i : i + block]) for i in range(0, len(damaged), block)] + [streamer.flush()]
    np.testing.assert_array_equal(np.concatenate(pieces)[chain.delay_samples :][: len(damaged)], whole)


def test_a_lookahead_that_is_not_whole_hops_is_refused():
    with pytest.raises(StreamdlError, match="multiple of the hop"):
        StreamingRepair(lookahead=1000)
