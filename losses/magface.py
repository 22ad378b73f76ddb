"""MagFace: an ArcFace margin that grows with the feature magnitude, plus a magnitude regulariser."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from conventions import BONAFIDE, HyperParameter, UsageError
from losses.additive_angular_margin import angular_margin_logit
from losses.cosine_margin import CosineMarginLoss, Scale
from losses.geometry import norm


class MagFaceLoss(CosineMarginLoss):
    """Cross-entropy over s · cos(embedding, class weight) with the target's cosine replaced by
    cos(θ + m(a)), plus λ_g · mean_b g(a):

        a = clamp(‖x‖, l_a, u_a)
        m(a) = (u_m − l_m) / (u_a − l_a) · (a − l_a) + l_m        (radians)
        g(a) = a / u_a² + 1 / a

    as the authors' MagLinear/MagLoss with easy_margin=False (their MagLinear defaults to
    easy_margin=True; this class has no easy margin). Where θ + m(a) > π, i.e. cos θ ≤ cos(π − m(a)),
    the target logit is cos θ − m(a) sin m(a), as theirs and as this repository's ArcFace: it keeps
    decreasing in θ instead of turning back up. Outside [l_a, u_a] the clamp makes the margin and g
    constant in ‖x‖ (no gradient along x there), as in their code. m(a) is differentiable in a, so the
    classification term also acts on the magnitude, as in their code. `last_terms` holds the two
    terms (cross-entropy, λ_g · mean g) of the last forward pass.
    """

    reference = (
        "Meng, Zhao, Huang, Zhou: MagFace: A Universal Representation for Face Recognition and Quality Assessment, CVPR 2021"
    )

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        l_a: Annotated[
            float,
            HyperParameter("lower bound l_a of the feature magnitude a = clamp(||x||, l_a, u_a)", unit="embedding norm", interval="(0, inf)"),
        ] = 10.0,
        u_a: Annotated[
            float,
            HyperParameter("upper bound u_a of the feature magnitude; must exceed l_a", unit="embedding norm", interval="(0, inf)"),
        ] = 110.0,
        l_m: Annotated[float, HyperParameter("angular margin at a = l_a", unit="radians", interval="[0, pi)")] = 0.45,
        u_m: Annotated[float, HyperParameter("angular margin at a = u_a", unit="radians", interval="[0, pi)")] = 0.8,
        lambda_g: Annotated[
            float, HyperParameter("weight of the magnitude regulariser g(a) = a/u_a^2 + 1/a", interval="[0, inf)")
        ] = 20.0,
        s: Scale = 64.0,
    ) -> None:
        if not u_a > l_a:
            raise UsageError(f"--u_a {u_a} must exceed --l_a {l_a} for MagFace")
        super().__init__(embedding_dim, n_classes, s)
        self.l_a, self.u_a, self.l_m, self.u_m, self.lambda_g = l_a, u_a, l_m, u_m, lambda_g

    def magnitude(self, embedding: torch.Tensor) -> torch.Tensor:
        """a = clamp(‖x‖, l_a, u_a) [B]; the clamp also keeps 1/a and the margin finite for ‖x‖ = 0 or 1e30."""
        return norm(embedding).clamp(self.l_a, self.u_a)

    def margin(self, magnitude: torch.Tensor) -> torch.Tensor:
        """m(a), radians [B]."""
        return (self.u_m - self.l_m) / (self.u_a - self.l_a) * (magnitude - self.l_a) + self.l_m

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        magnitude = self.magnitude(embedding)
        cos = self.cosine(embedding)
        target = labels.unsqueeze(1)
        cos_target = cos.gather(1, target).squeeze(1)
        logits = cos.scatter(1, target, angular_margin_logit(cos_target, self.margin(magnitude)).unsqueeze(1))
        regulariser = magnitude / self.u_a**2 + 1 / magnitude
        classification = -F.log_softmax(self.s * logits, dim=1).gather(1, target).mean()
        magnitude_term = self.lambda_g * regulariser.mean()
        self.last_terms = {"classification": classification.detach(), "magnitude": magnitude_term.detach()}
        return classification + magnitude_term

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.cosine(embedding)[:, BONAFIDE]
