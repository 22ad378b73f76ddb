"""Large-Margin Softmax (L-Softmax): multiplicative angular margin on unnormalised logits."""
from __future__ import annotations

import math
from typing import Annotated

import torch

from conventions import HyperParameter
from losses.base import bonafide_log_odds
from losses.cosine_margin import CosineMarginLoss
from losses.geometry import cos_multiple_angle, norm


class LargeMarginSoftmaxLoss(CosineMarginLoss):
    """Cross-entropy over the logits s · ‖W_j‖ ‖x‖ · cos θ_j, the target's cos θ replaced by
    ψ(θ) = (−1)^k cos(mθ) − 2k for θ ∈ [kπ/m, (k+1)π/m]; equal to PML's
    LargeMarginSoftmaxLoss(margin=m, scale=s).

    The class weights `weight [C, E']` are NOT normalised (their norms scale the logits), and are
    initialised as PML's (standard normal). Since the logits are not cosines, the score is the
    bona fide log-odds of the margin-free logits.
    """

    reference = "Liu et al., Large-Margin Softmax Loss for Convolutional Neural Networks, ICML 2016"
    score_description = (
        "bona fide log-odds of the margin-free logits s·‖W_j‖‖x‖cos θ_j: logit_bonafide - logsumexp(other logits)"
    )

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        margin: Annotated[
            int,
            HyperParameter(
                "multiplicative angular margin m: the target angle is multiplied by m", unit="angle multiplier", interval="[1, inf)"
            ),
        ] = 4,
        s: Annotated[
            float, HyperParameter("scale s of the logits, on top of the weight and embedding norms", interval="(0, inf)")
        ] = 1.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes, s)
        self.margin = int(margin)

    def logit_scale(self, embedding: torch.Tensor) -> torch.Tensor:
        """s · ‖x‖ · ‖W_j‖ [B, C]."""
        weight_norms = torch.linalg.vector_norm(self.weight.to(embedding.dtype), dim=1)
        return self.s * norm(embedding).unsqueeze(1) * weight_norms.unsqueeze(0)

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        m = self.margin
        # cos(mθ) as a polynomial in cos θ (PML uses the equivalent multiple-angle sum): finite value
        # and gradient at cos θ = ±1, where acos has no derivative
        cos_m_theta = cos_multiple_angle(cos_target, m)
        with torch.no_grad():
            # k with θ ∈ [kπ/m, (k+1)π/m]; cos is clamped into [−1, 1] (rounding may leave it just
            # outside, where acos is NaN); k is a constant of the differentiation, as in PML
            k = torch.floor(torch.acos(cos_target.clamp(-1, 1)) / (math.pi / m))
        return (1 - 2 * (k % 2)) * cos_m_theta - 2 * k

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return bonafide_log_odds(self.logit_scale(embedding) * self.cosine(embedding))

