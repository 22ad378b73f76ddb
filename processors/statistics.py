"""Statistics pooling (mean and std over frames) and attentive statistics pooling (Okabe et al., 2018)."""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from conventions import HyperParameter
from masking import masked_softmax, weighted_mean_and_std, zero_padding
from processors.layer_weights import LayerWeights


class _WeightedStatisticsPooling(nn.Module):
    """Layers mixed by LayerWeights, then the mean and std over the valid frames under
    softmax(attention_logits): hidden [B, L, T', D] -> [B, 2D]."""

    def __init__(self, n_layers: int, dim: int) -> None:
        super().__init__()
        self.layer_weights = LayerWeights(n_layers)
        self.out_dim = 2 * dim

    def attention_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Frame logits [B, T', 1] for the mixed frames `x [B, T', D]`."""
        raise NotImplementedError

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        hidden, valid = zero_padding(hidden, frame_lengths)
        x = self.layer_weights(hidden)
        mean, std = weighted_mean_and_std(x, masked_softmax(self.attention_logits(x), valid))
        return torch.cat([mean, std], dim=1)


class MeanStdPooling(_WeightedStatisticsPooling):
    """Statistics pooling: mean and standard deviation over the valid frames of the layer mix,
    hidden [B, L, T', D] -> [B, 2D]."""

    def attention_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Equal logits: every valid frame weighs 1 / frame_length."""
        return x.new_zeros(*x.shape[:2], 1)


class AttentiveStatisticsPooling(_WeightedStatisticsPooling):
    """Attentive statistics pooling (Okabe et al., 2018): hidden [B, L, T', D] -> [B, 2D].

    e_t = vᵀ tanh(W h_t + b) on the layer mix h_t; α = softmax of e over the valid frames;
    output [Σ α_t h_t, sqrt(Σ α_t h_t² − (Σ α_t h_t)²)]. The paper's scalar bias k is left out:
    a constant added to every logit cancels in the softmax.
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        attention_dim: Annotated[
            int, HyperParameter("hidden units of the frame attention (W: D -> attention_dim)", interval="[1, inf)")
        ] = 128,
    ) -> None:
        super().__init__(n_layers, dim)
        self.attention = nn.Sequential(nn.Linear(dim, attention_dim), nn.Tanh(), nn.Linear(attention_dim, 1, bias=False))

    def attention_logits(self, x: torch.Tensor) -> torch.Tensor:
        """e_t = vᵀ tanh(W x_t + b): [B, T', D] -> [B, T', 1]."""
        return self.attention(x)
