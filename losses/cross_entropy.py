"""Softmax cross-entropy on the classifier's logits."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from losses.base import BaseLoss, ClassWeights, bonafide_log_odds, class_weight_tensor


class CrossEntropyLoss(BaseLoss):
    """Softmax cross-entropy of the logits [B, C], averaged over the batch (with class weights w:
    Σ_b w_yb · CE_b / Σ_b w_yb, as torch's weighted cross-entropy); scores are the bona fide log-odds."""

    loss_type = "logits"
    reference = "softmax cross-entropy"
    score_description = "bona fide log-odds: logit_bonafide - logsumexp(other logits)"

    def __init__(self, embedding_dim: int, n_classes: int, class_weights: ClassWeights = None) -> None:
        super().__init__(embedding_dim, n_classes)
        self.class_weights = class_weight_tensor(class_weights)  # not a buffer: the settings rebuild it

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        weight = None if self.class_weights is None else self.class_weights.to(logits.device, logits.dtype)
        return F.cross_entropy(logits, labels, weight=weight)

    def compute_score(self, logits: torch.Tensor) -> torch.Tensor:
        return bonafide_log_odds(logits)
