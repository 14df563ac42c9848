"""Training runs unchanged under torchrun: two CPU processes (gloo), one model, one log."""

import json
import os
import socket
import subprocess
import sys

from streamdl.models.checkpoint import load_model


def test_denoiser_training_under_torchrun_with_two_processes(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    out = tmp_path / "run"
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port,
           "-m", "streamdl", "train", "denoiser", "--corpus", str(corpus), "--out", str(out),
           "--steps", "3", "--batch-size", "2", "--workers", "0", "--warmup", "1"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("best model:") == 1  # rank 0 speaks for the run
    lines = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [3]  # validated and logged by rank 0 only
    load_model(out / "best.pt", "denoiser")


RANKS_AGREE = """
import os

import torch
from streamdl.training.adversarial import Adversary

torch.distributed.init_process_group("gloo")
rank = torch.distributed.get_rank()
torch.manual_seed(rank)  # each rank builds different discriminators and sees different audio
adversary = Adversary(torch.device("cpu"), n_ffts=(64, 128), segment=1024)
adversary.synchronize()
for _ in range(2):
    adversary.discriminator_step(torch.randn(2, 1024), torch.randn(2, 1024))
mine = torch.cat([p.detach().flatten() for p in adversary.discriminator.parameters()])
every = [torch.empty_like(mine) for _ in range(2)]
torch.distributed.all_gather(every, mine)
assert torch.equal(every[0], every[1]), "the ranks' discriminators differ"
torch.distributed.destroy_process_group()
os._exit(0)  # as streamdl's trainers do under torchrun: PyTorch's thread teardown at exit sometimes aborts
"""


def test_discriminators_stay_one_across_ranks(tmp_path):
    script = tmp_path / "ranks_agree.py"
    script.write_text(RANKS_AGREE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port, str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
