"""SoftTriple: softmax-margin loss on a relaxed similarity to K centres per class."""
from __future__ import annotations

import math
from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from conventions import HyperParameter
from losses.cosine_margin import CosineMarginLoss
from losses.geometry import cosine_to


class SoftTripleLoss(CosineMarginLoss):
    """Cross-entropy over la · S_j, the target's S reduced by the margin, where the relaxed similarity
    S_j = Σ_k softmax_k(cos θ_jk / gamma) cos θ_jk weighs the cosines to class j's K centres;
    equal to PML's SoftTripleLoss(centers_per_class=K, la, gamma, margin) (which, like this loss,
    has no weight regulariser by default, unlike the paper's optional one).

    Learnable centres `weight [C, K, E']` (weight[j, k] is centre k of class j; PML's fc [E', C·K] is
    `weight.reshape(C * K, E').T`), initialised as PML's: kaiming_uniform_(a=√5) on that [E', C·K]
    matrix, i.e. uniform in ±1/√(C·K).
    """

    reference = "Qian et al., SoftTriple Loss: Deep Metric Learning Without Triplet Sampling, ICCV 2019"
    score_description = (
        "relaxed similarity to the bona fide class: its centres' cosines weighted by softmax(cosine / gamma)"
    )

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        centers_per_class: Annotated[int, HyperParameter("number K of centres per class", interval="[1, inf)")] = 10,
        la: Annotated[float, HyperParameter("scale lambda of the similarity logits", interval="(0, inf)")] = 20.0,
        gamma: Annotated[
            float, HyperParameter("temperature of the softmax over a class's centres", unit="cosine units", interval="(0, inf)")
        ] = 0.1,
        margin: Annotated[
            float, HyperParameter("margin delta subtracted from the target similarity", unit="cosine units", interval="[0, 2]")
        ] = 0.01,
    ) -> None:
        super().__init__(embedding_dim, n_classes, s=la)
        self.centers_per_class = centers_per_class
        self.la = la
        self.gamma = gamma
        self.margin = margin
        self.weight = nn.Parameter(torch.empty(n_classes, centers_per_class, embedding_dim))
        # PML's weight_init_func on its [E', C·K] layout (fan_in = C·K), here a transposed view of ours
        nn.init.kaiming_uniform_(self.weight.data.view(-1, embedding_dim).T, a=math.sqrt(5))

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """The relaxed similarity S [B, C]."""
        cos = cosine_to(embedding, self.weight)  # [B, C, K]
        return (F.softmax(cos * (1.0 / self.gamma), dim=2) * cos).sum(dim=2)

    def target_logit(self, similarity_target: torch.Tensor) -> torch.Tensor:
        return similarity_target - self.margin
