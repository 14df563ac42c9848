"""How training examples are mixed: the settings of the denoiser's pairs and the tagger's scenes,
importable without the mixers' numerical libraries (the command line describes training with them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MixConfig:
    sample_rate: int = 16000
    seconds: float = 3.0  # length of each pair
    snr_db: tuple[float, float] = (-5.0, 20.0)
    level_db: tuple[float, float] = (-38.0, -12.0)  # RMS of the noisy mix, dBFS
    p_clean: float = 0.05  # pairs with no noise at all (teach the model to leave speech alone)
    p_noise_only: float = 0.05  # pairs with no speech (teach it to silence)
    p_reverb: float = 0.3
    p_bandlimit: float = 0.2  # speech low-passed at 3.4..7 kHz (phone, cheap mics)
    p_synthetic: float = 0.45  # share of noises that are synthetic rather than recorded
    p_music: float = 0.1  # share of recorded noises that are music
    p_second_noise: float = 0.3
    noise_speed: tuple[float, float] = (0.7, 1.4)  # resampling factor of half the recorded noises


@dataclass(frozen=True)
class SceneConfig:
    sample_rate: int = 16000
    seconds: float = 6.0
    p_background: float = 0.85  # chance of each of the (up to two) background layers
    max_events: int = 3
    level_db: tuple[float, float] = (-50.0, -12.0)  # RMS of a layer, dBFS
    floor_db: tuple[float, float] = (-95.0, -58.0)  # the noise floor under everything
    p_reverb: float = 0.3
    p_lowpass: float = 0.15
    p_synthetic: float = 0.25  # synthetic wind, alarms, babble, water and traffic instead of recorded clips
    speed: tuple[float, float] = (0.85, 1.18)  # range of the factor that resamples half the layers, pitch and pace together
    p_more_unlabelled: float = 0.0  # chance that a labelled event becomes a sound of no label (one event in ten already is one)


@dataclass(frozen=True)
class DamageConfig:
    sample_rate: int = 16000
    seconds: float = 3.0  # length of each pair
    level_db: tuple[float, float] = (-38.0, -14.0)  # RMS of the clean speech, dBFS
    p_clean: float = 0.15  # pairs left undamaged (teach the model to leave whole speech alone)
    p_telephone: float = 0.3  # of the damaged: a telephone channel (300-3400 Hz, G.711 mu-law at 8 kHz)
    cutoff_hz: tuple[float, float] = (3400.0, 7000.0)  # the others: low-passed by a resampler at a cutoff in this range
