"""CosFace (large margin cosine loss): additive cosine margin."""
from __future__ import annotations

from typing import Annotated

import torch

from conventions import HyperParameter
from losses.cosine_margin import CosineMarginLoss, Scale


class CosFaceLoss(CosineMarginLoss):
    """Target logit cos θ − m, all logits scaled by s; equal to PML's CosFaceLoss(margin=m, scale=s).

    Learnable class weights `weight [C, E']`, initialised as PML's (standard normal).
    """

    reference = "Wang et al., CosFace: Large Margin Cosine Loss for Deep Face Recognition, CVPR 2018"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        margin: Annotated[
            float, HyperParameter("additive margin m subtracted from the target cosine", unit="cosine units", interval="[0, 2]")
        ] = 0.35,
        s: Scale = 30.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes, s)
        self.margin = margin

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        return cos_target - self.margin
