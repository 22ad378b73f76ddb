"""Pair heads: each combines the reference and the test embedding as ca-mhfa's heads do."""
import pytest
import torch

from classifiers.differential import FFConcat, FFDiff, FFDiffAbs, FFDiffQuadratic
from common import CLASSIFIERS, EXTRACTORS, PROCESSORS, check_combination
from conventions import UsageError
from model import Countermeasure

COMBINATIONS = {
    FFDiff: lambda x, r: r - x,
    FFDiffAbs: lambda x, r: (r - x).abs(),
    FFDiffQuadratic: lambda x, r: (r - x) ** 2,
    FFConcat: lambda x, r: torch.cat([r, x], dim=1),
}


@pytest.mark.parametrize("head", list(COMBINATIONS))
def test_head_is_its_ff_on_the_combination(head):
    torch.manual_seed(0)
    classifier = head(in_dim=6, n_classes=2, hidden_dim=8)
    x, reference = torch.randn(4, 6), torch.randn(4, 6)
    torch.testing.assert_close(classifier(x, reference), classifier.ff(COMBINATIONS[head](x, reference)))
    assert classifier(x, reference).shape == (4, 2) and classifier.pair_input


def test_countermeasure_puts_the_reference_through_the_same_extractor_and_processor():
    torch.manual_seed(0)
    model = Countermeasure(EXTRACTORS["LFCC"](), PROCESSORS["Mean"](n_layers=1, dim=60), FFDiff(in_dim=60, n_classes=2))
    wave, reference = torch.randn(2, 8000), torch.randn(2, 6000)
    lengths, reference_lengths = torch.tensor([8000, 7000]), torch.tensor([6000, 6000])
    embedding = model.processor(*model.extractor(wave, lengths))
    reference_embedding = model.processor(*model.extractor(reference, reference_lengths))
    torch.testing.assert_close(
        model(wave, lengths, reference, reference_lengths), model.classifier(embedding, reference_embedding)
    )
    # identical test and reference utterances give a zero difference
    torch.testing.assert_close(model(wave, lengths, wave, lengths), model.classifier.ff(torch.zeros(2, 60)))


@pytest.mark.parametrize("name", ["FFDiff", "FFDiffAbs", "FFDiffQuadratic", "FFConcat"])
def test_pair_heads_need_a_pair_dataset(name):
    assert name in CLASSIFIERS
    with pytest.raises(UsageError, match="needs a pair dataset"):
        check_combination("LFCC", "Mean", name, ["CrossEntropy"], dataset="Synthetic")
    with pytest.raises(UsageError, match="EmbeddingFF"):
        check_combination("LFCC", "Mean", name, ["AdditiveAngularMargin"])
