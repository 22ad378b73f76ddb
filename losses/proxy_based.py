"""The shared part of the proxy losses: one learnable proxy per class, scored by the cosine to the bona fide one."""
from __future__ import annotations

import torch
from torch import nn

from conventions import BONAFIDE
from losses.base import BaseLoss
from losses.geometry import cosine_to


class ProxyLoss(BaseLoss):
    """Learnable `proxies [C, E']` (PML's layout too), initialised by `init_proxies`; `cosine` gives
    the cosines to them, and the score is the cosine to the bona fide proxy."""

    loss_type = "embedding"
    score_description = "cosine between the embedding and the bona fide proxy"

    def __init__(self, embedding_dim: int, n_classes: int) -> None:
        super().__init__(embedding_dim, n_classes)
        self.proxies = nn.Parameter(torch.empty(n_classes, embedding_dim))
        self.init_proxies(self.proxies)

    def init_proxies(self, proxies: nn.Parameter) -> None:
        """PML's default weight_init_func: standard normal."""
        nn.init.normal_(proxies)

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """[B, E'] -> cosines to every proxy [B, C], overflow-free and float32 under autocast."""
        return cosine_to(embedding, self.proxies)

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.cosine(embedding)[:, BONAFIDE]
