"""Softmax cross-entropy on the classifier's logits."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from losses.base import BaseLoss, bonafide_log_odds


class CrossEntropyLoss(BaseLoss):
    """Mean softmax cross-entropy of the logits [B, C]; scores are the bona fide log-odds."""

    loss_type = "logits"
    reference = "softmax cross-entropy"
    score_description = "bona fide log-odds: logit_bonafide - logsumexp(other logits)"

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels)

    def compute_score(self, logits: torch.Tensor) -> torch.Tensor:
        return bonafide_log_odds(logits)
