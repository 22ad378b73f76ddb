"""Focal loss on the classifier's logits."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from conventions import BONAFIDE, HyperParameter
from losses.base import BaseLoss, ClassWeights, bonafide_log_odds, class_weight_tensor, log_one_minus_target_probability


class FocalLoss(BaseLoss):
    """loss = mean_b −α_t (1 − p_t)^γ log p_t with p = softmax(logits [B, C]), p_t the target's;
    α_t = α for spoof (label ≠ BONAFIDE) and 1 − α for bona fide (torchvision's sigmoid_focal_loss
    convention with target = label). log p_t comes from log_softmax and (1 − p_t)^γ from
    exp(γ log(1 − p_t)) with log(1 − p_t) = logsumexp(other logits) − logsumexp(logits), so both stay
    exact (and differentiable) where p_t rounds to 1. γ = 0, α = 0.5 is half the cross-entropy.
    With class weights w the mean becomes Σ_b w_yb · term_b / Σ_b w_yb (as the weighted cross-entropy).
    """

    loss_type = "logits"
    reference = "Lin, Goyal, Girshick, He, Dollar: Focal Loss for Dense Object Detection, ICCV 2017"
    score_description = "bona fide log-odds: logit_bonafide - logsumexp(other logits)"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        gamma: Annotated[
            float, HyperParameter("focusing exponent γ on (1 - p_target); 0 = weighted cross-entropy", interval="[0, inf)")
        ] = 2.0,
        alpha: Annotated[
            float, HyperParameter("class weight α of spoof trials (bona fide trials get 1 - α)", interval="[0, 1]")
        ] = 0.25,
        class_weights: ClassWeights = None,
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        self.gamma, self.alpha = gamma, alpha
        self.class_weights = class_weight_tensor(class_weights)

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        log_p_target = F.log_softmax(logits, dim=1).gather(1, labels.unsqueeze(1)).squeeze(1)
        alpha = torch.full_like(log_p_target, self.alpha).masked_fill(labels == BONAFIDE, 1.0 - self.alpha)
        terms = -alpha * log_p_target
        if self.gamma != 0:
            terms = terms * torch.exp(self.gamma * log_one_minus_target_probability(logits, labels))
        if self.class_weights is None:
            return terms.mean()
        weights = self.class_weights.to(terms.device, terms.dtype)[labels]
        return (weights * terms).sum() / weights.sum()

    def compute_score(self, logits: torch.Tensor) -> torch.Tensor:
        return bonafide_log_odds(logits)
