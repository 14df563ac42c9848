import numpy as np

from streamdl.dsp.conceal import FADE_S, FADE_START_S, READY_S, ReadyContinuation, extension, pitch_period

RATE = 16000


def _tone(n: int, period: int = 100) -> np.ndarray:
    t = np.arange(n)
    return (0.3 * np.sin(2 * np.pi * t / period) + 0.1 * np.sin(4 * np.pi * t / period + 1)).astype(np.float32)


def test_pitch_period_finds_the_period():
    lag, correlation = pitch_period(_tone(480).astype(np.float64), 40, 200)
    assert lag == 100 and correlation > 0.99


def test_extension_repeats_then_fades_to_silence():
    period = np.arange(1.0, 6.0)
    out = extension(period, 3, 12, 10, 4)
    np.testing.assert_array_equal(out[:7], [4, 5, 1, 2, 3, 4, 5])
    assert out[7] == 1.0 and out[8] == 2 * 0.75 and out[-1] == 0.0  # the fade starts at offset 10: silent from 14


def _callback_buffers(ready: ReadyContinuation, real: list[np.ndarray | None], block: int = 160) -> np.ndarray:
    """What a callback plays, block by block: a real block, or None where the worker was late."""
    played = []
    for data in real:
        out = np.zeros((block, 1), np.float32)
        if data is not None:
            out[:, 0] = data
        ready.play(out, 0, block if data is not None else 0)
        played.append(out[:, 0])
    return np.concatenate(played)


def test_a_late_worker_is_covered_by_the_tone_continued_then_faded():
    x = _tone(8000)
    ready = ReadyContinuation(RATE, 1)
    ready.follow(x[:1600])
    played = _callback_buffers(ready, [None] * (int(READY_S * RATE) // 160 + 2))  # later than the continuation reaches
    np.testing.assert_allclose(played[: int(FADE_START_S * RATE)], x[1600 : 1600 + int(FADE_START_S * RATE)], atol=1e-5)
    assert played[int(FADE_START_S * RATE) :].any() and not played[int((FADE_START_S + FADE_S) * RATE) :].any()


def test_real_output_after_a_continuation_is_crossfaded_in_and_then_left_alone():
    x = _tone(8000)
    ready = ReadyContinuation(RATE, 1)
    ready.follow(x[:1600])
    played = _callback_buffers(ready, [None, x[1760:1920], x[1920:2080]])
    np.testing.assert_allclose(played[:320], x[1600:1920], atol=1e-5)  # a tone crossfaded into itself stays the tone
    np.testing.assert_array_equal(played[320:], x[1920:2080])


def test_what_is_not_periodic_is_not_repeated_and_after_the_end_comes_silence():
    clicks = np.zeros(2000, np.float32)
    clicks[::700] = 0.9
    ready = ReadyContinuation(RATE, 1)
    ready.follow(clicks)
    assert not _callback_buffers(ready, [None]).any()
    ready.follow(_tone(1600))
    ready.clear()
    assert not _callback_buffers(ready, [None]).any()
