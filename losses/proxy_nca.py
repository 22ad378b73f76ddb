"""ProxyNCA: neighbourhood component analysis against one proxy per class."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from conventions import HyperParameter
from losses.geometry import normalize
from losses.proxy_based import ProxyLoss


class ProxyNCALoss(ProxyLoss):
    """Mean over the batch of −log softmax_c(−scale · ‖x̂ − p̂_c‖²)[y], x̂ and p̂ the unit-norm embedding
    and proxies: equal to PML's ProxyNCALoss(softmax_scale) (whose distance is LpDistance(power=2)
    on normalised embeddings), except that PML drops the rows whose target probability underflows
    to 0 from the mean (possible only for softmax_scale ≳ 26 in float32), which are kept here with
    their (finite, log-domain) loss.

    Learnable `proxies [C, E']`, initialised as PML's (standard normal).
    """

    reference = "Movshovitz-Attias et al., No Fuss Distance Metric Learning using Proxies, ICCV 2017"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        softmax_scale: Annotated[
            float,
            HyperParameter(
                "inverse temperature of the softmax over minus the squared distances",
                unit="per squared unit-norm distance",
                interval="(0, inf)",
            ),
        ] = 1.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        self.softmax_scale = softmax_scale

    def squared_distances(self, embedding: torch.Tensor) -> torch.Tensor:
        """‖x̂ − p̂_c‖² [B, C], as PML (cdist on the normalised vectors, squared)."""
        return torch.cdist(normalize(embedding), F.normalize(self.proxies.to(embedding.dtype), dim=1)).square()

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(-self.softmax_scale * self.squared_distances(embedding), labels)
