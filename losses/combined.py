"""Cross-entropy on the logits plus an embedding loss on the embedding, weighted λ and 1 − λ."""
from __future__ import annotations

from typing import Annotated

from conventions import ComponentChoice, HyperParameter
from losses.base import BaseLoss, ClassWeights
from losses.cross_entropy import CrossEntropyLoss
from losses.weighted_sum import WeightedSumLoss


def is_embedding_loss(loss: type[BaseLoss]) -> bool:
    return loss.loss_type == "embedding"


class CombinedLoss(WeightedSumLoss):
    """λ · CrossEntropy(logits) + (1 − λ) · X(embedding), X the embedding loss handed in (the builder
    makes it from the `proxy_type` setting, with X's own settings); `class_weights` weigh the
    cross-entropy term.

    Terms are logged as CE and Proxy; the score is λ · CE score + (1 − λ) · X score.
    """

    loss_type = "combined"
    reference = "softmax cross-entropy plus an embedding loss, e.g. Kim et al., Proxy Anchor Loss for Deep Metric Learning, CVPR 2020"
    score_description = "λ · bona fide log-odds + (1 − λ) · the embedding loss's score"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        lambda_combined: Annotated[
            float, HyperParameter("weight λ of the cross-entropy term; the embedding loss gets 1 − λ", interval="[0, 1]")
        ] = 0.5,
        class_weights: ClassWeights = None,
        *,
        embedding_loss: Annotated[
            BaseLoss,
            ComponentChoice("loss", "proxy_type", "ProxyAnchor", "the embedding loss X (its own settings apply)", is_embedding_loss),
        ],
    ) -> None:
        terms = {"CE": CrossEntropyLoss(embedding_dim, n_classes, class_weights), "Proxy": embedding_loss}
        super().__init__(terms, [lambda_combined, 1 - lambda_combined])
