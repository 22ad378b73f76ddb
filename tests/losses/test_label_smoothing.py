"""Label smoothing against its formula written out: (1 − ε) · CE + ε · mean_j −log p_j."""
import math

import pytest
import torch

from conventions import BONAFIDE
from losses.label_smoothing import LabelSmoothingLoss


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_loss_is_the_smoothed_cross_entropy(smoothing):
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.25], [-3.0, 4.0]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 0])
    expected = 0.0
    for row, label in zip(logits.tolist(), labels.tolist()):
        log_p = [value - math.log(sum(math.exp(v) for v in row)) for value in row]
        expected += (1 - smoothing) * -log_p[label] + smoothing * sum(-value for value in log_p) / len(row)
    loss = LabelSmoothingLoss(8, 2, smoothing=smoothing)
    assert loss(logits, labels).item() == pytest.approx(expected / 3, rel=1e-12)


def test_score_is_the_bonafide_log_odds():
    logits = torch.tensor([[1.0, -1.0], [0.0, 2.0]])
    probabilities = logits.softmax(1)
    expected = torch.log(probabilities[:, BONAFIDE] / probabilities[:, 1 - BONAFIDE])
    torch.testing.assert_close(LabelSmoothingLoss(8, 2).score(logits), expected)
