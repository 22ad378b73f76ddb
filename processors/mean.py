"""Mean pooling over frames and layers."""
from __future__ import annotations

import torch
from torch import nn

from masking import frame_mask


class MeanPooling(nn.Module):
    """Mean over the valid frames and over the layers: hidden [B, L, T', D] -> [B, D]."""

    def __init__(self, n_layers: int, dim: int) -> None:
        super().__init__()
        self.out_dim = dim

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        valid = frame_mask(frame_lengths, hidden.shape[2])[:, None, :, None]
        total = torch.where(valid, hidden, 0.0).sum(dim=(1, 2))
        count = frame_lengths.clamp(min=1).to(hidden.dtype) * hidden.shape[1]
        return total / count.unsqueeze(1)
