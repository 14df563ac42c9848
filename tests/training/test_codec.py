"""Codec training: residual k-means codebooks that fit their data, and a post-filter run that checkpoints and resumes."""

import json

import torch

from streamdl.models.checkpoint import load_model
from streamdl.models.codec import rvq_search
from streamdl.models.configs import CodecConfig
from streamdl.training.codec import residual_kmeans
from streamdl.training.configs import CodecTrainConfig

SMALL = CodecConfig(codebook_size=16, envelope_stages=2, group_stages=(3, 1), layouts=((3, 1, (2, 0)), (6, 2, (3, 1))), hidden=16)


def test_each_residual_codebook_leaves_less_of_the_data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 8, generator=gen) * torch.linspace(2, 0.2, 8)
    books = residual_kmeans(x, 3, 32, 10, gen)
    errors = [float((x - rvq_search(x, books, n)[1]).pow(2).mean()) for n in range(4)]
    assert errors == sorted(errors, reverse=True) and errors[3] < 0.5 * errors[0]


def test_train_a_few_steps_then_resume(tiny_corpus, tmp_path):
    from streamdl.training.codec import train_codec

    corpus, _ = tiny_corpus
    torch.set_num_threads(1)
    tc = CodecTrainConfig(corpus=str(corpus), out_dir=str(tmp_path), batch_size=2, max_steps=4, val_every=2, val_examples=4, seconds=0.5,
                          workers=0, warmup_steps=1, codebook_windows=40, codebook_vectors=500, codebook_iters=3, windows=8)  # fmt: skip
    best = train_codec(tc, SMALL)
    model = load_model(best, "codec")
    assert model.config == SMALL and float(model.envelope_books.abs().sum()) > 0 and float(model.shape_books(1).abs().sum()) > 0
    torch.testing.assert_close(model.shape_books1_norms, model.shape_books(1).pow(2).sum(-1))  # loading refreshes the search's norms
    train_codec(CodecTrainConfig(**{**tc.__dict__, "max_steps": 6}), SMALL, resume=True)
    assert [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [2, 4, 6]
    torch.testing.assert_close(load_model(tmp_path / "last.pt", "codec").envelope_books, model.envelope_books)  # resumed, not refitted
