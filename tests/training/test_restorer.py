import json

import numpy as np
import pytest

from streamdl.models.checkpoint import load_model
from streamdl.training.configs import RestorerTrainConfig
from streamdl.training.restorer import train_restorer
from tests.models.test_restorer import SMALL


@pytest.fixture(scope="module")
def wideband_corpus(tmp_path_factory):
    """A corpus of speech-like wideband noise bursts, train and val."""
    folder = tmp_path_factory.mktemp("wideband")
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        clips = [(0.1 * rng.standard_normal(8000) * np.hanning(8000) * 32767).astype(np.int16) for _ in range(6)]
        np.savez(folder / f"speech_{split}.npz", audio=np.concatenate(clips), offsets=np.arange(7) * 8000, names=np.array([f"c{i}" for i in range(6)]))
    return folder


@pytest.mark.parametrize("adversarial_from", [-1, 1], ids=["spectral", "adversarial"])
def test_train_a_few_steps_then_resume(wideband_corpus, tmp_path, adversarial_from):
    tc = RestorerTrainConfig(corpus=str(wideband_corpus), out_dir=str(tmp_path), batch_size=2, max_steps=2, val_every=1, val_examples=2,
                             seconds=0.6, workers=0, warmup_steps=1, adversarial_from=adversarial_from)  # fmt: skip
    assert load_model(train_restorer(tc, SMALL), "restorer").config == SMALL
    train_restorer(RestorerTrainConfig(**{**tc.__dict__, "max_steps": 3}), SMALL, resume=True)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3]
    assert ("d_loss" in lines[-1]) == (adversarial_from >= 0)
