"""ArcFace: additive angular margin."""
from __future__ import annotations

import math
from typing import Annotated

import torch

from conventions import HyperParameter
from losses.cosine_margin import CosineMarginLoss, Scale

AngularMargin = Annotated[float, HyperParameter("additive angular margin m", unit="radians", interval="[0, pi)")]

class AdditiveAngularMarginLoss(CosineMarginLoss):
    """Target logit cos(θ + m).

    Without easy margin, where θ + m > π the target logit is cos θ − m·sin m (monotone in θ,
    as PML's ArcFaceLoss); with easy margin, the margin applies only where cos θ > 0.
    """

    reference = "Deng et al., ArcFace: Additive Angular Margin Loss for Deep Face Recognition, CVPR 2019"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        margin: AngularMargin = 0.5,
        s: Scale = 30.0,
        easy_margin: Annotated[bool, HyperParameter("apply the margin only where cos θ > 0")] = False,
    ) -> None:
        super().__init__(embedding_dim, n_classes, s)
        self.margin = margin
        self.easy_margin = easy_margin

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        if self.easy_margin:
            return torch.where(cos_target > 0, cos_plus_angle(cos_target, self.margin), cos_target)
        return angular_margin_logit(cos_target, self.margin)


def _cos_sin(angle: float | torch.Tensor) -> tuple:
    """(cos, sin) of an angle given as a number (computed once, in Python) or a tensor."""
    if isinstance(angle, torch.Tensor):
        return torch.cos(angle), torch.sin(angle)
    return math.cos(angle), math.sin(angle)


def cos_plus_angle(cos_target: torch.Tensor, margin: float | torch.Tensor) -> torch.Tensor:
    """cos(θ + m) from cos θ [B]; m in radians, one or per trial [B]."""
    cos_m, sin_m = _cos_sin(margin)
    # cos θ is kept one machine epsilon inside ±1, so that sin θ and its gradient stay finite
    eps = torch.finfo(cos_target.dtype).eps
    cos = cos_target.clamp(-1 + eps, 1 - eps)
    return cos * cos_m - torch.sqrt(1 - cos * cos) * sin_m


def angular_margin_logit(cos_target: torch.Tensor, margin: float | torch.Tensor) -> torch.Tensor:
    """cos(θ + m) where θ + m ≤ π, else cos θ − m·sin m, which keeps decreasing in θ (as PML's
    ArcFaceLoss); m in radians, one or per trial [B]."""
    cos_m, sin_m = _cos_sin(margin)
    within_pi = cos_target >= -cos_m  # θ ≤ π − m
    return torch.where(within_pi, cos_plus_angle(cos_target, margin), cos_target - margin * sin_m)
