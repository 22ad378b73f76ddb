"""Cross-entropy on the logits plus an embedding loss on the embedding, weighted λ and 1 − λ."""
from __future__ import annotations

from typing import Any

from common import HyperParameter
from losses.cross_entropy import CrossEntropyLoss
from losses.weighted_sum import WeightedSumLoss


def embedding_loss_names() -> tuple[str, ...]:
    """The registered embedding losses, any of which can be the combined loss's second term."""
    from common import LOSS_METADATA  # the registry imports this module first

    return tuple(name for name, metadata in LOSS_METADATA.items() if metadata["type"] == "embedding")


class CombinedLoss(WeightedSumLoss):
    """λ · CrossEntropy(logits) + (1 − λ) · X(embedding), X = `proxy_type` with its own flags.

    Terms are logged as CE and Proxy; the score is λ · CE score + (1 − λ) · X score.
    """

    loss_type = "combined"
    reference = "softmax cross-entropy plus an embedding loss, e.g. Kim et al., Proxy Anchor Loss for Deep Metric Learning, CVPR 2020"
    score_description = "λ · bona fide log-odds + (1 − λ) · the embedding loss's score"
    hyper_parameters = {
        "lambda_combined": HyperParameter(float, "weight λ of the cross-entropy term; the embedding loss gets 1 − λ", interval="[0, 1]"),
        "proxy_type": HyperParameter(str, "the embedding loss X (its own flags apply)", choices=embedding_loss_names, names_loss=True),
    }

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        lambda_combined: float = 0.5,
        proxy_type: str = "ProxyAnchor",
        **proxy_parameters: Any,
    ) -> None:
        from common import LOSSES  # the registry imports this module first

        terms = {
            "CE": CrossEntropyLoss(embedding_dim, n_classes),
            "Proxy": LOSSES[proxy_type](embedding_dim, n_classes, **proxy_parameters),
        }
        super().__init__(terms, [lambda_combined, 1 - lambda_combined])
