"""Proxy-Anchor: each proxy is an anchor pulling its class's embeddings and pushing the others."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from conventions import HyperParameter
from losses.proxy_based import ProxyLoss

ProxyAlpha = Annotated[
    float, HyperParameter("scale alpha of the cosines in the exponentials", unit="per cosine unit", interval="(0, inf)")
]
ProxyDelta = Annotated[float, HyperParameter("margin delta on the cosines", unit="cosine units", interval="[0, 2]")]


class ProxyAnchorLoss(ProxyLoss):
    """With s_ic the cosine of embedding i to proxy c, P the classes present in the batch:

        (1/|P|) Σ_c log(1 + Σ_{i: y_i = c} w⁺_ic exp(−α(s_ic − δ)))
      + (1/C)   Σ_c log(1 + Σ_{i: y_i ≠ c} w⁻_ic exp(α(s_ic + δ)))

    every class counted in the second sum, present or not; Proxy-Anchor weighs every pair w = 1
    (`pair_log_weights`, the hook a weighted variant overrides). Equal to PML's
    ProxyAnchorLoss(alpha=α, margin=δ) with its DivisorReducer.

    Learnable `proxies [C, E']`, initialised as PML's: kaiming_normal_(mode="fan_out"), std √(2/C).
    """

    reference = "Kim et al., Proxy Anchor Loss for Deep Metric Learning, CVPR 2020"

    def __init__(
        self, embedding_dim: int, n_classes: int, proxy_alpha: ProxyAlpha = 32.0, proxy_delta: ProxyDelta = 0.1
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        self.proxy_alpha = proxy_alpha
        self.proxy_delta = proxy_delta

    def init_proxies(self, proxies: nn.Parameter) -> None:
        nn.init.kaiming_normal_(proxies, mode="fan_out")  # PML's ProxyAnchorLoss weight_init_func

    def pair_log_weights(self, cos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log w⁺ and log w⁻ [B, C] of every (embedding, proxy) pair's exponential; here 0 (w = 1)."""
        return torch.zeros_like(cos), torch.zeros_like(cos)

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = self.cosine(embedding)
        positive = F.one_hot(labels, self.n_classes).bool()
        log_weight_positive, log_weight_negative = self.pair_log_weights(cos)
        positive_exponent = self.proxy_alpha * (self.proxy_delta - cos) + log_weight_positive
        negative_exponent = self.proxy_alpha * (cos + self.proxy_delta) + log_weight_negative
        positive_term = _log_one_plus_sum_exp(positive_exponent.masked_fill(~positive, -torch.inf))
        negative_term = _log_one_plus_sum_exp(negative_exponent.masked_fill(positive, -torch.inf))
        positive_loss = positive_term.sum() / positive.any(dim=0).sum()  # / classes present in the batch
        negative_loss = negative_term.sum() / self.n_classes  # / all classes
        self.last_terms = {"positive": positive_loss.detach(), "negative": negative_loss.detach()}
        return positive_loss + negative_loss


def _log_one_plus_sum_exp(exponents: torch.Tensor) -> torch.Tensor:
    """log(1 + Σ_i exp(x_ic)) over the batch [B, C] -> [C]: a logsumexp with the 1 as a zero exponent,
    so finite (≥ 0), with finite gradients, also where every x_ic is −inf (a class with no such pair)."""
    return torch.logsumexp(torch.cat([exponents, exponents.new_zeros(1, exponents.shape[1])]), dim=0)
