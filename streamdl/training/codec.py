"""Codec training in two parts: codebooks by k-means, then the decoder's post-filter by regression.

1. Codebooks: from speech windows of the corpus (levels varied by +-12 dB), the envelope mean, the
   envelope's prediction errors and the band-normalised shapes of frames that are not silent are
   clustered by residual k-means, one codebook after another on what the last ones left.
2. Post-filter: every window is encoded at a random bitrate with those codebooks and 5 % of its
   frames dropped (packet loss); the GRU learns to map what the decoder has (decoded shapes and
   envelope, the layout) to the true shapes and every coefficient's magnitude (which shapes the noise
   fill), by mean squared error. These inputs are made once, so a step is only the GRU's.

See :mod:`streamdl.training.loop` for the schedule, checkpoints and resume.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from streamdl.data.mixing import Pool
from streamdl.models.checkpoint import read_model_file
from streamdl.models.codec import Codec, nearest
from streamdl.models.configs import CodecConfig
from streamdl.training.configs import CodecTrainConfig
from streamdl.training.loop import device_of, fit, starting_model

SILENT_LOG_RMS = float(np.log(1e-4))  # frames whose loudest band is below -80 dBFS teach the codebooks nothing


def kmeans(x: torch.Tensor, size: int, iters: int, gen: torch.Generator) -> torch.Tensor:
    """``size`` centroids (size, D) of x (M, D): Lloyd's iterations from random rows; an empty cluster restarts on a random row."""
    centroids = x[torch.randperm(len(x), generator=gen)[:size]].clone()
    for _ in range(iters):
        idx = nearest(x, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, idx, x)
        counts = torch.bincount(idx, minlength=size).to(x.dtype)[:, None]
        restart = x[torch.randint(len(x), (size,), generator=gen)]
        centroids = torch.where(counts > 0, sums / counts.clamp_min(1), restart)
    return centroids


def residual_kmeans(x: torch.Tensor, stages: int, size: int, iters: int, gen: torch.Generator) -> torch.Tensor:
    """Codebooks (stages, size, D): each one k-means of what the ones before leave of x (M, D)."""
    books, residual = [], x.clone()
    for _ in range(stages):
        book = kmeans(residual, size, iters, gen)
        residual -= book[nearest(residual, book)]
        books.append(book)
    return torch.stack(books)


def speech_windows(corpus: Path, split: str, count: int, seconds: float, frame: int, seed: int) -> torch.Tensor:
    """(count, samples) float32: random stretches of the corpus's speech pool, whole frames long, each
    at a random level (+-12 dB)."""
    pool, rng = Pool.load(corpus / f"speech_{split}.npz"), np.random.default_rng(seed)
    n = int(seconds * 16000) // frame * frame
    gains = 10 ** (rng.uniform(-12, 12, count) / 20)
    return torch.from_numpy(np.stack([pool.window(rng, n) * g for g in gains]).astype(np.float32))


@torch.no_grad()
def fit_codebooks(model: Codec, windows: torch.Tensor, vectors: int, iters: int, seed: int) -> None:
    """Set the model's envelope mean and codebooks from speech windows (W, samples)."""
    c, gen = model.config, torch.Generator().manual_seed(seed)
    log_rms, shapes, _ = model.analyse(windows, windows.new_zeros(len(windows), c.overlap))
    loud = log_rms.max(-1).values > SILENT_LOG_RMS  # (W, T)
    model.envelope_mean.copy_(log_rms[loud].mean(0))
    centred = log_rms - model.envelope_mean
    errors = centred[:, 1:] - c.envelope_memory * centred[:, :-1]  # open-loop prediction errors
    model.envelope_books.copy_(residual_kmeans(errors[loud[:, 1:]], c.envelope_stages, c.codebook_size, iters, gen))
    rows = shapes[loud]
    rows = rows[torch.randperm(len(rows), generator=gen)[:vectors]]
    for i, ((lo, hi), stages) in enumerate(zip(c.shape_groups, c.group_stages)):
        part = rows[:, lo:hi].abs() if c.magnitude_groups[i] else rows[:, lo:hi].contiguous()
        model.shape_books(i).copy_(residual_kmeans(part, stages, c.codebook_size, iters, gen))
    model.refresh_norms()


@torch.no_grad()
def postfilter_examples(model: Codec, windows: torch.Tensor, loss_rate: float, seed: int, batch: int = 64) -> tuple[torch.Tensor, ...]:
    """What the decoder has for each window, coded at a random bitrate with ``loss_rate`` of its frames
    lost, and what it should estimate: (decoded shapes, decoded envelope less mean, layout features,
    true shapes), each (W, T, ...)."""
    c, gen = model.config, torch.Generator().manual_seed(seed)
    counts = [n for n, _, _ in c.layouts]
    parts = []
    for start in range(0, len(windows), batch):
        x = windows[start : start + batch]
        n = counts[int(torch.randint(len(counts), (1,), generator=gen))]
        codes, _ = model.encode_chunk(x, model.encoder_state(len(x)), n)
        lost = torch.rand(codes.shape[:2], generator=gen) < loss_rate
        codes[lost] = -1
        envelope = model.decode_envelope(codes, model.decoder_state(len(x))[0], c.layout(n)[0])[0]
        truth = model.analyse(x, x.new_zeros(len(x), c.overlap))[1]
        parts.append((model.decoded_shapes(codes, n), envelope, model.layout_features(codes, n), truth))
    return tuple(torch.cat(p) for p in zip(*parts))


class Rows(torch.utils.data.IterableDataset):
    """Endless random rows of equally long tensors (one example: the i-th row of each)."""

    def __init__(self, tensors: tuple[torch.Tensor, ...], seed: int):
        super().__init__()
        self.tensors, self.seed = tensors, seed

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed)
        while True:
            i = int(torch.randint(len(self.tensors[0]), (1,), generator=gen))
            yield tuple(t[i] for t in self.tensors)


def postfilter_loss(model: Codec, shapes, envelope, layout, truth) -> torch.Tensor:
    """Mean squared error of the post-filter's estimates (from a zero GRU state): the signed shapes against
    the true ones, plus the magnitudes against every true coefficient's."""
    estimate, magnitudes, _ = model.postfilter(shapes, envelope, layout, model.decoder_state(len(shapes))[1])
    return (estimate - truth[..., : model.config.signed_bins]).pow(2).mean() + (magnitudes - truth.abs()).pow(2).mean()


def train_codec(tc: CodecTrainConfig, mc: CodecConfig = CodecConfig(), *, resume: bool = False) -> Path:
    """Fit the codebooks (or take them from the run being resumed or the ``init`` model), then train the
    post-filter until max_steps, max_minutes or early stopping; return the path of best.pt."""
    device = device_of(tc.device)
    torch.manual_seed(tc.seed)
    model = starting_model(tc, "codec", lambda: Codec(mc)).cpu()
    corpus, out = Path(tc.corpus), Path(tc.out_dir)
    c = model.config
    if resume and (out / "last.pt").is_file():
        model.load_state_dict(read_model_file(out / "last.pt")["state_dict"])
    elif not tc.init:
        fit_codebooks(model, speech_windows(corpus, "train", tc.codebook_windows, tc.seconds, c.frame, tc.seed),
                      tc.codebook_vectors, tc.codebook_iters, tc.seed)  # fmt: skip
    train = postfilter_examples(model, speech_windows(corpus, "train", tc.windows, tc.seconds, c.frame, tc.seed + 1), tc.loss_rate, tc.seed)
    val = postfilter_examples(model, speech_windows(corpus, "val", tc.val_examples, tc.seconds, c.frame, tc.seed + 2), tc.loss_rate, tc.seed + 1)

    def validate(m, *examples):
        return {"val_loss": float(postfilter_loss(m, *examples))}

    return fit(tc, model.to(device), "codec", lambda seed: Rows(train, seed), lambda: val, postfilter_loss, validate, resume=resume)
