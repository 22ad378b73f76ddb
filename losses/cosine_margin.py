"""The shared part of the margin-softmax losses: class weights, cosine logits, margin on the target."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from conventions import BONAFIDE, HyperParameter
from losses.base import BaseLoss
from losses.geometry import cosine_to

Scale = Annotated[float, HyperParameter("scale s of the cosine logits", interval="(0, inf)")]


class CosineMarginLoss(BaseLoss):
    """Cross-entropy over `logit_scale` · cos(embedding, class weight) (by default s), with the
    target class's cosine replaced by `target_logit(cos)`; the score is the cosine to the bona
    fide weight.

    Learnable class weights `weight [C, E']`, initialised as PML's (standard normal). Cosines are
    overflow-free and in at least float32, also under autocast (losses.geometry).
    """

    loss_type = "embedding"
    score_description = "cosine between the embedding and the bona fide class weight"

    def __init__(self, embedding_dim: int, n_classes: int, s: float) -> None:
        super().__init__(embedding_dim, n_classes)
        self.s = s
        self.weight = nn.Parameter(torch.empty(n_classes, embedding_dim))
        nn.init.normal_(self.weight)  # PML's default weight_init_func

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """[B, E'] -> cosines to every class weight [B, C]."""
        return cosine_to(embedding, self.weight)

    def logit_scale(self, embedding: torch.Tensor) -> torch.Tensor | float:
        """What multiplies the (margin) cosines into logits: s, or [B, C] for unnormalised logits."""
        return self.s

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        """The unscaled logit of the target class given its cosine [B]."""
        raise NotImplementedError

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = self.cosine(embedding)
        target = labels.unsqueeze(1)
        logits = cos.scatter(1, target, self.target_logit(cos.gather(1, target).squeeze(1)).unsqueeze(1))
        return F.cross_entropy(self.logit_scale(embedding) * logits, labels)

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.cosine(embedding)[:, BONAFIDE]
