import dataclasses
import json

import pytest
import torch
from pystoi import stoi

from streamdl.dsp.stft import STFTConfig
from streamdl.models.checkpoint import load_model, save_model
from streamdl.models.configs import DenoiserConfig
from streamdl.models.denoiser import Denoiser
from streamdl.models.spectrum import Spectrum
from streamdl.training.configs import DenoiserTrainConfig
from streamdl.training.denoiser import train_denoiser, validate

SMALL = DenoiserConfig(erb_bands=16, df_bins=24, conv_channels=16, gru_hidden=16, gru_layers=1)


def test_train_a_few_steps_then_resume(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    tc = DenoiserTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), batch_size=2, max_steps=4, val_every=2, val_examples=2,
                     seconds=0.5, workers=0, rirs=2, warmup_steps=1)  # fmt: skip
    best = train_denoiser(tc, SMALL)
    assert load_model(best, "denoiser").config == SMALL
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [2, 4]
    longer = DenoiserTrainConfig(**{**tc.__dict__, "max_steps": 6})
    train_denoiser(longer, SMALL, resume=True)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [2, 4, 6]


def test_fine_tuning_can_widen_the_model(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    start = tmp_path / "small.pt"
    save_model(start, Denoiser(SMALL), "denoiser")
    tc = DenoiserTrainConfig(corpus=str(corpus), out_dir=str(tmp_path / "run"), batch_size=2, max_steps=2, val_every=2, val_examples=2,
                     seconds=0.5, workers=0, rirs=2, warmup_steps=1, init=str(start), df_bins=32, df_order=4, gru_hidden=24,
                     output_gate=True, noise_floor=True, stoi_weight=1.0, stoi_dyn_range_db=40.0)  # fmt: skip
    assert load_model(train_denoiser(tc), "denoiser").config == dataclasses.replace(SMALL, df_bins=32, df_order=4, gru_hidden=24, output_gate=True, noise_floor=True)


def test_validation_stoi_drops_silent_frames_as_stoi_does(noisy_pauses):
    clean, noisy = (torch.from_numpy(x)[None] for x in noisy_pauses)
    scores = validate(lambda spec: spec, Spectrum(STFTConfig()), noisy, clean, batch=1)  # the pass-through model: the noisy input
    assert scores["val_stoi"] == pytest.approx(stoi(*noisy_pauses, 16000), abs=0.005)
