"""Sums of losses, Combined, and pytorch-metric-learning's losses and miners through the adapter."""
import math

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning import miners as pml_miners

from common import LOSSES
from conventions import BONAFIDE, SPOOF, UsageError
from losses.weighted_sum import WeightedSumLoss
from model import build_model
from parse_arguments import parse_arguments


def labelled_batch(seed=0, size=12, dim=8):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.tensor([BONAFIDE, SPOOF] * (size // 2))
    return torch.randn(size, 2, generator=generator), torch.randn(size, dim, generator=generator), labels


def test_weighted_sum_is_the_weighted_sum_of_its_terms_and_scores_their_weighted_mean():
    torch.manual_seed(0)
    arcface, cross_entropy = LOSSES["AdditiveAngularMargin"](8, 2), LOSSES["CrossEntropy"](8, 2)
    total = WeightedSumLoss({"AdditiveAngularMargin": arcface, "CrossEntropy": cross_entropy}, [1.0, 0.5])
    logits, embedding, labels = labelled_batch()
    output = (logits, embedding)
    expected = arcface(output, labels) + 0.5 * cross_entropy(output, labels)
    torch.testing.assert_close(total(output, labels), expected)
    assert set(total.last_terms) == {"AdditiveAngularMargin", "CrossEntropy"}
    torch.testing.assert_close(total.last_terms["CrossEntropy"], cross_entropy(output, labels))
    torch.testing.assert_close(total.score(output), (arcface.score(output) + 0.5 * cross_entropy.score(output)) / 1.5)
    assert total.loss_type == "combined"


def test_combined_is_lambda_cross_entropy_plus_the_rest_on_the_proxy_loss():
    torch.manual_seed(0)
    proxy = LOSSES["ProxyAnchor"](8, 2, proxy_alpha=16.0)
    combined = LOSSES["Combined"](8, 2, lambda_combined=0.3, embedding_loss=proxy)
    logits, embedding, labels = labelled_batch()
    assert combined.terms["Proxy"] is proxy
    value = combined((logits, embedding), labels)
    expected = 0.3 * torch.nn.functional.cross_entropy(logits, labels) + 0.7 * proxy(embedding, labels)
    torch.testing.assert_close(value, expected)
    assert set(combined.last_terms) == {"CE", "Proxy"}
    expected_score = 0.3 * (logits[:, BONAFIDE] - logits[:, SPOOF]) + 0.7 * proxy.score(embedding)
    torch.testing.assert_close(combined.score((logits, embedding)), expected_score)
    assert "terms.Proxy.proxies" in combined.state_dict()


def test_combined_takes_its_proxy_loss_flags_and_refuses_a_logits_proxy():
    args = parse_arguments(["--loss", "Combined", "--classifier", "EmbeddingFF", "--proxy_type", "CosFace", "--margin", "0.2"])
    assert args.hyper_parameters["loss"] == {
        "Combined": {"lambda_combined": 0.5, "class_weights": None, "proxy_type": "CosFace"},
        "CosFace": {"margin": 0.2, "s": 30.0},
    }
    _, loss = build_model(args)
    assert loss.terms["Proxy"].margin == 0.2
    scoped = parse_arguments(["--loss", "Combined", "--classifier", "EmbeddingFF", "--Combined.proxy_type", "CosFace", "--CosFace.margin", "0.2"])
    assert scoped.hyper_parameters["loss"] == args.hyper_parameters["loss"]
    with pytest.raises(UsageError, match="--proxy_type Focal is not one of"):
        parse_arguments(["--loss", "Combined", "--classifier", "EmbeddingFF", "--proxy_type", "Focal"])


def test_a_sum_from_the_command_line():
    args = parse_arguments(["--loss", "ArcFace+CrossEntropy", "--loss_weights", "1,0.5", "--classifier", "EmbeddingFF", "--margin", "0.3"])
    assert args.losses == ["AdditiveAngularMargin", "CrossEntropy"] and args.loss_weights == [1.0, 0.5]
    _, loss = build_model(args)
    assert isinstance(loss, WeightedSumLoss) and loss.weights == [1.0, 0.5]
    assert loss.terms["AdditiveAngularMargin"].margin == 0.3


@pytest.mark.parametrize(
    "arguments,message",
    [
        (["--loss", "ArcFace+CrossEntropy", "--loss_weights", "1"], "gives 1 weights for the 2 losses"),
        (["--loss", "ArcFace+CrossEntropy", "--loss_weights", "1,-1"], "weights must be >= 0"),
        (["--loss", "ArcFace+CrossEntropy", "--loss_weights", "a,b"], "not a comma-separated list"),
        (["--loss", "ArcFace", "--loss_weights", "2"], "weighs the losses of a sum"),
        (["--loss", "ArcFace+AdditiveAngularMargin"], "names a loss twice"),
        (["--loss", "ArcFace+Nope"], "unknown loss 'Nope'"),
        (["--loss", "TripletMargin", "--miner", "BatchHard", "--classifier", "FF"], "use --classifier EmbeddingFF"),
        (["--loss", "ArcFace", "--miner", "BatchHard"], "--miner BatchHard chooses pairs"),
        (["--loss", "ASoftmax", "--margin", "2.5"], "--margin 2.5 must be an integer for ASoftmax"),
    ],
)
def test_bad_loss_combinations_are_refused(arguments, message):
    arguments = arguments if "--classifier" in arguments else [*arguments, "--classifier", "EmbeddingFF"]
    with pytest.raises(UsageError, match=message):
        parse_arguments(arguments)


def test_combined_loss_needs_an_embedding_classifier():
    with pytest.raises(UsageError, match="combined loss .* use --classifier EmbeddingFF"):
        parse_arguments(["--loss", "AdditiveAngularMargin+CrossEntropy"])


@pytest.mark.parametrize(
    "name,ours,pml",
    [
        ("Angular", {"alpha": 0.5}, pml_losses.AngularLoss(alpha=math.degrees(0.5))),
        ("TupletMargin", {"margin": 0.2, "s": 10.0}, pml_losses.TupletMarginLoss(margin=math.degrees(0.2), scale=10.0)),
        ("TripletMargin", {"margin": 0.3, "swap": True}, pml_losses.TripletMarginLoss(margin=0.3, swap=True)),
        ("MultiSimilarity", {}, pml_losses.MultiSimilarityLoss()),
        ("SupCon", {"temperature": 0.2}, pml_losses.SupConLoss(temperature=0.2)),
    ],
)
def test_adapter_losses_equal_pml_on_unit_embeddings_with_radians_converted(name, ours, pml):
    loss = LOSSES[name](8, 2, **ours)
    _, embedding, labels = labelled_batch(seed=3)
    torch.testing.assert_close(loss(embedding, labels), pml(torch.nn.functional.normalize(embedding), labels))


def test_a_miner_chooses_the_adapter_loss_pairs():
    args = parse_arguments(
        ["--loss", "TripletMargin", "--classifier", "EmbeddingFF", "--hidden_dim", "8"]
        + ["--miner", "TripletMargin", "--miner_margin", "0.1", "--miner_type_of_triplets", "hard"]
    )
    _, loss = build_model(args)
    _, embedding, labels = labelled_batch(seed=4)
    miner = pml_miners.TripletMarginMiner(margin=0.1, type_of_triplets="hard")
    expected = pml_losses.TripletMarginLoss()(embedding, labels, miner(embedding, labels))
    torch.testing.assert_close(loss(embedding, labels), expected)
    assert expected != pml_losses.TripletMarginLoss()(embedding, labels)


def test_adapter_score_is_the_cosine_to_the_running_bonafide_centroid():
    loss = LOSSES["Contrastive"](8, 2)
    _, first, labels = labelled_batch(seed=5)
    _, second, _ = labelled_batch(seed=6)
    unit = torch.nn.functional.normalize
    loss.train()
    loss(first, labels)
    centroid = unit(first[labels == BONAFIDE], dim=1).mean(0)
    torch.testing.assert_close(loss.bonafide_centroid, centroid)
    loss(second, labels)
    centroid = 0.9 * centroid + 0.1 * unit(second[labels == BONAFIDE], dim=1).mean(0)
    torch.testing.assert_close(loss.bonafide_centroid, centroid)
    loss.eval()
    loss(first, labels)
    torch.testing.assert_close(loss.bonafide_centroid, centroid)
    torch.testing.assert_close(loss.score(first), unit(first, dim=1) @ unit(centroid, dim=0))
    restored = LOSSES["Contrastive"](8, 2)
    restored.load_state_dict(loss.state_dict())
    torch.testing.assert_close(restored.score(first), loss.score(first))


def test_cross_batch_memory_takes_its_inner_loss_flags():
    args = parse_arguments(
        ["--loss", "CrossBatchMemory", "--classifier", "EmbeddingFF", "--memory_loss", "TripletMargin", "--margin", "0.1", "--memory_size", "64"]
    )
    _, loss = build_model(args)
    assert isinstance(loss.loss.loss, pml_losses.TripletMarginLoss) and loss.loss.loss.margin == 0.1
    assert loss.loss.memory_size == 64
