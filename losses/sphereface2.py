"""SphereFace2: one-vs-all binary classification on the hypersphere."""
from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from conventions import BONAFIDE, HyperParameter
from losses.base import BaseLoss
from losses.geometry import cosine_to

MARGIN_TYPES = ("C", "A", "M")


def similarity_adjustment(z, t: float):
    """g(z) = 2((z + 1)/2)^t − 1: maps [−1, 1] onto itself, increasing for t > 0."""
    return 2.0 * ((z + 1.0) / 2.0) ** t - 1.0


def initial_logits(margin_type: str, margin: float, r: float, t: float) -> tuple[float, float]:
    """(a_y, a_i): the bias-free positive and negative logits at initialisation, where every cosine is 0."""
    if margin_type == "C":
        return r * (similarity_adjustment(0.0, t) - margin), r * (similarity_adjustment(0.0, t) + margin)
    theta_y = min(math.pi, math.pi / 2 + margin) if margin_type == "A" else min(math.pi, margin * math.pi / 2)
    return r * similarity_adjustment(math.cos(theta_y), t), r * similarity_adjustment(0.0, t)


def closed_form_bias(lamb: float, n_classes: int, a_y: float, a_i: float) -> float:
    """The b minimising λ softplus(−(a_y + b)) + (1 − λ)(C − 1) softplus(a_i + b), the loss at initialisation:

        z = λ / ((1 − λ)(C − 1)),  b = log(2z) − a_i − log(1 − z + sqrt((1 − z)² + 4z exp(a_y − a_i)))

    (OpenSphere's SphereFace2 initialisation), evaluated in log space so that a large r·margin
    can neither overflow exp nor cancel in 1 − z + sqrt(...).
    """
    z = lamb / ((1 - lamb) * (n_classes - 1))
    e = a_y - a_i
    log_abs_one_minus_z = math.log(abs(1 - z)) if z != 1 else -math.inf
    half_log_root = 0.5 * np.logaddexp(2 * log_abs_one_minus_z, math.log(4 * z) + e)  # log sqrt((1 − z)² + 4z e^e)
    if z <= 1:
        log_denominator = np.logaddexp(math.log(1 - z) if z < 1 else -math.inf, half_log_root)
    else:  # 1 − z + sqrt(T) = 4z e^e / (sqrt(T) + z − 1): no cancellation
        log_denominator = math.log(4 * z) + e - np.logaddexp(half_log_root, math.log(z - 1))
    return float(math.log(2 * z) - a_i - log_denominator)


class SphereFace2Loss(BaseLoss):
    """SphereFace2 (Wen et al., ICLR 2022) as in the authors' OpenSphere `SphereFace2` head.

    Class weights `weight [C, E']` and one shared learnable bias `bias [1]`. With c_j = cos θ_j the
    cosine of the embedding to class j, target y, g the similarity adjustment above:

        binary logit     z_j = r · (c_j + sg[ĝ_j − c_j]) + b     (value r ĝ_j + b, gradient r ∂c_j)
        margin type C    ĝ_y = g(c_y) − m,          ĝ_j = g(c_j) + m  (j ≠ y)
        margin type A    ĝ_y = g(cos(min(θ_y + m, π))),  ĝ_j = g(c_j)
        margin type M    ĝ_y = g(cos(min(m θ_y, π))),    ĝ_j = g(c_j)
        loss = lw / r · mean_b [ λ softplus(−z_y) + (1 − λ) Σ_{j≠y} softplus(z_j) ]

    sg[·] is stop-gradient: OpenSphere computes ĝ − c under torch.no_grad() and adds it to c, so the
    margin and g shape the logit values while the gradient flows as through r·c + b. Its
    BCE-with-logits mean over B·C entries with weight lw·C/r·(λ or 1 − λ) is the sum above over j.
    b starts at the closed-form minimiser of the loss at initialisation (all cosines 0).

    Deliberate differences from OpenSphere (values agree otherwise): W is normalised inside the graph
    (OpenSphere overwrites w.data with its normalised copy before each forward); for types A and M the
    angle comes from acos(clamp(c, −1, 1)) and the target angle is clamped to [0, π] (OpenSphere clamps
    c to ±(1 − 1e-5) and the angle to [1e-5, 3.14159]), and non-target cosines are used as they are,
    not through acos and cos again.
    Score: the bona fide class's binary logit without margin, r·g(c_bonafide) + b, the log-odds of its
    one-vs-all classifier; increasing in c_bonafide.
    """

    loss_type = "embedding"
    reference = "Wen, Liu, Weller, Raj, Singh: SphereFace2: Binary Classification is All You Need for Deep Face Recognition, ICLR 2022"
    score_description = "bona fide binary logit without margin: r * g(cos to the bona fide weight) + b, g(z) = 2((z+1)/2)^t - 1"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        margin_type: Annotated[
            str,
            HyperParameter(
                "C: additive cosine margin on g(cos); A: additive angular margin; M: multiplicative angular margin",
                choices=MARGIN_TYPES,
            ),
        ] = "C",
        margin: Annotated[
            float,
            HyperParameter(
                "margin m: C: subtracted from g(cos) of the target and added to the others; A: added to the target "
                "angle; M: factor on the target angle",
                unit="by margin_type: C cosine units, A radians, M angle multiplier",
                interval="[0, inf)",
            ),
        ] = 0.4,
        r: Annotated[float, HyperParameter("scale r of the binary logits", interval="(0, inf)")] = 40.0,
        lamb: Annotated[
            float, HyperParameter("weight λ of the positive term (1 - λ for each negative)", interval="(0, 1)")
        ] = 0.7,
        t: Annotated[
            float, HyperParameter("exponent t of the similarity adjustment g(z) = 2((z+1)/2)^t - 1", interval="(0, inf)")
        ] = 3.0,
        lw: Annotated[float, HyperParameter("loss weight lw", interval="(0, inf)")] = 50.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        if margin_type not in MARGIN_TYPES:
            raise ValueError(f"margin_type must be one of {MARGIN_TYPES}, got {margin_type!r}")
        if n_classes < 2:
            raise ValueError("SphereFace2 needs at least two classes (its bias initialisation divides by C - 1)")
        self.margin_type, self.margin, self.r, self.lamb, self.t, self.lw = margin_type, margin, r, lamb, t, lw
        self.weight = nn.Parameter(torch.empty(n_classes, embedding_dim))
        nn.init.xavier_normal_(self.weight)
        bias = closed_form_bias(lamb, n_classes, *initial_logits(margin_type, margin, r, t))
        self.bias = nn.Parameter(torch.tensor([bias]))

    def adjusted_similarity(self, cos: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """ĝ [B, C] (no gradient) for the cosines [B, C] and the target mask [B, C]."""
        with torch.no_grad():
            # rounding can leave a cosine a few ulp outside [−1, 1]: acos and a non-integer power of (c + 1)/2 need it inside
            cos = cos.clamp(-1.0, 1.0)
            if self.margin_type == "C":
                return similarity_adjustment(cos, self.t) - self.margin * (2.0 * target.to(cos.dtype) - 1.0)
            theta = torch.acos(cos)
            theta_margin = theta + self.margin if self.margin_type == "A" else theta * self.margin
            # the target angle stays within [0, π] (as OpenSphere's clamp): its logit saturates at g(−1) = −1
            cos_margin = torch.cos(theta_margin.clamp(0.0, math.pi))
            return similarity_adjustment(torch.where(target, cos_margin, cos), self.t)

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = cosine_to(embedding, self.weight)
        target = F.one_hot(labels, self.n_classes).bool()
        difference = self.adjusted_similarity(cos, target) - cos.detach()
        logits = self.r * (cos + difference) + self.bias
        terms = torch.where(target, self.lamb * F.softplus(-logits), (1 - self.lamb) * F.softplus(logits))
        return self.lw / self.r * terms.sum(dim=1).mean()

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        cos = cosine_to(embedding, self.weight)[:, BONAFIDE].clamp(-1.0, 1.0)  # as in adjusted_similarity
        return self.r * similarity_adjustment(cos, self.t) + self.bias
