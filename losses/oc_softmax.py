"""OC-Softmax: one-class learning around a single bona fide centre."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from conventions import BONAFIDE, HyperParameter
from losses.base import BaseLoss
from losses.geometry import cosine_to


class OCSoftmaxLoss(BaseLoss):
    """One learnable centre `weight [1, E']`; s = cos(embedding, centre);

        loss = mean_b softplus(α (m_real − s_b))   for bona fide (label BONAFIDE)
                      softplus(α (s_b − m_fake))   for spoof (every other label)

    as the authors' AIR-ASVspoof OCSoftmax (centre initialised with kaiming_uniform_(a=0.25) as there).
    The score is s (theirs returns −s; here higher = more bona fide).
    """

    loss_type = "embedding"
    reference = "Zhang, Jiang, Duan: One-class Learning Towards Synthetic Voice Spoofing Detection, IEEE Signal Processing Letters 2021"
    score_description = "cosine between the embedding and the bona fide centre"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        m_real: Annotated[
            float,
            HyperParameter(
                "bona fide margin: bona fide cosines to the centre are pushed above m_real", unit="cosine", interval="[-1, 1]"
            ),
        ] = 0.9,
        m_fake: Annotated[
            float,
            HyperParameter("spoof margin: spoof cosines to the centre are pushed below m_fake", unit="cosine", interval="[-1, 1]"),
        ] = 0.2,
        alpha: Annotated[
            float, HyperParameter("scale α of the cosine margins inside the softplus", unit="per cosine unit", interval="(0, inf)")
        ] = 20.0,
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        self.m_real, self.m_fake, self.alpha = m_real, m_fake, alpha
        self.weight = nn.Parameter(torch.empty(1, embedding_dim))
        nn.init.kaiming_uniform_(self.weight, a=0.25)

    def similarity(self, embedding: torch.Tensor) -> torch.Tensor:
        """s = cos(embedding, centre) [B]."""
        return cosine_to(embedding, self.weight)[:, 0]

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        s = self.similarity(embedding)
        margins = torch.where(labels == BONAFIDE, self.m_real - s, s - self.m_fake)
        return F.softplus(self.alpha * margins).mean()

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.similarity(embedding)
