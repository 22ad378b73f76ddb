"""Pair heads: classify a test utterance against a bona fide reference of the same speaker.

Each head combines the processed embeddings of the reference r [B, E] and of the test
utterance x [B, E] into one vector and puts it through the FF head: forward(x, r) -> logits [B, C].
The combinations are ca-mhfa's: r − x, |r − x|, (r − x)², and the concatenation [r, x].
"""
from __future__ import annotations

import torch
from torch import nn

from classifiers.feedforward import FF, Dropout, HiddenDim


class PairFF(nn.Module):
    """FF on `combine(x, reference)`; subclasses define the combination and its width (in E)."""

    pair_input = True
    width = 1

    def __init__(self, in_dim: int, n_classes: int, hidden_dim: HiddenDim = 128, dropout: Dropout = 0.0) -> None:
        super().__init__()
        self.ff = FF(self.width * in_dim, n_classes, hidden_dim, dropout)

    def combine(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return self.ff(self.combine(x, reference))


class FFDiff(PairFF):
    """FF on the difference r − x."""

    def combine(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return reference - x


class FFDiffAbs(PairFF):
    """FF on the absolute difference |r − x|."""

    def combine(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return (reference - x).abs()


class FFDiffQuadratic(PairFF):
    """FF on the squared difference (r − x)², element-wise."""

    def combine(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return (reference - x).square()


class FFConcat(PairFF):
    """FF on the concatenation [r, x] (2E)."""

    width = 2

    def combine(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return torch.cat([reference, x], dim=1)
