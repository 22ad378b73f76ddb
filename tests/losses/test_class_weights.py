"""Class weights, named by class, for the cross-entropy losses: formulas written out."""
import math

import pytest
import torch

from conventions import BONAFIDE, SPOOF, UsageError
from losses.base import class_weight_tensor
from losses.cross_entropy import CrossEntropyLoss
from losses.focal import FocalLoss
from model import build_model
from parse_arguments import parse_arguments

LOGITS = torch.tensor([[2.0, -1.0], [0.5, 0.25], [-3.0, 4.0], [0.0, 1.0]], dtype=torch.float64)
LABELS = torch.tensor([BONAFIDE, SPOOF, BONAFIDE, SPOOF])


def minus_log_p(row, label):
    return -(row[label] - math.log(sum(math.exp(value) for value in row)))


def test_names_map_to_labels_whatever_their_order():
    assert class_weight_tensor("spoof=0.1,bonafide=0.9").tolist() == pytest.approx([0.9, 0.1])
    assert BONAFIDE == 0 and class_weight_tensor(None) is None


@pytest.mark.parametrize("text", ["bonafide=0.9", "bonafide=0.9,bonafide=0.1", "bonafide=0,spoof=1", "bonafide=inf,spoof=1"])
def test_each_class_once_with_a_positive_weight(text):
    with pytest.raises(UsageError, match="--class_weights"):
        class_weight_tensor(text)


def test_weighted_cross_entropy_is_the_weighted_mean():
    weights = {BONAFIDE: 0.9, SPOOF: 0.1}
    rows = list(zip(LOGITS.tolist(), LABELS.tolist()))
    expected = sum(weights[y] * minus_log_p(row, y) for row, y in rows) / sum(weights[y] for _, y in rows)
    loss = CrossEntropyLoss(8, 2, class_weights="bonafide=0.9,spoof=0.1")
    assert loss(LOGITS, LABELS).item() == pytest.approx(expected, rel=1e-12)


def test_weighted_focal_is_the_weighted_mean_of_its_terms():
    gamma, alpha, weights = 2.0, 0.25, {BONAFIDE: 0.9, SPOOF: 0.1}
    terms = []
    for row, y in zip(LOGITS.tolist(), LABELS.tolist()):
        p = math.exp(-minus_log_p(row, y))
        terms.append((alpha if y == SPOOF else 1 - alpha) * (1 - p) ** gamma * minus_log_p(row, y))
    expected = sum(weights[y] * term for term, y in zip(terms, LABELS.tolist())) / sum(weights[y] for y in LABELS.tolist())
    loss = FocalLoss(8, 2, gamma=gamma, alpha=alpha, class_weights="bonafide=0.9,spoof=0.1")
    assert loss(LOGITS, LABELS).item() == pytest.approx(expected, rel=1e-12)


def test_the_flag_reaches_the_cross_entropy_of_sums_and_of_combined_only():
    args = parse_arguments(
        ["--classifier", "EmbeddingFF", "--loss", "Combined+CosFace+Focal", "--class_weights", "bonafide=0.9,spoof=0.1"]
    )
    _, loss = build_model(args)
    assert loss.terms["Combined"].terms["CE"].class_weights.tolist() == pytest.approx([0.9, 0.1])
    assert loss.terms["Focal"].class_weights.tolist() == pytest.approx([0.9, 0.1])
    assert "class_weights" not in args.hyper_parameters["loss"]["CosFace"]
    with pytest.raises(UsageError, match="does not match"):
        parse_arguments(["--class_weights", "0.1,0.9"])
