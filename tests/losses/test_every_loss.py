import math

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning.losses import ArcFaceLoss

from common import LOSS_METADATA, LOSSES
from conventions import BONAFIDE, SPOOF
from model import build_loss


def make_loss(name, embedding_dim=8, n_classes=2, **parameters):
    """Loss `name` with `parameters`, and the defaults of the losses it names (Combined's)."""
    return build_loss(name, {name: parameters}, embedding_dim, n_classes)


def test_cross_entropy_is_the_negative_log_softmax_of_the_target():
    logits = torch.randn(6, 2, dtype=torch.float64)
    labels = torch.tensor([0, 1, 1, 0, 1, 0])
    expected = -sum(math.log(math.exp(row[y]) / sum(math.exp(v) for v in row)) for row, y in zip(logits.tolist(), labels.tolist())) / 6
    assert make_loss("CrossEntropy")(logits, labels).item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_score_is_the_bonafide_log_odds():
    logits = torch.randn(5, 2, dtype=torch.float64)
    probabilities = logits.softmax(1)
    expected = torch.log(probabilities[:, BONAFIDE] / probabilities[:, SPOOF])
    torch.testing.assert_close(make_loss("CrossEntropy").score(logits), expected)
    # a pair from an embedding classifier scores its logits
    torch.testing.assert_close(make_loss("CrossEntropy").score((logits, torch.randn(5, 3))), expected)


def test_cross_entropy_score_generalises_to_more_classes():
    logits = torch.randn(4, 5, dtype=torch.float64)
    probabilities = logits.softmax(1)
    expected = torch.log(probabilities[:, BONAFIDE] / (1 - probabilities[:, BONAFIDE]))
    torch.testing.assert_close(make_loss("CrossEntropy", n_classes=5).score(logits), expected)


def pml_arcface(ours):
    reference = ArcFaceLoss(
        num_classes=ours.n_classes, embedding_size=ours.embedding_dim, margin=math.degrees(ours.margin), scale=ours.s
    ).double()
    reference.W.data = ours.weight.detach().T.clone()
    return reference


def embeddings_near_pi(weight, labels, generator):
    """Embeddings, a few of them almost opposite to their target class weight (θ ≈ π)."""
    embeddings = torch.randn(len(labels), weight.shape[1], dtype=torch.float64, generator=generator)
    embeddings[:3] = -weight[labels[:3]] + 1e-6 * torch.randn(3, weight.shape[1], dtype=torch.float64, generator=generator)
    return embeddings


@pytest.mark.parametrize("n_classes,batch,margin", [(2, 16, 0.5), (2, 7, 0.3), (1000, 32, 0.2), (10, 64, 1.2)])
def test_arcface_equals_pml_loss_and_gradients(n_classes, batch, margin):
    generator = torch.Generator().manual_seed(n_classes + batch)
    ours = make_loss("AdditiveAngularMargin", embedding_dim=16, n_classes=n_classes, margin=margin, s=30.0).double()
    reference = pml_arcface(ours)
    labels = torch.randint(0, min(n_classes, 5), (batch,), generator=generator)  # most classes absent
    embeddings = embeddings_near_pi(ours.weight.detach(), labels, generator)
    ours_input = embeddings.clone().requires_grad_(True)
    reference_input = embeddings.clone().requires_grad_(True)
    ours_value = ours(ours_input, labels)
    reference_value = reference(reference_input, labels)
    ours_value.backward()
    reference_value.backward()
    torch.testing.assert_close(ours_value, reference_value, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(ours_input.grad, reference_input.grad, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(ours.weight.grad, reference.W.grad.T, rtol=1e-6, atol=1e-9)


def test_arcface_easy_margin_is_the_formula_written_out():
    ours = make_loss("AdditiveAngularMargin", embedding_dim=4, margin=0.4, s=10.0, easy_margin=True).double()
    embeddings = torch.randn(20, 4, dtype=torch.float64)
    labels = torch.randint(0, 2, (20,))
    cos = F.normalize(embeddings, dim=1) @ F.normalize(ours.weight.detach(), dim=1).T
    total = 0.0
    for row, label in zip(cos.tolist(), labels.tolist()):
        target = row[label]
        theta = math.acos(target)
        logits = list(row)
        logits[label] = math.cos(theta + 0.4) if target > 0 else target
        total -= math.log(math.exp(10 * logits[label]) / sum(math.exp(10 * v) for v in logits))
    assert ours(embeddings, labels).item() == pytest.approx(total / 20, rel=1e-9)


def test_arcface_score_is_the_cosine_to_the_bonafide_weight():
    ours = make_loss("AdditiveAngularMargin", embedding_dim=6)
    embeddings = torch.randn(5, 6)
    expected = F.cosine_similarity(embeddings, ours.weight[BONAFIDE].unsqueeze(0), dim=1)
    torch.testing.assert_close(ours.score(embeddings), expected)
    torch.testing.assert_close(ours.score((torch.randn(5, 2), embeddings)), expected)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_score_is_higher_for_bonafide_after_training(name):
    """Polarity: a few steps on separable data make bona fide trials score higher."""
    torch.manual_seed(0)
    loss = make_loss(name, embedding_dim=4)
    head = torch.nn.Linear(4, 4)
    logits_head = torch.nn.Linear(4, 2)
    labels = torch.tensor([BONAFIDE] * 16 + [SPOOF] * 16)
    features = torch.randn(32, 4) + 2.0 * torch.where(labels == BONAFIDE, 1.0, -1.0).unsqueeze(1)
    optimizer = torch.optim.Adam([*head.parameters(), *logits_head.parameters(), *loss.parameters()], lr=0.05)
    for _ in range(50):
        embedding = head(features)
        value = loss((logits_head(embedding), embedding), labels)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    with torch.no_grad():
        embedding = head(features)
        scores = loss.score((logits_head(embedding), embedding))
    assert scores[labels == BONAFIDE].min() > scores[labels == SPOOF].max()


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_state_survives_a_checkpoint_round_trip(name, tmp_path):
    torch.manual_seed(1)
    trained = make_loss(name)
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(1.0)
    torch.save(trained.state_dict(), tmp_path / "loss.pt")
    torch.manual_seed(2)
    restored = make_loss(name)
    restored.load_state_dict(torch.load(tmp_path / "loss.pt"))
    embedding = torch.randn(3, 8)
    output = (torch.randn(3, 2), embedding)
    torch.testing.assert_close(restored.score(output), trained.score(output))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_arcface_is_finite_at_cosine_plus_minus_one(dtype):
    ours = make_loss("AdditiveAngularMargin", embedding_dim=4)
    weight = ours.weight.detach()
    embeddings = torch.cat([weight, -weight, torch.zeros(1, 4), 1e30 * weight[:1]]).to(dtype).requires_grad_(True)
    labels = torch.tensor([0, 1, 0, 1, 0, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        value = ours(embeddings, labels)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(embeddings.grad).all() and torch.isfinite(ours.weight.grad).all()


def test_metadata_records_type_parameters_defaults_and_reference():
    arcface = LOSS_METADATA["AdditiveAngularMargin"]
    assert arcface["type"] == "embedding" and "ArcFace" in arcface["aliases"]
    assert {name: spec["default"] for name, spec in arcface["parameters"].items()} == {"margin": 0.5, "s": 30.0, "easy_margin": False}
    assert arcface["parameters"]["margin"]["unit"] == "radians"
    cross_entropy = LOSS_METADATA["CrossEntropy"]
    assert cross_entropy == {
        "type": "logits",
        "parameters": {"class_weights": LOSS_METADATA["Focal"]["parameters"]["class_weights"], "scoring": cross_entropy["parameters"]["scoring"]},
        "reference": "softmax cross-entropy", "score": LOSSES["CrossEntropy"].score_description, "aliases": [],
    }
    assert cross_entropy["parameters"]["scoring"]["default"] == "log_odds"
    assert cross_entropy["parameters"]["scoring"]["choices"] == ["log_odds", "bonafide_logit"]
    assert LOSS_METADATA["CrossEntropy"]["parameters"]["class_weights"]["none"] == "equal"
    assert all(metadata["reference"] and metadata["score"] for metadata in LOSS_METADATA.values())


def extreme_inputs(loss, dim=8):
    """Embeddings at cos = ±1 to the class weights (or a fixed direction), zero, tiny and huge; logits
    far apart, tied and huge; labels alternating bona fide and spoof."""
    weights = [value for key, value in loss.state_dict().items() if key.endswith(("weight", "proxies"))]
    directions = torch.cat([weights[0].reshape(-1, dim)] * 2)[:2] if weights else torch.randn(2, dim)
    embedding = torch.cat(
        [directions, -directions, torch.zeros(2, dim), 1e-30 * directions, 1e30 * directions, -1e30 * directions]
    )
    logits = torch.tensor([[1e4, -1e4], [-1e4, 1e4], [0.0, 0.0], [3e4, -3e4], [50.0, 50.0], [-1.0, 1.0]]).repeat(2, 1)
    labels = torch.tensor([BONAFIDE, SPOOF] * 6)
    return logits, embedding, labels


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_is_finite_at_extreme_inputs(name, dtype):
    torch.manual_seed(0)
    loss = make_loss(name)
    logits, embedding, labels = extreme_inputs(loss)
    logits = logits.to(dtype).requires_grad_(True)
    embedding = embedding.to(dtype).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        value = loss((logits, embedding), labels)
        scores = loss.score((logits, embedding))
    value.backward()
    assert torch.isfinite(value), value
    assert torch.isfinite(scores).all(), scores
    for tensor in (logits, embedding, *loss.parameters()):
        assert tensor.grad is None or torch.isfinite(tensor.grad).all()
