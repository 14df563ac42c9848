import numpy as np

from streamdl.dsp.conceal import FADE_S, FADE_START_S, Concealer, extension, pitch_period

RATE = 16000


def _tone(n: int, period: int = 100) -> np.ndarray:
    t = np.arange(n)
    return (0.3 * np.sin(2 * np.pi * t / period) + 0.1 * np.sin(4 * np.pi * t / period + 1)).astype(np.float32)


def test_pitch_period_finds_the_period():
    lag, correlation = pitch_period(_tone(480).astype(np.float64), 40, 200)
    assert lag == 100 and correlation > 0.99


def test_what_is_not_periodic_is_not_repeated():
    clicks = np.zeros(2000, np.float32)
    clicks[::700] = 0.9
    concealer = Concealer(RATE, blend=80)
    concealer.played(clicks)
    assert not concealer.missing(160).any()


def test_extension_repeats_then_fades_to_silence():
    period = np.arange(1.0, 6.0)
    out = extension(period, 3, 12, 10, 4)
    np.testing.assert_array_equal(out[:7], [4, 5, 1, 2, 3, 4, 5])
    assert out[7] == 1.0 and out[8] == 2 * 0.75 and out[-1] == 0.0  # the fade starts at offset 10: silent from 14


def test_a_missing_stretch_continues_the_tone_and_the_return_is_crossfaded():
    x = _tone(4000)
    concealer = Concealer(RATE, blend=80)
    concealer.played(x[:1600].copy())
    filled = concealer.missing(80)  # the continuation stays at full level until the crossfade is over
    np.testing.assert_allclose(filled, x[1600:1680], atol=1e-5)  # a steady tone continues exactly
    back = concealer.played(x[1680:2000].copy())
    np.testing.assert_allclose(back, x[1680:2000], atol=1e-5)  # crossfading a tone into itself changes nothing
    long = concealer.missing(int((FADE_START_S + FADE_S) * RATE) + 100)
    assert np.abs(long[-100:]).max() == 0.0  # a long loss fades to silence
