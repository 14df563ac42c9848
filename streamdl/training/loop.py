"""The training loop every streamdl model shares: AdamW, warm-up + cosine schedule, validation,
early stopping, checkpoints, resume, and DDP under ``torchrun``.

Runs on CPU or CUDA, and unchanged under ``torchrun`` (one process per GPU or machine; each rank
draws its own batches, rank 0 validates and writes files). The output folder holds ``last.pt``
(everything needed to resume), ``best.pt`` (the best model by validation loss, a normal model
file) and ``log.jsonl`` (one line per validation).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from streamdl.errors import StreamdlError
from streamdl.models.checkpoint import load_model, model_dict, read_model_file, save_model


def distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed under torchrun."""
    if "RANK" not in os.environ:
        return 0, 1
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def device_of(name: str) -> torch.device:
    """The torch device for "cpu" or "cuda" (this rank's GPU under torchrun)."""
    return torch.device(name if name != "cuda" else f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")


def starting_model(tc, kind: str, make: Callable[[], torch.nn.Module],
                   grow: Callable[[torch.nn.Module], torch.nn.Module] = lambda model: model) -> torch.nn.Module:  # fmt: skip
    """The model a run starts from, on its device: the weights of the file ``tc.init`` (fine-tuning),
    passed through ``grow`` (the same model made larger, e.g. with more labels), or ``make()``'s fresh one."""
    model = grow(load_model(tc.init, kind).train()) if tc.init else make()
    return model.to(device_of(tc.device))


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to zero at ``total``."""
    return min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))


def fit(tc, model: torch.nn.Module, kind: str, train_data: Callable[[int], torch.utils.data.IterableDataset],
        val_data: Callable[[], tuple[torch.Tensor, ...]], loss_fn: Callable, validate: Callable, *, resume: bool = False,
        adversary=None, adversary_from: int = 0) -> Path:  # fmt: skip
    """Train ``model`` (already on its device) until tc.max_steps, tc.max_minutes or early stopping.

    ``tc`` carries out_dir, lr, weight_decay, warmup_steps, max_steps, max_minutes, val_every,
    patience, batch_size, workers and device. ``train_data(seed)`` gives an endless dataset of
    example tuples; ``val_data()`` the fixed validation tensors (made once, on rank 0);
    ``loss_fn(model, *batch)`` the training loss; ``validate(model, *val)`` a dict with
    "val_loss" (lower is better) and any other numbers to log. Returns the path of best.pt.

    With an ``adversary`` (:class:`~streamdl.training.adversarial.Adversary`), ``loss_fn`` returns
    (loss, generated waveform, real waveform); from step ``adversary_from`` on, each step first
    updates the discriminators, then adds their generator loss. Its state is checkpointed too.
    """
    rank, world = distributed()
    device = device_of(tc.device)
    out = Path(tc.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    step, best, stale = 0, math.inf, 0
    if resume and (out / "last.pt").is_file():
        ck = read_model_file(out / "last.pt")
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        step, best, stale = ck["step"], ck["best"], ck["stale"]
        if adversary is not None and "adversary" in ck:
            adversary.load_state_dict(ck["adversary"])
    elif resume:
        raise StreamdlError(f"{out / 'last.pt'}: nothing to resume; drop --resume to start afresh")
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    if adversary is not None:
        adversary.synchronize()
    loader = iter(torch.utils.data.DataLoader(train_data(tc.seed * 1000 + rank * 100 + step), batch_size=tc.batch_size,
                                              num_workers=tc.workers, persistent_workers=tc.workers > 0))  # fmt: skip
    val = None
    start = time.time()
    bar = tqdm(total=tc.max_steps, initial=step, disable=rank != 0, desc=f"train {kind}", unit="step")
    while step < tc.max_steps:
        batch = [t.to(device) for t in next(loader)]
        for group in opt.param_groups:
            group["lr"] = tc.lr * lr_factor(step, tc.warmup_steps, tc.max_steps)
        d_loss = None
        if adversary is None:
            loss = loss_fn(ddp, *batch)
        else:
            loss, fake, real = loss_fn(ddp, *batch)
            if step >= adversary_from:
                fake, real = adversary.crop(fake, real)
                d_loss = adversary.discriminator_step(fake, real)
                loss = loss + adversary.generator_loss(fake, real)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.4f}", **({"d_loss": f"{d_loss:.3f}"} if d_loss is not None else {}))
        out_of_time = tc.max_minutes and time.time() - start > tc.max_minutes * 60
        if rank == 0 and (step % tc.val_every == 0 or step == tc.max_steps or out_of_time):
            model.eval()
            with torch.no_grad():
                val = val if val is not None else [t.to(device) for t in val_data()]
                stats = validate(model, *val)
            model.train()
            stale = 0 if stats["val_loss"] < best else stale + 1
            if stats["val_loss"] < best:
                best = stats["val_loss"]
                save_model(out / "best.pt", model, kind)
            extra = {"adversary": adversary.state_dict()} if adversary is not None else {}
            torch.save({**model_dict(model, kind), "optimizer": opt.state_dict(), "step": step, "best": best, "stale": stale,
                        "train_config": dataclasses.asdict(tc), **extra}, out / "last.pt")  # fmt: skip
            with open(out / "log.jsonl", "a") as log:
                d = {"d_loss": d_loss} if d_loss is not None else {}
                log.write(json.dumps({"step": step, "minutes": round((time.time() - start) / 60, 2), "train_loss": loss.item(), **d, **stats}) + "\n")
            bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in stats.items() if isinstance(v, float)))
        stop = torch.tensor([bool(out_of_time) or stale >= tc.patience], device=device)
        if world > 1:
            torch.distributed.broadcast(stop, 0)
        if stop.item():
            break
    bar.close()
    if world > 1:
        torch.distributed.destroy_process_group()
    return out / "best.pt"
