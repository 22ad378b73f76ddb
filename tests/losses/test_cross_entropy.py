"""CrossEntropy's two scoring rules: ours (the bona fide log-odds) and AASIST's authors' (the bona fide logit)."""
import pytest
import torch

from conventions import BONAFIDE, SPOOF
from losses.cross_entropy import CrossEntropyLoss


def test_the_scores_are_the_log_odds_or_the_bona_fide_logit_and_rank_differently():
    logits = torch.zeros(2, 2)
    logits[0, BONAFIDE], logits[0, SPOOF] = 1.0, -5.0
    logits[1, BONAFIDE], logits[1, SPOOF] = 2.0, 1.0
    log_odds = CrossEntropyLoss(8, 2).score(logits)
    torch.testing.assert_close(log_odds, torch.tensor([1.0 - -5.0, 2.0 - 1.0]))
    bonafide_logit = CrossEntropyLoss(8, 2, scoring="bonafide_logit").score(logits)
    torch.testing.assert_close(bonafide_logit, torch.tensor([1.0, 2.0]))
    assert log_odds.argmax() != bonafide_logit.argmax()


def test_the_scoring_does_not_change_the_loss():
    generator = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(6, 2, generator=generator), torch.tensor([0, 1, 1, 0, 1, 0])
    expected = CrossEntropyLoss(8, 2)(logits, labels)
    assert CrossEntropyLoss(8, 2, scoring="bonafide_logit")(logits, labels) == pytest.approx(float(expected))
