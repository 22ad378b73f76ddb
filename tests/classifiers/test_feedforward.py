import pytest
import torch

from common import CLASSIFIERS, EMBEDDING_COMPATIBLE_CLASSIFIERS


def test_ff_returns_logits():
    logits = CLASSIFIERS["FF"](in_dim=8, n_classes=2, hidden_dim=16)(torch.randn(5, 8))
    assert isinstance(logits, torch.Tensor) and logits.shape == (5, 2)


@pytest.mark.parametrize("name", EMBEDDING_COMPATIBLE_CLASSIFIERS)
def test_embedding_classifiers_return_logits_and_embedding(name):
    classifier = CLASSIFIERS[name](in_dim=8, n_classes=2, hidden_dim=16)
    logits, embedding = classifier(torch.randn(5, 8))
    assert logits.shape == (5, 2)
    assert embedding.shape == (5, classifier.embedding_dim) and classifier.embedding_dim == 16


def test_dropout_is_active_only_in_training():
    classifier = CLASSIFIERS["FF"](in_dim=8, n_classes=2, hidden_dim=64, dropout=0.5)
    x = torch.randn(4, 8)
    classifier.eval()
    torch.testing.assert_close(classifier(x), classifier(x))
    classifier.train()
    torch.manual_seed(0)
    first = classifier(x)
    assert not torch.allclose(first, classifier(x))


def test_linear_is_one_affine_map_with_in_dim_times_classes_plus_classes_parameters():
    classifier = CLASSIFIERS["Linear"](in_dim=160, n_classes=2)
    assert sum(p.numel() for p in classifier.parameters()) == 160 * 2 + 2
    x = torch.randn(3, 160)
    torch.testing.assert_close(classifier(x), x @ classifier.linear.weight.T + classifier.linear.bias)
