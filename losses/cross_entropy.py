"""Softmax cross-entropy on the classifier's logits."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from conventions import BONAFIDE, HyperParameter
from losses.base import BaseLoss, ClassWeights, bonafide_log_odds, class_weight_tensor


SCORINGS = ("log_odds", "bonafide_logit")


class CrossEntropyLoss(BaseLoss):
    """Softmax cross-entropy of the logits [B, C], averaged over the batch (with class weights w:
    Σ_b w_yb · CE_b / Σ_b w_yb, as torch's weighted cross-entropy); scores are the bona fide log-odds,
    or the bona fide logit alone (`scoring="bonafide_logit"`, how AASIST's authors score)."""

    loss_type = "logits"
    reference = "softmax cross-entropy"
    score_description = "bona fide log-odds: logit_bonafide - logsumexp(other logits) (or logit_bonafide: --scoring)"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        class_weights: ClassWeights = None,
        scoring: Annotated[
            str,
            HyperParameter(
                "the score: the bona fide log-odds, or the bona fide logit alone (clovaai/aasist scores "
                "out[:, 1]; a different ranking)",
                choices=SCORINGS,
            ),
        ] = "log_odds",
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        self.class_weights = class_weight_tensor(class_weights)  # not a buffer: the settings rebuild it
        self.scoring = scoring

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        weight = None if self.class_weights is None else self.class_weights.to(logits.device, logits.dtype)
        return F.cross_entropy(logits, labels, weight=weight)

    def compute_score(self, logits: torch.Tensor) -> torch.Tensor:
        return logits[:, BONAFIDE] if self.scoring == "bonafide_logit" else bonafide_log_odds(logits)
