"""Feed-forward heads: `Linear` and `FF` return logits, `EmbeddingFF` returns (logits, embedding)."""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from conventions import HyperParameter

HiddenDim = Annotated[int, HyperParameter("units of the hidden layer (EmbeddingFF: also the embedding size E')", interval="[1, inf)")]
Dropout = Annotated[float, HyperParameter("dropout probability after the hidden layer", unit="probability", interval="[0, 1)")]


def hidden_layer(in_dim: int, hidden_dim: int, dropout: float) -> nn.Sequential:
    """Input normalisation, Linear, LeakyReLU, dropout: [B, in_dim] -> [B, hidden_dim]."""
    return nn.Sequential(
        nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout)
    )


class LinearHead(nn.Module):
    """x [B, E] -> logits [B, C] = W x + b: the output layer of the published reference models
    (AASIST's out_layer, RawNet2's fc2_gru, ...), whose processors end where this layer starts."""

    def __init__(self, in_dim: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class FF(nn.Module):
    """x [B, E] -> logits [B, C] through one hidden layer."""

    def __init__(self, in_dim: int, n_classes: int, hidden_dim: HiddenDim = 128, dropout: Dropout = 0.0) -> None:
        super().__init__()
        self.layers = nn.Sequential(hidden_layer(in_dim, hidden_dim, dropout), nn.Linear(hidden_dim, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class EmbeddingFF(nn.Module):
    """x [B, E] -> (logits [B, C], embedding [B, E']).

    A hidden layer, then a linear bottleneck whose output is the embedding (E' = hidden_dim)
    that embedding losses work on, then a linear layer from the embedding to the logits.
    """

    def __init__(self, in_dim: int, n_classes: int, hidden_dim: HiddenDim = 128, dropout: Dropout = 0.0) -> None:
        super().__init__()
        self.embedding_dim = hidden_dim
        self.embed = nn.Sequential(hidden_layer(in_dim, hidden_dim, dropout), nn.Linear(hidden_dim, hidden_dim))
        self.logits = nn.Linear(hidden_dim, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.embed(x)
        return self.logits(embedding), embedding
