"""A weighted sum of losses, e.g. `--loss AdditiveAngularMargin+CrossEntropy --loss_weights 1,0.5`."""
from __future__ import annotations

import torch
from torch import nn

from losses.base import BaseLoss, ClassifierOutput


class WeightedSumLoss(BaseLoss):
    """Σ_i w_i · loss_i(output); the score is Σ_i w_i · score_i / Σ_i w_i.

    Each term takes its own part of the classifier output (logits or embedding). After every
    forward pass `last_terms` holds each term's value (detached), for the training log.
    """

    score_description = "weighted mean of the terms' scores, with the loss weights"

    def __init__(self, terms: dict[str, BaseLoss], weights: list[float]) -> None:
        first = next(iter(terms.values()))
        super().__init__(first.embedding_dim, first.n_classes)
        self.terms = nn.ModuleDict(terms)
        self.weights = list(weights)
        types = {term.loss_type for term in terms.values()}
        self.loss_type = types.pop() if len(types) == 1 else "combined"

    def forward(self, output: ClassifierOutput, labels: torch.Tensor) -> torch.Tensor:
        values = {name: term(output, labels) for name, term in self.terms.items()}
        self.last_terms = {name: value.detach() for name, value in values.items()}
        return sum(weight * value for weight, value in zip(self.weights, values.values()))

    def score(self, output: ClassifierOutput) -> torch.Tensor:
        scores = [weight * term.score(output) for weight, term in zip(self.weights, self.terms.values())]
        return sum(scores) / sum(self.weights)
