"""What a training run is: the settings of each trainer, with their defaults, checks and ``streamdl train`` flags.

Importable without PyTorch, so the command line can describe training without loading it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from streamdl.config import check_between, check_choice, check_range, option
from streamdl.data.configs import MixConfig, SceneConfig
from streamdl.labels import LABELS


@dataclass(frozen=True)
class LoopConfig:
    """What every trainer shares; each model's config adds its own fields and defaults. The fields with
    help text are ``streamdl train`` flags."""

    corpus: str = option("data/corpus", "folder made by 'streamdl data build'")
    out_dir: str = option("runs/model", "folder for last.pt, best.pt and log.jsonl", flag="--out")
    batch_size: int = option(16, "examples per step")
    lr: float = option(1e-3, "peak learning rate")
    weight_decay: float = 0.01
    warmup_steps: int = option(300, "learning-rate warm-up steps", flag="--warmup")
    max_steps: int = option(20000, "length of the learning-rate schedule", flag="--steps")
    max_minutes: float = option(0.0, "stop after this many minutes (0: no limit)", flag="--minutes")
    val_every: int = 250  # steps between validations
    val_examples: int = 48  # fixed validation examples
    patience: int = 12  # validations without improvement before early stopping
    seconds: float = 3.0  # length of training examples
    workers: int = option(1, "data-loader processes")
    rirs: int = 64  # simulated room responses for reverberation
    seed: int = option(0, "random seed of the run")
    device: str = option("cpu", "where training runs", choices=("cpu", "cuda"))
    adversarial_from: int = -1  # step at which multi-resolution STFT discriminators join (-1: never)
    init: str = option("", "fine-tune: start from this model file's weights (e.g. the shipped one)", metavar="MODEL")

    def __post_init__(self):
        for name in ("batch_size", "max_steps", "val_every", "val_examples", "patience", "workers", "rirs"):
            check_between(self, name, 0 if name in ("workers", "rirs") else 1, 1e9, "a count")
        check_between(self, "lr", 0.0, 1.0, "a learning rate")
        check_between(self, "max_minutes", 0.0, math.inf, "a number of minutes")
        check_between(self, "seconds", 0.1, 600.0, "a length in seconds")
        check_choice(self, "device", ("cpu", "cuda"))


@dataclass(frozen=True)
class DenoiserTrainConfig(LoopConfig):
    out_dir: str = option("runs/denoiser", "folder for last.pt, best.pt and log.jsonl", flag="--out")
    max_steps: int = option(5000, "length of the learning-rate schedule", flag="--steps")
    adversarial_from: int = option(-1, "add STFT discriminators from this step on (-1: never)")
    under_weight: float = option(1.0, "extra loss weight on removed speech (higher: gentler)")
    stoi_weight: float = option(0.0, "weight of a differentiable STOI term in the loss (intelligibility)")
    stoi_dyn_range_db: float | None = option(None, "the STOI term drops frames DB below the loudest clean frame, as STOI does "
                                             "with 40 (default: keeps all)", flag="--stoi-dyn-range", metavar="DB")  # fmt: skip
    synthetic_share: float = option(MixConfig.p_synthetic, "share of noises that are synthetic, the rest recorded")
    snr_db: tuple[float, float] = option(MixConfig.snr_db, "SNR range of the training mixtures, dB")
    noise_speed: tuple[float, float] = option(MixConfig.noise_speed, "range of the factor that resamples half the recorded noises, "
                                              "pitch and pace together")  # fmt: skip
    df_bins: int = option(0, "deep-filtered low bins (default: --init's, or 64); more than --init's grows that model, its new parts starting silent")
    df_order: int = option(0, "deep-filter taps: the current frame and past ones (default: --init's, or 3); grows like --df-bins")
    gru_hidden: int = option(0, "GRU width (default: --init's, or 160); grows like --df-bins")
    output_gate: bool = option(False, "add a last gain per band over the gains and the deep filter together, so noise alone can be turned "
                               "all the way down (--init's model grows one, starting open)")  # fmt: skip
    noise_floor: bool = option(False, "give the network each band's tracked noise floor beside its level, a local SNR whatever the noise "
                               "(--init's model grows these inputs, their weights starting at zero)")  # fmt: skip

    def __post_init__(self):
        super().__post_init__()
        check_between(self, "synthetic_share", 0.0, 1.0, "a fraction of the noises")
        check_range(self, "snr_db", "SNR")
        check_range(self, "noise_speed", "resampling factor", above=0.0, most=4.0)
        check_between(self, "stoi_dyn_range_db", 1.0, 120.0, "in dB")


@dataclass(frozen=True)
class RestorerTrainConfig(LoopConfig):
    out_dir: str = option("runs/restorer", "folder for last.pt, best.pt and log.jsonl", flag="--out")
    max_steps: int = option(6000, "length of the learning-rate schedule", flag="--steps")
    adversarial_from: int = option(-1, "add STFT discriminators from this step on (-1: never)")
    adversarial_weight: float = option(0.05, "weight of the adversarial term (feature matching: twice it) beside the spectral "
                                       "losses, which are about 0.1 when trained")  # fmt: skip
    under_weight: float = option(1.0, "extra loss weight on magnitudes below the clean ones (-0.5: those above cost twice as much)")

    def __post_init__(self):
        super().__post_init__()
        check_between(self, "adversarial_weight", 0.0, 100.0, "a loss weight")
        check_between(self, "under_weight", -0.9, 10.0, "a loss weight")


@dataclass(frozen=True)
class TaggerTrainConfig(LoopConfig):
    out_dir: str = option("runs/tagger", "folder for last.pt, best.pt and log.jsonl", flag="--out")
    arch: str = option("crnn", "GRU (crnn) or bounded causal self-attention (attention)", choices=("crnn", "attention"))
    lr: float = option(3e-3, "peak learning rate")
    warmup_steps: int = option(200, "learning-rate warm-up steps", flag="--warmup")
    max_steps: int = option(3500, "length of the learning-rate schedule", flag="--steps")
    val_examples: int = 96
    patience: int = 10
    seconds: float = option(SceneConfig.seconds, "length of each training scene, seconds (validation scenes stay 6 s)", flag="--scene-seconds")
    synthetic_share: float = option(SceneConfig.p_synthetic, "chance that a background is synthetic rather than recorded (doubled for "
                                    "water, vehicles and crowds; validation scenes keep the default)")  # fmt: skip
    rirs: int = 32
    labels: int = option(0, "learn only the first N labels of the vocabulary (default: all; --init's model grows into them)", metavar="N")
    band_masks: int = option(0, "zero N random frequency bands of up to 800 Hz in each training scene (SpecAugment)", metavar="N")
    level_db: tuple[float, float] = option(SceneConfig.level_db, "RMS range of each sound in the training scenes, dBFS")
    speed: tuple[float, float] = option(SceneConfig.speed, "range of the factor that resamples half the sounds of a training scene, "
                                        "pitch and pace together (validation scenes keep the default)")  # fmt: skip
    more_unlabelled: float = option(SceneConfig.p_more_unlabelled, "chance that a labelled event of a training scene becomes a sound of no "
                                    "label (one event in ten already is one)", metavar="P")  # fmt: skip

    def __post_init__(self):
        super().__post_init__()
        check_choice(self, "arch", ("crnn", "attention"))
        check_between(self, "labels", 0, len(LABELS), f"how many of the {len(LABELS)} labels to learn (0: all)")
        check_between(self, "band_masks", 0, 16, "a number of bands")
        check_between(self, "more_unlabelled", 0.0, 1.0, "a chance")
        check_between(self, "synthetic_share", 0.0, 1.0, "a fraction of the noises")
        check_between(self, "seconds", 1.0, 60.0, "a scene length in seconds")
        check_range(self, "level_db", "level in dBFS", most=0.0)
        check_range(self, "speed", "resampling factor", above=0.0, most=4.0)

    @property
    def label_names(self) -> tuple[str, ...]:
        """The labels to learn: the first ``labels`` of the vocabulary, or all of it."""
        return LABELS[: self.labels or len(LABELS)]


@dataclass(frozen=True)
class CodecTrainConfig(LoopConfig):
    out_dir: str = option("runs/codec", "folder for last.pt, best.pt and log.jsonl", flag="--out")
    batch_size: int = option(32, "examples per step")
    weight_decay: float = 0.0
    warmup_steps: int = 200
    val_examples: int = 256
    patience: int = 20
    seconds: float = 2.0
    codebook_windows: int = option(8000, "speech windows the codebooks are clustered from")
    codebook_vectors: int = 150000  # shape vectors each shape codebook stage is clustered from
    codebook_iters: int = 12  # k-means iterations per codebook
    windows: int = option(6000, "speech windows the post-filter learns from, coded once")
    loss_rate: float = 0.05  # frames dropped while the post-filter learns (packet-loss concealment)

    def __post_init__(self):
        super().__post_init__()
        for name in ("codebook_windows", "codebook_vectors", "codebook_iters", "windows"):
            check_between(self, name, 1, 1e9, "a count")
        check_between(self, "loss_rate", 0.0, 0.5, "a share of frames")
