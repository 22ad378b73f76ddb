"""Cross-entropy with label smoothing; also the README's example of a loss in one file."""
from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from conventions import HyperParameter
from losses.base import BaseLoss, ClassWeights, bonafide_log_odds, class_weight_tensor


class LabelSmoothingLoss(BaseLoss):
    """(1 − ε) · CE(logits, y) + ε · mean over the C classes of −log softmax(logits)_j, averaged
    over the batch (weighted by the class weights of the targets when given, as torch's)."""

    loss_type = "logits"
    reference = "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016"
    score_description = "bona fide log-odds: logit_bonafide - logsumexp(other logits)"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        smoothing: Annotated[
            float, HyperParameter("share ε of the target spread over all classes", unit="probability", interval="[0, 1)")
        ] = 0.1,
        class_weights: ClassWeights = None,
    ) -> None:
        super().__init__(embedding_dim, n_classes)
        self.smoothing = smoothing
        self.class_weights = class_weight_tensor(class_weights)

    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        weight = None if self.class_weights is None else self.class_weights.to(logits.device, logits.dtype)
        return F.cross_entropy(logits, labels, weight=weight, label_smoothing=self.smoothing)

    def compute_score(self, logits: torch.Tensor) -> torch.Tensor:
        return bonafide_log_odds(logits)
