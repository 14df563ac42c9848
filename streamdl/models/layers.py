"""Layers more than one model is built from."""

from __future__ import annotations

import torch
from torch import nn


class CausalConv(nn.Module):
    """Conv1d over time that sees only the current and past frames; its state is the last kernel-1 inputs."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel)
        self.context = kernel - 1

    def forward(self, x: torch.Tensor, buf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, C_in, T), buf (B, C_in, kernel-1) -> (B, C_out, T), new buf."""
        x = torch.cat([buf, x], dim=2)
        return self.conv(x), x[:, :, x.shape[2] - self.context :]
