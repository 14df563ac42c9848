"""On-the-fly noisy/clean pairs for denoiser training, from a corpus built by :mod:`streamdl.data.corpus`.

Every pair is new: a random stretch of speech (speed-perturbed, EQ'd, sometimes band-limited or
reverberant) plus one or two noises (real recordings, music, or synthetic hum, drones, engines,
fans, coloured noise, water, wind, road traffic and babble), mixed at an SNR drawn from -5..20 dB
and set to a random level.
Shapes: ``pair()`` returns two float32 arrays (samples,) at 16 kHz: noisy input and clean target.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.signal as ss
import soxr

from streamdl.data.configs import MixConfig
from streamdl.errors import StreamdlError


class Pool:
    """Clips back to back as int16 (samples,), with offsets (clips + 1,) and names (clips,); read as float32 windows."""

    def __init__(self, audio: np.ndarray, offsets: np.ndarray, names: np.ndarray):
        self.audio, self.offsets, self.names = audio, offsets, names

    @classmethod
    def load(cls, path: Path) -> Pool:
        """One corpus pool file (e.g. speech_train.npz) written by 'streamdl data build'."""
        if not path.is_file():
            raise StreamdlError(f"{path}: corpus pool missing; build the corpus with 'streamdl data build' first")
        with np.load(path) as z:
            return cls(z["audio"], z["offsets"], z["names"])

    @classmethod
    def from_files(cls, folder: Path, sample_rate: int = 16000) -> Pool:
        """A pool of every audio file under ``folder`` (mono, ``sample_rate``): the user's own recordings."""
        from streamdl.dsp.resample import resample
        from streamdl.io.audiofile import find_audio_files, read_audio

        clips, names = [], []
        for path in find_audio_files(folder):
            audio, rate = read_audio(path)
            clips.append(np.round(np.clip(resample(audio.mean(axis=1), rate, sample_rate), -1, 1) * 32767).astype(np.int16))
            names.append(str(path.relative_to(folder)))
        return cls(np.concatenate(clips), np.concatenate([[0], np.cumsum([len(c) for c in clips])]), np.array(names))

    def window(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """A random stretch of n samples across clip boundaries (looping at the end)."""
        return self.named_window(rng, n)[0]

    def named_window(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, str]:
        """:meth:`window` and the name of the clip it starts in."""
        start = int(rng.integers(0, len(self.audio)))
        idx = (start + np.arange(n)) % len(self.audio)
        return self.audio[idx].astype(np.float32) / 32768.0, str(self.names[np.searchsorted(self.offsets, start, side="right") - 1])

    def clip(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n samples from one random clip, looped when the clip is shorter."""
        return self.named_clip(rng, n)[0]

    def named_clip(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, str]:
        """:meth:`clip` and the clip's name."""
        i = int(rng.integers(0, len(self.offsets) - 1))
        clip = self.audio[self.offsets[i] : self.offsets[i + 1]].astype(np.float32) / 32768.0
        start = int(rng.integers(0, len(clip)))
        return np.resize(np.roll(clip, -start), n), str(self.names[i])


def sped_up(read, rng: np.random.Generator, n: int, speed: float) -> np.ndarray:
    """n samples of ``read(rng, count)`` played ``speed`` times faster (pitch and pace together)."""
    if speed == 1.0:
        return read(rng, n)
    x = soxr.resample(read(rng, int(n * speed) + 64), speed, 1.0, quality="LQ")[:n]
    return np.pad(x, (0, n - len(x)))


def random_speed(rng: np.random.Generator, low_high: tuple[float, float]) -> float:
    """A resampling factor drawn log-uniformly from ``low..high`` (as likely halved as doubled)."""
    return float(np.exp(rng.uniform(*np.log(low_high))))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2) + 1e-12))


def _peaking_biquad(f0: float, q: float, gain_db: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ peaking EQ (b, a): stable for any q > 0 and 0 < f0 < sr / 2."""
    amp, w0 = 10 ** (gain_db / 40), 2 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * amp, -2 * np.cos(w0), 1 - alpha * amp])
    a = np.array([1 + alpha / amp, -2 * np.cos(w0), 1 - alpha / amp])
    return b / a[0], a / a[0]


def random_eq(rng: np.random.Generator, x: np.ndarray, sr: int) -> np.ndarray:
    """Two random peaks or notches of +-9 dB and a gentle spectral tilt."""
    for f0 in rng.uniform(80, sr / 2 - 500, size=2):
        x = ss.lfilter(*_peaking_biquad(f0, rng.uniform(0.5, 3.0), rng.uniform(-9, 9), sr), x)
    tilt = rng.uniform(-0.6, 0.6)
    return (ss.lfilter([1.0, -tilt], [1.0], x) / (1 + abs(tilt))).astype(np.float32)


def lowpass(x: np.ndarray, cutoff: float, sr: int) -> np.ndarray:
    return ss.sosfilt(ss.butter(6, cutoff, fs=sr, output="sos"), x).astype(np.float32)


def synthetic_wind(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Gusty wind: a howl (a broad band around 150-800 Hz, little above 4 kHz) or red-to-pink noise,
    under gusts 2-15 dB deep, sometimes whistling."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
    if rng.random() < 0.6:  # a howl, as recorded wind mostly sounds (OpenTTD's, OpenArena's)
        fc = np.exp(rng.uniform(np.log(150), np.log(800)))
        shape = 1 / (1 + (fc / f) ** 2) / (1 + (f / fc) ** rng.uniform(1.5, 3.0))
    else:
        shape = f ** (rng.uniform(-2.6, -1.0) / 2)
    if rng.random() < 0.4:  # a resonant whistle band
        fc = rng.uniform(300, 2000)
        shape = shape + rng.uniform(0.3, 2.0) * shape[np.searchsorted(f, fc)] * np.exp(-0.5 * ((f - fc) / (fc * 0.08)) ** 2)
    x = np.fft.irfft(spec * shape, n)
    gust = np.cumsum(rng.standard_normal(n // 800 + 2))
    gust = np.interp(np.arange(n), np.arange(len(gust)) * 800, gust - gust.mean())
    x = x * np.exp(rng.uniform(0.25, 1.7) * gust / (np.std(gust) + 1e-9))
    return (x / rms(x)).astype(np.float32)


def _shaped_noise(rng: np.random.Generator, n: int, sr: int, slope: float, band: tuple[float, float]) -> np.ndarray:
    """Noise with spectral slope ``slope`` (0 white, -1 pink) limited to ``band`` Hz (unit RMS)."""
    f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
    shape = f ** (slope / 2) / (1 + (band[0] / f) ** 4) / (1 + (f / band[1]) ** 4)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * shape, n)
    return x / rms(x)


def _scattered(rng: np.random.Generator, n: int, sr: int, rate: float, make: Callable[[], np.ndarray], *,
               sounds: int, spread: float) -> np.ndarray:
    """``sounds`` short sounds from ``make()``, each placed at its own random (Poisson) times with
    log-normal gains (sigma ``spread``), ``rate`` placements per second in all (n,), unit RMS."""
    out = np.zeros(n)
    for _ in range(sounds):
        template = make()
        hits = np.zeros(n)
        count = rng.poisson(rate * n / sr / sounds)
        hits[rng.integers(0, n, count)] = rng.lognormal(0, spread, count)
        out += ss.fftconvolve(hits, template)[:n]
    return out / (rms(out) + 1e-12)


def _bubbles(rng: np.random.Generator, n: int, sr: int, rate: float, freq: tuple[float, float]) -> np.ndarray:
    """Rising, decaying sine chirps (bubbles, drops) at ``rate`` per second, pitches log-uniform in ``freq`` Hz."""

    def bubble() -> np.ndarray:
        f0 = np.exp(rng.uniform(*np.log(freq)))
        tau = rng.uniform(0.003, 0.012) * (1000 / f0) ** 0.5
        t = np.arange(int(5 * tau * sr)) / sr
        return np.sin(2 * np.pi * f0 * (t + rng.uniform(0.5, 3.0) * t**2 / (2 * tau))) * np.exp(-t / tau)

    return _scattered(rng, n, sr, rate, bubble, sounds=24, spread=0.7)


def _breaking_waves(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Waves breaking every 4-10 s (each period +-20%): a 0.4-1.2 s swell, the crash, then a wash
    dying away with a time constant of 1.5-3.5 s (n,), 0..1. Lopsided in time, unlike a vehicle's
    symmetric pass-by."""
    period, rise, decay = rng.uniform(4, 10), rng.uniform(0.4, 1.2), rng.uniform(1.5, 3.5)
    t, env = np.arange(n) / sr, np.zeros(n)
    crash = -rng.uniform(0, period)  # the first crash may come before the clip starts
    while crash < n / sr + 2 * rise:
        d = t - crash
        env = np.maximum(env, np.where(d < 0, np.exp(-3 * (d / rise) ** 2), np.exp(-np.maximum(d, 0) / decay)))
        crash += period * rng.uniform(0.8, 1.2)
    return env


def slow_wobble(rng: np.random.Generator, n: int, sr: int, rate: float) -> np.ndarray:
    """Smooth random modulation (n,): noise low-passed at ``rate`` Hz, zero mean, unit standard deviation."""
    wobble = ss.sosfiltfilt(ss.butter(2, min(rate, sr / 4), fs=sr, output="sos"), rng.standard_normal(n))
    return (wobble - wobble.mean()) / (np.std(wobble) + 1e-9)


def synthetic_water(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Rain (dense drops and impacts), a stream (bubbling over a rushing bed), surf (swelling foam) or
    a roar (a waterfall, a raging river or breaking waves heard close: most energy below 250 Hz)."""
    kind = rng.choice(["rain", "stream", "surf", "roar"])
    if kind == "rain":
        drops = _bubbles(rng, n, sr, rng.uniform(200, 3000), (1500, 6000))
        bed = _shaped_noise(rng, n, sr, rng.uniform(-0.5, 0.5), (rng.uniform(300, 1500), rng.uniform(5000, 8000)))
        x = drops + rng.uniform(0.3, 1.5) * bed
    elif kind == "stream":
        drops = _bubbles(rng, n, sr, rng.uniform(30, 600), (300, 3000))
        bed = _shaped_noise(rng, n, sr, rng.uniform(-1.2, 0.0), (rng.uniform(80, 300), rng.uniform(2000, 6000)))
        x = drops + rng.uniform(0.2, 1.5) * bed
    elif kind == "roar":
        roar = _shaped_noise(rng, n, sr, rng.uniform(-2.5, -1.5), (rng.uniform(20, 60), rng.uniform(250, 1000)))
        hiss = _shaped_noise(rng, n, sr, rng.uniform(-1.0, 0.0), (rng.uniform(300, 1000), rng.uniform(4000, 8000)))
        fizz = _bubbles(rng, n, sr, rng.uniform(300, 3000), (500, 5000))
        x = roar + 10 ** (rng.uniform(-25, -8) / 20) * (hiss + rng.uniform(0.3, 1.0) * fizz)
        if rng.random() < 0.4:  # waves breaking every few seconds
            x = x * (0.2 + _breaking_waves(rng, n, sr))
    else:
        waves = _breaking_waves(rng, n, sr)
        fizz = _bubbles(rng, n, sr, rng.uniform(500, 3000), (2000, 7000))
        slope = rng.uniform(-2.5, -0.5)  # foam to thunder
        bed = _shaped_noise(rng, n, sr, slope, (rng.uniform(20, 200), rng.uniform(3000, 7000)))
        x = bed * (0.15 + waves**2) + rng.uniform(0.2, 0.8) * fizz * (0.1 + np.sqrt(waves))  # the foam outlasts the crash
    return (x / rms(x)).astype(np.float32)


def synthetic_traffic(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Road traffic: engines (low harmonic series whose pitch glides) over duller tyre noise, in
    pass-bys; most energy below 1 kHz, as recorded vehicles have (not a bright swelling hiss, which is surf)."""
    t = np.arange(n) / sr
    x = 0.3 * _shaped_noise(rng, n, sr, -1.5, (30, rng.uniform(400, 1500)))  # distant rumble
    for _ in range(int(rng.integers(1, 6))):
        centre, width = rng.uniform(-1, n / sr + 1), rng.uniform(0.8, 4.0)
        near = np.exp(-0.5 * ((t - centre) / width) ** 2)
        doppler = 1 + rng.uniform(0.02, 0.08) * np.tanh((centre - t) / width * 2)  # pitch falls as it passes
        f0 = rng.uniform(25, 120) * doppler
        phase = 2 * np.pi * np.cumsum(f0) / sr
        engine = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k ** rng.uniform(0.5, 1.2) for k in range(1, 16))
        tyres = _shaped_noise(rng, n, sr, rng.uniform(-1.5, -0.5), (rng.uniform(80, 300), rng.uniform(1500, 5000)))
        x = x + near * (rng.uniform(0.5, 1.5) * engine / rms(engine) + rng.uniform(0.2, 0.8) * tyres)
    return (x / rms(x)).astype(np.float32)


def synthetic_applause(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Many hands clapping: 30-400 claps per second, each a 2-8 ms decaying burst of band noise (unit RMS)."""
    rate = rng.uniform(30, 400)

    def clap() -> np.ndarray:
        tau = rng.uniform(0.002, 0.008)
        m = int(5 * tau * sr)
        band = (rng.uniform(500, 1500), rng.uniform(3000, 7000))
        return _shaped_noise(rng, m, sr, 0.0, band) * np.exp(-np.arange(m) / sr / tau)

    return _scattered(rng, n, sr, rate, clap, sounds=16, spread=0.5).astype(np.float32)


def synthetic_texture(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Noise of no particular source: a random smooth spectral envelope (+-15 dB over 8 log-spaced
    points, 50 Hz..8 kHz) under a random slow amplitude modulation (0.3..6 Hz, depth 0..1)."""
    f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 50.0)
    knots = np.geomspace(50.0, sr / 2, 8)
    envelope_db = np.interp(np.log(f), np.log(knots), np.cumsum(rng.uniform(-10, 10, 8)).clip(-15, 15))
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * 10 ** (envelope_db / 20), n)
    rate, depth = rng.uniform(0.3, 6.0), rng.uniform(0.0, 1.0)
    x = x * np.exp(depth * slow_wobble(rng, n, sr, rate))
    return (x / rms(x)).astype(np.float32)


_SOUNDSCAPES = {"water": synthetic_water, "wind": synthetic_wind, "traffic": synthetic_traffic, "texture": synthetic_texture}
SYNTHETIC_KINDS = ("hum", "drone", "engine", "fan", "colored", *_SOUNDSCAPES)


def synthetic_noise(rng: np.random.Generator, n: int, sr: int, kinds: tuple[str, ...] = SYNTHETIC_KINDS) -> np.ndarray:
    """Hum, harmonic drone, engine with a moving pitch, fan, white/pink/brown noise, water, wind, traffic,
    a random texture, or (only when asked for) a tone: a held test tone, a pair of telephone keypad tones
    or a slow glide (unit RMS)."""
    kind = rng.choice(kinds)
    if kind in _SOUNDSCAPES:
        return _SOUNDSCAPES[kind](rng, n, sr)
    t = np.arange(n) / sr
    if kind == "tone":
        x = _tone(rng, t)
    elif kind in ("hum", "drone", "engine"):
        f0 = rng.uniform(40, 70) if kind == "hum" else rng.uniform(40, 500)
        if kind == "engine":  # pitch wanders slowly
            f0 = f0 * (1 + 0.15 * np.cumsum(rng.standard_normal(n)) / np.sqrt(sr * 20))
        phase = 2 * np.pi * np.cumsum(np.broadcast_to(f0, (n,))) / sr
        n_harm = int(min(40, (sr / 2 - 100) / np.max(f0)))
        amps = rng.uniform(0.2, 1.0, n_harm) / np.arange(1, n_harm + 1) ** rng.uniform(0.3, 1.5)
        x = sum(a * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k, a in zip(range(1, n_harm + 1), amps))
        x = x + rng.uniform(0, 0.3) * rng.standard_normal(n) * rms(x)
    elif kind == "fan":
        x = lowpass(rng.standard_normal(n).astype(np.float32), rng.uniform(300, 3000), sr)
        x = x + 0.5 * np.sin(2 * np.pi * rng.uniform(80, 400) * t) * rms(x)
    else:  # spectral slope: 0 white, -1 pink, -2 brown
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
        x = np.fft.irfft(spec * f ** (rng.uniform(-2.0, 0.0) / 2), n)
    x = np.asarray(x, dtype=np.float32)
    return x / rms(x)


def _tone(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A steady electronic tone over times ``t`` (s): one to three sine partials at 100 Hz-4 kHz, held or
    gliding once over the whole span (by up to an octave), or two keypad (DTMF) tones at once."""
    if rng.random() < 0.25:
        pair = rng.choice([697, 770, 852, 941]), rng.choice([1209, 1336, 1477])
        return sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in pair)
    f0 = np.exp(rng.uniform(np.log(100), np.log(4000)))
    glide = 2.0 ** (rng.uniform(-1, 1) * t / t[-1]) if rng.random() < 0.4 else 1.0
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(f0 * glide, t.shape)) * (t[1] - t[0])
    ratios = [1.0] + list(rng.uniform(1.2, 4.0, int(rng.integers(0, 3))))
    return sum(rng.uniform(0.3, 1.0) * np.sin(r * phase + rng.uniform(0, 2 * np.pi)) for r in ratios)


class Mixer:
    """Makes (noisy, clean) pairs from a corpus folder and one split ('train', 'val' or 'test')."""

    def __init__(self, corpus: Path, split: str, config: MixConfig = MixConfig(), *, rirs: list[np.ndarray] | None = None):
        self.config = config
        self.speech = Pool.load(corpus / f"speech_{split}.npz")
        self.noise = Pool.load(corpus / f"noise_{split}.npz")
        music = corpus / f"music_{split}.npz"
        self.music = Pool.load(music) if music.is_file() else None
        self.rirs = rirs if rirs is not None else []

    def _speech(self, rng: np.random.Generator, n: int) -> np.ndarray:
        c = self.config
        x = random_eq(rng, sped_up(self.speech.window, rng, n, rng.uniform(0.9, 1.1)), c.sample_rate)
        if rng.random() < c.p_bandlimit:
            x = lowpass(x, rng.uniform(3400, 7000), c.sample_rate)
        if self.rirs and rng.random() < c.p_reverb:
            x = ss.fftconvolve(x, self.rirs[rng.integers(len(self.rirs))])[:n].astype(np.float32)
        return x

    def _noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        c = self.config
        if rng.random() < c.p_synthetic:
            x = synthetic_noise(rng, n, c.sample_rate)
        else:
            pool = self.music if self.music is not None and rng.random() < c.p_music else self.noise
            speed = random_speed(rng, c.noise_speed) if rng.random() < 0.5 else 1.0
            x = sped_up(pool.clip, rng, n, speed)  # a recording pitched and paced up or down: a new noise
            if rng.random() < 0.5:
                x = random_eq(rng, x, c.sample_rate)
            if rng.random() < 0.2:
                x = lowpass(x, rng.uniform(500, 4000), c.sample_rate)
            if rng.random() < 0.2:  # babble: a few to a room full of other talkers
                babble = sum(random_eq(rng, self.speech.window(rng, n), c.sample_rate) * rng.lognormal(0, 0.5) for _ in range(rng.integers(2, 13)))
                x = x + babble / rms(babble) * rng.uniform(0.5, 2.0) * rms(x)
        return x / rms(x)

    def pair(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        n = int(c.seconds * c.sample_rate)
        u = rng.random()
        clean = np.zeros(n, np.float32) if u < c.p_noise_only else self._speech(rng, n)
        noise = np.zeros(n, np.float32)
        if u >= c.p_noise_only + c.p_clean:
            noise = self._noise(rng, n)
            if rng.random() < c.p_second_noise:
                noise = noise + rng.uniform(0.2, 1.0) * self._noise(rng, n)
            snr = rng.uniform(*c.snr_db)
            noise = noise * (rms(clean) / rms(noise) * 10 ** (-snr / 20) if clean.any() else 0.1)
        noisy = clean + noise
        gain = 10 ** (rng.uniform(*c.level_db) / 20) / rms(noisy)
        gain = min(gain, 0.99 / max(np.abs(noisy).max(), 1e-6))
        return (noisy * gain).astype(np.float32), (clean * gain).astype(np.float32)


def room_impulse_responses(count: int, sample_rate: int, seed: int) -> list[np.ndarray]:
    """Simulated small-to-medium room responses (pyroomacoustics), normalised to a unit direct path."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    rirs = []
    for _ in range(count):
        dims = rng.uniform([3, 3, 2.4], [10, 8, 4])
        rt60 = rng.uniform(0.15, 0.8)
        absorption, max_order = pra.inverse_sabine(rt60, dims)
        room = pra.ShoeBox(dims, fs=sample_rate, materials=pra.Material(absorption), max_order=min(max_order, 12))
        room.add_source(rng.uniform(0.5, dims - 0.5))
        room.add_microphone(rng.uniform(0.5, dims - 0.5))
        room.compute_rir()
        rir = np.asarray(room.rir[0][0], dtype=np.float32)
        rirs.append(rir / np.abs(rir).max())
    return rirs
