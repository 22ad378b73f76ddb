"""Normalized softmax: softmax cross-entropy over cosines divided by a temperature."""
from __future__ import annotations

from typing import Annotated

import torch

from conventions import HyperParameter
from losses.cosine_margin import CosineMarginLoss


class NormalizedSoftmaxLoss(CosineMarginLoss):
    """Cross-entropy over cos(embedding, class weight) / temperature, no margin: a cosine-margin loss
    with s = 1 / temperature and the target logit left as it is. Equal to PML's
    NormalizedSoftmaxLoss(temperature).

    Learnable class weights `weight [C, E']`, initialised as PML's (standard normal).
    """

    reference = "Zhai and Wu, Classification is a Strong Baseline for Deep Metric Learning, BMVC 2019"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        temperature: Annotated[
            float, HyperParameter("softmax temperature dividing the cosine logits", unit="cosine units", interval="(0, inf)")
        ] = 0.05,
    ) -> None:
        super().__init__(embedding_dim, n_classes, s=1.0 / temperature)
        self.temperature = temperature

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        return cos_target
