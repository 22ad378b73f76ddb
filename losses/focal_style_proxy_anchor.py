"""Proxy-Anchor with focal-style weights: every pair's exponential weighted by its hardness."""
from __future__ import annotations

from typing import Annotated

import torch

from conventions import HyperParameter
from losses.proxy_anchor import ProxyAlpha, ProxyAnchorLoss, ProxyDelta


class FocalStyleProxyAnchorLoss(ProxyAnchorLoss):
    """Proxy-Anchor (same sums and normalisation: positive term / classes present, negative term /
    all classes) with, for cosine s of a pair, the positive exponential exp(−α(s − δ)) weighted by
    w⁺ = clamp(1 − s, 0, 1)^γ_pos and the negative one exp(α(s + δ)) by w⁻ = clamp(s, 0, 1)^γ_neg:
    easy pairs (a positive at s → 1, a negative at s ≤ 0) count less or not at all.
    With γ_pos = γ_neg = 0 every weight is 1 (0^0 = 1) and it is Proxy-Anchor.

    Learnable `proxies [C, E']`, initialised as Proxy-Anchor's.
    """

    reference = (
        "Kim et al., Proxy Anchor Loss for Deep Metric Learning, CVPR 2020; hardness weights after "
        "Lin et al., Focal Loss for Dense Object Detection, ICCV 2017"
    )

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        proxy_alpha: ProxyAlpha = 32.0,
        proxy_delta: ProxyDelta = 0.1,
        gamma_pos: Annotated[
            float, HyperParameter("focusing exponent of the positive-pair weight clamp(1 - cosine, 0, 1)", interval="[0, inf)")
        ] = 2.0,
        gamma_neg: Annotated[
            float, HyperParameter("focusing exponent of the negative-pair weight clamp(cosine, 0, 1)", interval="[0, inf)")
        ] = 2.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes, proxy_alpha=proxy_alpha, proxy_delta=proxy_delta)
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg

    def pair_log_weights(self, cos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _log_clamped_power(1 - cos, self.gamma_pos), _log_clamped_power(cos, self.gamma_neg)


def _log_clamped_power(base: torch.Tensor, gamma: float) -> torch.Tensor:
    """log(clamp(base, 0, 1) ** gamma): −inf where the weight is 0 (base ≤ 0 < gamma), 0 for gamma = 0 (0^0 = 1)."""
    if gamma == 0:
        return torch.zeros_like(base)
    # the log is taken of base clamped into [tiny, 1]: above 1 the weight is 1 (log 0, no gradient, as
    # the clamp); the lower bound keeps log and its gradient finite on the branch torch.where discards
    # (base ≤ 0), where a NaN gradient would otherwise leak through (0 · inf)
    logged = gamma * torch.log(base.clamp(torch.finfo(base.dtype).tiny, 1.0))
    return torch.where(base > 0, logged, -torch.inf)
