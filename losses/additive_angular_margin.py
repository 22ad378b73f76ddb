"""ArcFace: additive angular margin."""
from __future__ import annotations

import math

import torch

from common import HyperParameter
from losses.cosine_margin import CosineMarginLoss



class AdditiveAngularMarginLoss(CosineMarginLoss):
    """Target logit cos(θ + m).

    Without easy margin, where θ + m > π the target logit is cos θ − m·sin m (monotone in θ,
    as PML's ArcFaceLoss); with easy margin, the margin applies only where cos θ > 0.
    """

    reference = "Deng et al., ArcFace: Additive Angular Margin Loss for Deep Face Recognition, CVPR 2019"
    hyper_parameters = {
        "margin": HyperParameter(float, "additive angular margin m, radians", interval="[0, pi)"),
        "s": HyperParameter(float, "scale s of the cosine logits", interval="(0, inf)"),
        "easy_margin": HyperParameter(bool, "apply the margin only where cos θ > 0"),
    }

    def __init__(
        self, embedding_dim: int, n_classes: int, margin: float = 0.5, s: float = 30.0, easy_margin: bool = False
    ) -> None:
        super().__init__(embedding_dim, n_classes, s)
        self.margin = margin
        self.easy_margin = easy_margin

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        # cos θ is kept one machine epsilon inside ±1, so that sin θ and its gradient stay finite
        eps = torch.finfo(cos_target.dtype).eps
        cos = cos_target.clamp(-1 + eps, 1 - eps)
        sin = torch.sqrt(1 - cos * cos)
        cos_plus_margin = cos * math.cos(self.margin) - sin * math.sin(self.margin)
        if self.easy_margin:
            return torch.where(cos > 0, cos_plus_margin, cos)
        within_pi = cos >= math.cos(math.pi - self.margin)
        return torch.where(within_pi, cos_plus_margin, cos - self.margin * math.sin(self.margin))
