"""Denoiser training: AdamW, warm-up + cosine schedule, validation, early stopping, checkpoints, resume.

Runs on CPU or CUDA, and unchanged under ``torchrun`` (DDP: one process per GPU or machine; each
rank draws its own pairs, rank 0 validates and writes files). The output folder holds
``last.pt`` (everything needed to resume), ``best.pt`` (the best model by validation loss, a
normal model file) and ``log.jsonl`` (one line per validation).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from streamdl.data.mixing import MixConfig, MixDataset, Mixer, fixed_pairs, room_impulse_responses
from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import model_dict, read_model_file, save_model
from streamdl.models.denoiser import Denoiser, DenoiserConfig
from streamdl.models.spectrum import Spectrum
from streamdl.training.losses import compressed_spectral_loss, multires_stft_loss, si_sdr


@dataclass(frozen=True)
class TrainConfig:
    corpus: str  # folder made by 'streamdl data build'
    out_dir: str  # where last.pt, best.pt and log.jsonl go
    batch_size: int = 16
    lr: float = 1e-3  # peak learning rate
    weight_decay: float = 0.01
    warmup_steps: int = 300
    max_steps: int = 20000  # the cosine schedule ends here
    max_minutes: float = 0.0  # stop after this much wall time (0: no limit)
    val_every: int = 250  # steps between validations
    val_pairs: int = 48
    patience: int = 12  # validations without improvement before early stopping
    seconds: float = 3.0  # length of training pairs
    workers: int = 1  # data-loader processes per rank
    rirs: int = 64  # simulated room responses for reverberation
    seed: int = 0
    device: str = "cpu"


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed under torchrun."""
    if "RANK" not in os.environ:
        return 0, 1
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def denoiser_loss(model, spectrum: Spectrum, noisy: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Compressed spectral loss plus multi-resolution STFT loss on the resynthesised waveform."""
    est = model(spectrum.stft(noisy))
    ref = spectrum.stft(clean)
    return compressed_spectral_loss(est, ref) + multires_stft_loss(spectrum.istft(est), spectrum.istft(ref))


@torch.no_grad()
def validate(model, spectrum: Spectrum, noisy: torch.Tensor, clean: torch.Tensor, batch: int) -> dict:
    """Mean loss and SI-SDR improvement (dB) over fixed pairs (N, samples)."""
    model.eval()
    losses, gains = [], []
    for i in range(0, len(noisy), batch):
        x, y = noisy[i : i + batch], clean[i : i + batch]
        losses.append(float(denoiser_loss(model, spectrum, x, y)) * len(x))
        est = spectrum.istft(model(spectrum.stft(x)))
        delay = spectrum.n_fft - spectrum.hop
        ref = torch.nn.functional.pad(y, (delay, 0))[:, : est.shape[1]]
        noisy_speech = (y.abs().amax(1) > 0) & ((x - y).abs().amax(1) > 0)  # noise-free pairs would swamp the mean
        gains += (si_sdr(est, ref) - si_sdr(torch.nn.functional.pad(x, (delay, 0))[:, : est.shape[1]], ref))[noisy_speech].tolist()
    model.train()
    return {"val_loss": sum(losses) / len(noisy), "val_si_sdr_gain_db": sum(gains) / max(len(gains), 1)}


def train_denoiser(tc: TrainConfig, mc: DenoiserConfig = DenoiserConfig(), *, resume: bool = False) -> Path:
    """Train until max_steps, max_minutes or early stopping; return the path of best.pt."""
    rank, world = _distributed()
    device = torch.device(tc.device if tc.device != "cuda" else f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    out = Path(tc.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = Path(tc.corpus)
    torch.manual_seed(tc.seed)
    model = Denoiser(mc).to(device)
    spectrum = Spectrum(mc.stft).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    step, best, stale = 0, math.inf, 0
    if resume and (out / "last.pt").is_file():
        ck = read_model_file(out / "last.pt")
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        step, best, stale = ck["step"], ck["best"], ck["stale"]
    elif resume:
        raise StreamdlError(f"{out / 'last.pt'}: nothing to resume; drop --resume to start afresh")
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    mix = MixConfig(seconds=tc.seconds, sample_rate=mc.stft.sample_rate)
    rirs = room_impulse_responses(tc.rirs, mc.stft.sample_rate, seed=tc.seed)
    loader = iter(torch.utils.data.DataLoader(
        MixDataset((corpus, "train", mix), {"rirs": rirs}, seed=tc.seed * 1000 + rank * 100 + step),
        batch_size=tc.batch_size, num_workers=tc.workers, persistent_workers=tc.workers > 0))  # fmt: skip
    if rank == 0:
        val_noisy, val_clean = (t.to(device) for t in fixed_pairs(Mixer(corpus, "val", mix, rirs=rirs[: tc.rirs // 4]), tc.val_pairs, seed=1234))
    schedule = lambda s: min(1.0, (s + 1) / tc.warmup_steps) * 0.5 * (1 + math.cos(math.pi * min(s, tc.max_steps) / tc.max_steps))  # noqa: E731
    start = time.time()
    bar = tqdm(total=tc.max_steps, initial=step, disable=rank != 0, desc="train denoiser", unit="step")
    while step < tc.max_steps:
        noisy, clean = (t.to(device) for t in next(loader))
        for group in opt.param_groups:
            group["lr"] = tc.lr * schedule(step)
        loss = denoiser_loss(ddp, spectrum, noisy, clean)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.4f}")
        out_of_time = tc.max_minutes and time.time() - start > tc.max_minutes * 60
        if rank == 0 and (step % tc.val_every == 0 or step == tc.max_steps or out_of_time):
            stats = validate(model, spectrum, val_noisy, val_clean, tc.batch_size)
            stale = 0 if stats["val_loss"] < best else stale + 1
            if stats["val_loss"] < best:
                best = stats["val_loss"]
                save_model(out / "best.pt", model, "denoiser")
            torch.save({**model_dict(model, "denoiser"), "optimizer": opt.state_dict(), "step": step, "best": best, "stale": stale,
                        "train_config": dataclasses.asdict(tc)}, out / "last.pt")  # fmt: skip
            with open(out / "log.jsonl", "a") as log:
                log.write(json.dumps({"step": step, "minutes": round((time.time() - start) / 60, 2), "train_loss": loss.item(), **stats}) + "\n")
            bar.write(f"step {step}: val loss {stats['val_loss']:.4f}, SI-SDR gain {stats['val_si_sdr_gain_db']:.2f} dB")
        stop = torch.tensor([bool(out_of_time) or stale >= tc.patience], device=device)
        if world > 1:
            torch.distributed.broadcast(stop, 0)
        if stop.item():
            break
    bar.close()
    if world > 1:
        torch.distributed.destroy_process_group()
    return out / "best.pt"
