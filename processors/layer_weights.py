"""A learned convex combination of the layers of a stack, as in SUPERB."""
from __future__ import annotations

import torch
from torch import nn


class LayerWeights(nn.Module):
    """hidden [B, L, T', D] -> [B, T', D]: sum of the layers weighted by softmax(w), w initialised equal."""

    def __init__(self, n_layers: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_layers))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bltd,l->btd", hidden, self.logits.softmax(dim=0).to(hidden.dtype))
