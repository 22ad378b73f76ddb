"""Sub-center ArcFace: ArcFace on the largest cosine over K sub-centres per class."""
from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn

from conventions import HyperParameter
from losses.additive_angular_margin import AdditiveAngularMarginLoss, AngularMargin
from losses.cosine_margin import Scale
from losses.geometry import cosine_to


class SubCenterArcFaceLoss(AdditiveAngularMarginLoss):
    """ArcFace (target logit cos(θ + m), scale s, no easy margin) where cos θ_j is the largest cosine
    between the embedding and the K sub-centres of class j; equal to PML's
    SubCenterArcFaceLoss(margin=degrees(m), scale=s, sub_centers=K).

    Learnable sub-centres `weight [C, K, E']` (weight[j, k] is sub-centre k of class j; PML's W [E', C·K]
    is `weight.reshape(C * K, E').T`), initialised as PML's (standard normal).
    """

    reference = (
        "Deng et al., Sub-center ArcFace: Boosting Face Recognition by Large-Scale Noisy Web Faces, ECCV 2020"
    )
    score_description = "largest cosine between the embedding and the bona fide sub-centres"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        margin: AngularMargin = math.radians(28.6),
        s: Scale = 64.0,
        sub_centers: Annotated[int, HyperParameter("number K of sub-centres per class", interval="[1, inf)")] = 3,
    ) -> None:
        super().__init__(embedding_dim, n_classes, margin=margin, s=s, easy_margin=False)
        self.sub_centers = sub_centers
        self.weight = nn.Parameter(torch.empty(n_classes, sub_centers, embedding_dim))
        nn.init.normal_(self.weight)  # PML's default weight_init_func

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """Largest cosine over each class's sub-centres [B, C] (max: on a tie one sub-centre gets the gradient, as PML)."""
        return cosine_to(embedding, self.weight).max(dim=2).values
