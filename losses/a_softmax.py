"""A-Softmax (SphereFace): multiplicative angular margin, feature norm kept, annealed λ."""
from __future__ import annotations

import math
from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from conventions import BONAFIDE, HyperParameter
from losses.base import BaseLoss, log_one_minus_target_probability
from losses.geometry import cos_multiple_angle, cosine_of_directions, cosine_to, norm_and_direction


class ASoftmaxLoss(BaseLoss):
    """A-Softmax as in the paper and its reference AngleLinear/AngleLoss practice.

    Class weights `weight [C, E']` are normalised, the embedding's norm ‖x‖ is kept:
        non-target logit  ‖x‖ cos θ_j
        target logit      ‖x‖ (λ cos θ_y + ψ(θ_y)) / (1 + λ),
        ψ(θ) = (−1)^k cos(mθ) − 2k,  k = floor(mθ/π) ∈ [0, m−1]  (cos(mθ) as a Chebyshev polynomial of
        cos θ; k is piecewise constant and carries no gradient)
        loss = mean_b (1 − p_t)^γ · (−log p_t),  p_t the softmax probability of the target.
    As in the reference AngleLoss, the focal factor (1 − p_t)^γ is a constant for the gradient
    (`pt = Variable(logpt.data.exp())` there); only −log p_t is differentiated.

    λ = max(λ_min, λ_max / (1 + 0.1·step)). `step` (a buffer, saved in checkpoints) counts the
    training-mode forward passes; like the reference (`self.it += 1` first), the n-th training pass
    uses λ(n). Evaluation-mode passes use λ(step) and leave `step` unchanged.
    With λ_min = λ_max = 0 and γ = 0 this is PML's SphereFaceLoss(margin=m, scale=1).
    """

    loss_type = "embedding"
    reference = "Liu, Wen, Yu, Li, Raj, Song: SphereFace: Deep Hypersphere Embedding for Face Recognition, CVPR 2017"
    score_description = "cosine between the embedding and the bona fide class weight"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        margin: Annotated[
            int,
            HyperParameter(
                "integer angular margin m: the target angle θ enters as cos(mθ)", unit="angle multiplier", interval="[1, inf)"
            ),
        ] = 4,
        gamma: Annotated[
            float, HyperParameter("focal exponent γ on (1 - p_target); 0 = cross-entropy", interval="[0, inf)")
        ] = 0.0,
        lambda_min: Annotated[
            float, HyperParameter("floor of the annealed weight λ of cos θ in the target logit", interval="[0, inf)")
        ] = 5.0,
        lambda_max: Annotated[
            float, HyperParameter("λ_max in λ = max(λ_min, λ_max / (1 + 0.1 · training steps))", interval="[0, inf)")
        ] = 1500.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        if margin != int(margin) or margin < 1:
            raise ValueError(f"margin must be a positive integer, got {margin}")
        self.margin = int(margin)  # a float 4.0 from the command line would break range() and (−1)^k
        self.gamma = gamma
        self.lambda_min = lambda_min
        self.lambda_max = lambda_max
        self.weight = nn.Parameter(torch.empty(n_classes, embedding_dim))
        nn.init.xavier_uniform_(self.weight)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    @property
    def lamb(self) -> float:
        """λ for the current `step` (the one the last training pass used, and evaluation passes use)."""
        return max(self.lambda_min, self.lambda_max / (1 + 0.1 * int(self.step)))

    def psi(self, cos_target: torch.Tensor) -> torch.Tensor:
        """ψ(θ) = (−1)^k cos(mθ) − 2k of the target cosines [B]."""
        with torch.no_grad():
            # acos is defined on [−1, 1] only; rounding can leave a cosine a few ulp outside
            theta = torch.acos(cos_target.clamp(-1.0, 1.0))
            # θ = π gives k = m; ψ is continuous at every kπ/m, so the paper's range k ≤ m − 1 gives the same value
            k = torch.floor(self.margin * theta / math.pi).clamp(0, self.margin - 1)
            sign = 1.0 - 2.0 * torch.remainder(k, 2)
        return sign * cos_multiple_angle(cos_target, self.margin) - 2.0 * k

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                self.step += 1
        # λ as a tensor: no host synchronisation per step
        lamb = (self.lambda_max / (1 + 0.1 * self.step.double())).clamp_min(self.lambda_min).to(embedding.dtype)
        length, direction = norm_and_direction(embedding)
        cos = cosine_of_directions(direction, self.weight)
        target = labels.unsqueeze(1)
        cos_target = cos.gather(1, target).squeeze(1)
        target_logit = (lamb * cos_target + self.psi(cos_target)) / (1 + lamb)
        logits = length.unsqueeze(1) * cos.scatter(1, target, target_logit.unsqueeze(1))
        nll = -F.log_softmax(logits, dim=1).gather(1, target).squeeze(1)
        if self.gamma == 0:
            return nll.mean()
        # (1 − p_t)^γ = exp(γ log(1 − p_t)), constant for the gradient as in the reference AngleLoss
        focal = torch.exp(self.gamma * log_one_minus_target_probability(logits, labels)).detach()
        return (focal * nll).mean()

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return cosine_to(embedding, self.weight)[:, BONAFIDE]
