"""The metric-learning and margin-softmax losses: equal to pytorch-metric-learning (PML) in float64,
loss and gradients; the focal-style Proxy-Anchor against its formula; scores, polarity,
checkpoints, initialisation, metadata and numerics at extreme inputs."""
import inspect
import math

import pytest
import pytorch_metric_learning.losses as pml
import torch
import torch.nn.functional as F

from common import parameter_metadata
from conventions import declarations
from conventions import BONAFIDE, SPOOF
from losses.additive_angular_margin import AdditiveAngularMarginLoss
from losses.base import BaseLoss
from losses.cosine_margin import CosineMarginLoss
from losses.cosface import CosFaceLoss
from losses.focal_style_proxy_anchor import FocalStyleProxyAnchorLoss
from losses.large_margin_softmax import LargeMarginSoftmaxLoss
from losses.normalized_softmax import NormalizedSoftmaxLoss
from losses.proxy_anchor import ProxyAnchorLoss
from losses.proxy_nca import ProxyNCALoss
from losses.soft_triple import SoftTripleLoss
from losses.subcenter_arcface import SubCenterArcFaceLoss

CLASSES = [
    CosFaceLoss,
    LargeMarginSoftmaxLoss,
    ProxyAnchorLoss,
    FocalStyleProxyAnchorLoss,
    ProxyNCALoss,
    NormalizedSoftmaxLoss,
    SoftTripleLoss,
    SubCenterArcFaceLoss,
]
IDS = [cls.__name__ for cls in CLASSES]
# PML's LargeMarginSoftmaxLoss calls scipy.special.binom on tensors (NumPy 2 deprecation): not ours
pytestmark = [
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning"),
    pytest.mark.usefixtures("one_thread"),
]


def state(loss):
    """The loss's one learnable tensor: class weights, sub-centres or proxies."""
    return loss.proxies if hasattr(loss, "proxies") else loss.weight


# --- PML counterparts: our state copied into PML's layout; `grad()` gives PML's gradient in ours.


def pml_weight_loss(reference, ours):
    """For PML losses with W [E', C] (or [E', C·K] for sub-centres)."""
    reference = reference.double()
    reference.W.data = ours.weight.detach().reshape(-1, ours.embedding_dim).T.clone()
    return reference, lambda: reference.W.grad.T.reshape(ours.weight.shape)


def pml_proxy_loss(reference, ours):
    """For PML losses with proxies [C, E'] (our layout)."""
    reference = reference.double()
    reference.proxies.data = ours.proxies.detach().clone()
    return reference, lambda: reference.proxies.grad


def pml_counterpart(ours):
    sizes = {"num_classes": ours.n_classes, "embedding_size": ours.embedding_dim}
    if type(ours) is CosFaceLoss:
        return pml_weight_loss(pml.CosFaceLoss(**sizes, margin=ours.margin, scale=ours.s), ours)
    if type(ours) is LargeMarginSoftmaxLoss:
        return pml_weight_loss(pml.LargeMarginSoftmaxLoss(**sizes, margin=ours.margin, scale=ours.s), ours)
    if type(ours) in (ProxyAnchorLoss, FocalStyleProxyAnchorLoss):
        if type(ours) is FocalStyleProxyAnchorLoss:
            assert ours.gamma_pos == ours.gamma_neg == 0, "PML has Proxy-Anchor only"
        return pml_proxy_loss(pml.ProxyAnchorLoss(**sizes, alpha=ours.proxy_alpha, margin=ours.proxy_delta), ours)
    if type(ours) is ProxyNCALoss:
        return pml_proxy_loss(pml.ProxyNCALoss(**sizes, softmax_scale=ours.softmax_scale), ours)
    if type(ours) is NormalizedSoftmaxLoss:
        return pml_weight_loss(pml.NormalizedSoftmaxLoss(**sizes, temperature=ours.temperature), ours)
    if type(ours) is SoftTripleLoss:
        reference = pml.SoftTripleLoss(
            **sizes, centers_per_class=ours.centers_per_class, la=ours.la, gamma=ours.gamma, margin=ours.margin
        ).double()
        reference.fc.data = ours.weight.detach().reshape(-1, ours.embedding_dim).T.clone()
        return reference, lambda: reference.fc.grad.T.reshape(ours.weight.shape)
    if type(ours) is SubCenterArcFaceLoss:
        reference = pml.SubCenterArcFaceLoss(
            **sizes, margin=math.degrees(ours.margin), scale=ours.s, sub_centers=ours.sub_centers
        )
        return pml_weight_loss(reference, ours)
    raise AssertionError(type(ours))


def inputs_near_pi(ours, n_classes, batch, generator):
    """Labels from at most 5 classes (most of 1000 absent) and embeddings, the first three almost
    opposite their target (θ ≈ π): for sub-centres, the target's sub-centres are first made nearly
    equal, so that the largest (and the softmax-weighted) cosine is near −1 as well."""
    labels = torch.randint(0, min(n_classes, 5), (batch,), generator=generator)
    labels[: min(batch, 2)] = torch.arange(min(batch, 2)) % n_classes
    parameter = state(ours)
    near = labels[:3]
    with torch.no_grad():
        if parameter.dim() == 3:
            noise = torch.randn(len(near), *parameter.shape[1:], dtype=parameter.dtype, generator=generator)
            parameter[near] = parameter[near][:, :1] + 1e-9 * noise
        directions = parameter[near] if parameter.dim() == 2 else parameter[near, 0]
    embeddings = torch.randn(batch, ours.embedding_dim, dtype=torch.float64, generator=generator)
    embeddings[: len(near)] = -directions + 1e-6 * torch.randn(directions.shape, dtype=torch.float64, generator=generator)
    return embeddings, labels


def assert_equals_pml(ours, n_classes, batch, seed):
    generator = torch.Generator().manual_seed(seed)
    embeddings, labels = inputs_near_pi(ours, n_classes, batch, generator)
    reference, reference_grad = pml_counterpart(ours)
    ours_input = embeddings.clone().requires_grad_(True)
    reference_input = embeddings.clone().requires_grad_(True)
    ours_value = ours(ours_input, labels)
    reference_value = reference(reference_input, labels)
    ours_value.backward()
    reference_value.backward()
    torch.testing.assert_close(ours_value, reference_value, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(ours_input.grad, reference_input.grad, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(state(ours).grad, reference_grad(), rtol=1e-6, atol=1e-9)


EQUAL_TO_PML = [cls for cls in CLASSES if cls is not FocalStyleProxyAnchorLoss]


@pytest.mark.parametrize("n_classes,batch", [(2, 1), (2, 64), (1000, 64), (10, 7)])
@pytest.mark.parametrize("cls", EQUAL_TO_PML, ids=[cls.__name__ for cls in EQUAL_TO_PML])
def test_defaults_equal_pml_loss_and_gradients(cls, n_classes, batch):
    torch.manual_seed(n_classes + batch)
    assert_equals_pml(cls(embedding_dim=16, n_classes=n_classes).double(), n_classes, batch, seed=n_classes * batch)


@pytest.mark.parametrize(
    "cls,parameters",
    [
        (CosFaceLoss, {"margin": 0.1, "s": 10.0}),
        (LargeMarginSoftmaxLoss, {"margin": 1, "s": 1.0}),
        (LargeMarginSoftmaxLoss, {"margin": 2, "s": 2.0}),
        (LargeMarginSoftmaxLoss, {"margin": 3, "s": 0.5}),
        (LargeMarginSoftmaxLoss, {"margin": 5, "s": 1.0}),
        (ProxyAnchorLoss, {"proxy_alpha": 16.0, "proxy_delta": 0.3}),
        (FocalStyleProxyAnchorLoss, {"gamma_pos": 0.0, "gamma_neg": 0.0}),
        (FocalStyleProxyAnchorLoss, {"proxy_alpha": 8.0, "proxy_delta": 0.0, "gamma_pos": 0.0, "gamma_neg": 0.0}),
        (ProxyNCALoss, {"softmax_scale": 3.0}),
        (NormalizedSoftmaxLoss, {"temperature": 0.5}),
        (SoftTripleLoss, {"centers_per_class": 1, "la": 5.0, "gamma": 0.5, "margin": 0.2}),
        (SoftTripleLoss, {"centers_per_class": 4, "la": 30.0, "gamma": 0.05, "margin": 0.0}),
        (SubCenterArcFaceLoss, {"sub_centers": 1, "margin": 0.3, "s": 30.0}),
        (SubCenterArcFaceLoss, {"sub_centers": 5, "margin": 1.2, "s": 16.0}),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "-".join(f"{k}={v}" for k, v in value.items()),
)
def test_other_hyper_parameters_equal_pml_loss_and_gradients(cls, parameters):
    torch.manual_seed(3)
    assert_equals_pml(cls(embedding_dim=8, n_classes=6, **parameters).double(), 6, 24, seed=4)


# --- Focal-style Proxy-Anchor: the formula in plain loops, gradients, and Proxy-Anchor at γ = 0.


def focal_proxy_anchor_by_loops(cos, labels, alpha, delta, gamma_pos, gamma_neg):
    n_classes = len(cos[0])
    present = set(labels)
    positive_total = negative_total = 0.0
    for c in range(n_classes):
        positive_sum = negative_sum = 0.0
        for row, label in zip(cos, labels):
            s = row[c]
            if label == c:
                positive_sum += min(max(1 - s, 0.0), 1.0) ** gamma_pos * math.exp(-alpha * (s - delta))
            else:
                negative_sum += min(max(s, 0.0), 1.0) ** gamma_neg * math.exp(alpha * (s + delta))
        positive_total += math.log(1 + positive_sum)
        negative_total += math.log(1 + negative_sum)
    return positive_total / len(present), negative_total / n_classes


@pytest.mark.parametrize(
    "alpha,delta,gamma_pos,gamma_neg,dtype",
    [
        (32.0, 0.1, 2.0, 2.0, torch.float64),
        (16.0, 0.2, 0.5, 3.0, torch.float64),
        (32.0, 0.1, 0.0, 1.0, torch.float64),
        (4.0, 0.0, 1.0, 0.0, torch.float64),
        # small exponents: a weight 0 must stay 0, not tiny^γ (= 0.01 for γ = 0.05 in float32)
        (8.0, 0.1, 0.05, 0.05, torch.float32),
    ],
)
def test_focal_style_proxy_anchor_is_the_formula_written_out(alpha, delta, gamma_pos, gamma_neg, dtype):
    torch.manual_seed(5)
    ours = FocalStyleProxyAnchorLoss(6, 5, proxy_alpha=alpha, proxy_delta=delta, gamma_pos=gamma_pos, gamma_neg=gamma_neg)
    ours = ours.to(dtype)
    labels = torch.tensor([0, 1, 1, 3, 0, 1, 3, 0])  # classes 2 and 4 absent
    embeddings = torch.randn(8, 6, dtype=dtype)
    embeddings[0] = ours.proxies.detach()[0]  # cosine 1 with its own proxy: weight clamp(1 − s)^γ = 0
    embeddings[1] = -ours.proxies.detach()[1]  # cosine −1 with its own proxy
    cos = (F.normalize(embeddings.double(), dim=1) @ F.normalize(ours.proxies.detach().double(), dim=1).T).tolist()
    positive, negative = focal_proxy_anchor_by_loops(cos, labels.tolist(), alpha, delta, gamma_pos, gamma_neg)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    assert ours(embeddings, labels).item() == pytest.approx(positive + negative, rel=tolerance)
    # the two terms, for the training log
    assert ours.last_terms["positive"].item() == pytest.approx(positive, rel=tolerance)
    assert ours.last_terms["negative"].item() == pytest.approx(negative, rel=tolerance)


def test_focal_style_proxy_anchor_gradients_match_finite_differences():
    torch.manual_seed(6)
    ours = FocalStyleProxyAnchorLoss(4, 3, proxy_alpha=4.0, gamma_pos=2.0, gamma_neg=1.5).double()
    labels = torch.tensor([0, 1, 1, 0, 2])
    embeddings = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    proxies = ours.proxies.detach().clone().requires_grad_(True)

    def loss(embeddings, proxies):
        return torch.func.functional_call(ours, {"proxies": proxies}, (embeddings, labels))

    assert torch.autograd.gradcheck(loss, (embeddings, proxies))


def test_focal_style_proxy_anchor_with_zero_gammas_is_proxy_anchor_and_differs_otherwise():
    torch.manual_seed(7)
    focal = FocalStyleProxyAnchorLoss(8, 4, gamma_pos=0.0, gamma_neg=0.0).double()
    plain = ProxyAnchorLoss(8, 4).double()
    plain.load_state_dict(focal.state_dict())
    embeddings = torch.randn(10, 8, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    values, gradients = [], []
    for loss in (focal, plain):
        inputs = embeddings.clone().requires_grad_(True)
        value = loss(inputs, labels)
        value.backward()
        values.append(value)
        gradients.append((inputs.grad, loss.proxies.grad))
    torch.testing.assert_close(values[0], values[1], rtol=1e-14, atol=0)
    torch.testing.assert_close(gradients[0], gradients[1], rtol=1e-12, atol=1e-15)
    focal.gamma_pos = focal.gamma_neg = 2.0
    assert focal(embeddings, labels).item() < plain(embeddings, labels).item()  # every weight ≤ 1


# --- Scores: definitions and polarity.


def expected_score(loss, embeddings):
    parameter = state(loss).detach()
    if isinstance(loss, LargeMarginSoftmaxLoss):
        probabilities = (loss.s * embeddings @ parameter.T).softmax(1)  # ‖W‖‖x‖cos θ = W·x
        return torch.log(probabilities[:, BONAFIDE] / (1 - probabilities[:, BONAFIDE]))
    if parameter.dim() == 2:
        return F.cosine_similarity(embeddings, parameter[BONAFIDE].unsqueeze(0), dim=1)
    cos = torch.stack([F.cosine_similarity(embeddings, centre.unsqueeze(0), dim=1) for centre in parameter[BONAFIDE]], dim=1)
    if isinstance(loss, SubCenterArcFaceLoss):
        return cos.max(dim=1).values
    return (torch.softmax(cos / loss.gamma, dim=1) * cos).sum(dim=1)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_score_definition(cls):
    torch.manual_seed(8)
    loss = cls(embedding_dim=6, n_classes=3).double()
    embeddings = torch.randn(5, 6, dtype=torch.float64)
    expected = expected_score(loss, embeddings)
    torch.testing.assert_close(loss.score(embeddings), expected)
    torch.testing.assert_close(loss.score((torch.randn(5, 3, dtype=torch.float64), embeddings)), expected)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_score_is_higher_for_bonafide_after_training(cls):
    """Polarity: a few steps on separable data make bona fide trials score higher (before them, they
    do not: the initial scores of this seed put some spoof trial above some bona fide one)."""
    torch.manual_seed(0)
    loss = cls(embedding_dim=4, n_classes=2)
    head = torch.nn.Linear(4, 4)
    labels = torch.tensor([BONAFIDE] * 16 + [SPOOF] * 16)
    features = torch.randn(32, 4) + 2.0 * torch.where(labels == BONAFIDE, 1.0, -1.0).unsqueeze(1)
    optimizer = torch.optim.Adam([*head.parameters(), *loss.parameters()], lr=0.05)
    with torch.no_grad():
        scores = loss.score((torch.zeros(32, 2), head(features)))
    assert scores[labels == BONAFIDE].min() < scores[labels == SPOOF].max()
    for _ in range(20):
        embedding = head(features)
        value = loss((torch.zeros(32, 2), embedding), labels)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    with torch.no_grad():
        scores = loss.score((torch.zeros(32, 2), head(features)))
    assert scores[labels == BONAFIDE].min() > scores[labels == SPOOF].max()


# --- State: names, shapes, checkpoints, initialisation like PML's.

STATE_SHAPES = {
    CosFaceLoss: {"weight": (3, 8)},
    LargeMarginSoftmaxLoss: {"weight": (3, 8)},
    ProxyAnchorLoss: {"proxies": (3, 8)},
    FocalStyleProxyAnchorLoss: {"proxies": (3, 8)},
    ProxyNCALoss: {"proxies": (3, 8)},
    NormalizedSoftmaxLoss: {"weight": (3, 8)},
    SoftTripleLoss: {"weight": (3, 10, 8)},
    SubCenterArcFaceLoss: {"weight": (3, 3, 8)},
}


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_state_survives_a_checkpoint_round_trip(cls, tmp_path):
    torch.manual_seed(1)
    trained = cls(embedding_dim=8, n_classes=3)
    assert {name: tuple(value.shape) for name, value in trained.state_dict().items()} == STATE_SHAPES[cls]
    assert [name for name, _ in trained.named_parameters()] == list(STATE_SHAPES[cls])
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(1.0)
    torch.save(trained.state_dict(), tmp_path / "loss.pt")
    torch.manual_seed(2)
    restored = cls(embedding_dim=8, n_classes=3)
    embedding = torch.randn(4, 8)
    assert not torch.allclose(restored.score(embedding), trained.score(embedding))
    restored.load_state_dict(torch.load(tmp_path / "loss.pt"))
    torch.testing.assert_close(restored.score(embedding), trained.score(embedding))
    labels = torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(restored(embedding, labels), trained(embedding, labels))


PML_STATE = {
    CosFaceLoss: lambda: pml.CosFaceLoss(num_classes=1000, embedding_size=16).W,
    LargeMarginSoftmaxLoss: lambda: pml.LargeMarginSoftmaxLoss(num_classes=1000, embedding_size=16).W,
    ProxyAnchorLoss: lambda: pml.ProxyAnchorLoss(num_classes=1000, embedding_size=16).proxies,
    FocalStyleProxyAnchorLoss: lambda: pml.ProxyAnchorLoss(num_classes=1000, embedding_size=16).proxies,
    ProxyNCALoss: lambda: pml.ProxyNCALoss(num_classes=1000, embedding_size=16).proxies,
    NormalizedSoftmaxLoss: lambda: pml.NormalizedSoftmaxLoss(num_classes=1000, embedding_size=16).W,
    SoftTripleLoss: lambda: pml.SoftTripleLoss(num_classes=1000, embedding_size=16).fc,
    SubCenterArcFaceLoss: lambda: pml.SubCenterArcFaceLoss(num_classes=1000, embedding_size=16).W,
}


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_initialisation_is_distributed_as_pml(cls):
    """Same distribution as a freshly built PML loss of the same sizes (C = 1000, E' = 16)."""
    torch.manual_seed(9)
    ours = state(cls(embedding_dim=16, n_classes=1000)).detach()
    reference = PML_STATE[cls]().detach()
    assert ours.numel() == reference.numel()
    assert ours.std().item() == pytest.approx(reference.std().item(), rel=0.05)
    assert ours.abs().max().item() == pytest.approx(reference.abs().max().item(), rel=0.35)
    assert abs(ours.mean().item()) < 0.05 * ours.std().item()


# --- Metadata.

DEFAULTS = {
    CosFaceLoss: {"margin": 0.35, "s": 30.0},
    LargeMarginSoftmaxLoss: {"margin": 4, "s": 1.0},
    ProxyAnchorLoss: {"proxy_alpha": 32.0, "proxy_delta": 0.1},
    FocalStyleProxyAnchorLoss: {"proxy_alpha": 32.0, "proxy_delta": 0.1, "gamma_pos": 2.0, "gamma_neg": 2.0},
    ProxyNCALoss: {"softmax_scale": 1.0},
    NormalizedSoftmaxLoss: {"temperature": 0.05},
    SoftTripleLoss: {"centers_per_class": 10, "la": 20.0, "gamma": 0.1, "margin": 0.01},
    SubCenterArcFaceLoss: {"margin": math.radians(28.6), "s": 64.0, "sub_centers": 3},
}
# ours -> (PML class, PML's name, PML's default converted to our units), where we keep PML's default
PML_DEFAULTS = {
    ("LargeMarginSoftmaxLoss", "margin"): (pml.LargeMarginSoftmaxLoss, "margin", int),
    ("LargeMarginSoftmaxLoss", "s"): (pml.LargeMarginSoftmaxLoss, "scale", float),
    ("ProxyAnchorLoss", "proxy_alpha"): (pml.ProxyAnchorLoss, "alpha", float),
    ("ProxyAnchorLoss", "proxy_delta"): (pml.ProxyAnchorLoss, "margin", float),
    ("ProxyNCALoss", "softmax_scale"): (pml.NCALoss, "softmax_scale", float),
    ("NormalizedSoftmaxLoss", "temperature"): (pml.NormalizedSoftmaxLoss, "temperature", float),
    ("SoftTripleLoss", "centers_per_class"): (pml.SoftTripleLoss, "centers_per_class", int),
    ("SoftTripleLoss", "la"): (pml.SoftTripleLoss, "la", float),
    ("SoftTripleLoss", "gamma"): (pml.SoftTripleLoss, "gamma", float),
    ("SoftTripleLoss", "margin"): (pml.SoftTripleLoss, "margin", float),
    ("SubCenterArcFaceLoss", "margin"): (pml.SubCenterArcFaceLoss, "margin", math.radians),
    ("SubCenterArcFaceLoss", "sub_centers"): (pml.SubCenterArcFaceLoss, "sub_centers", int),
}


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_metadata_declares_every_hyper_parameter_with_its_default(cls):
    signature = inspect.signature(cls.__init__).parameters
    assert list(signature)[:3] == ["self", "embedding_dim", "n_classes"]
    assert list(signature)[3:] == list(declarations(cls))
    metadata = parameter_metadata(cls)
    assert {name: spec["default"] for name, spec in metadata.items()} == DEFAULTS[cls]
    for name, declared in declarations(cls).items():
        default = signature[name].default
        assert default == declared.default and type(default) is declared.type and declared.spec.help and declared.spec.interval
        declared.spec.check(name, default)
        if (cls.__name__, name) in PML_DEFAULTS:
            pml_class, pml_name, convert = PML_DEFAULTS[cls.__name__, name]
            assert default == pytest.approx(convert(inspect.signature(pml_class.__init__).parameters[pml_name].default))
    assert cls.loss_type == "embedding" and cls.score_description
    assert cls.reference.count(",") >= 2 and (" et al." in cls.reference or " and " in cls.reference)
    assert any(str(year) in cls.reference for year in range(2014, 2026))
    assert issubclass(cls, BaseLoss)
    if cls in (CosFaceLoss, LargeMarginSoftmaxLoss, NormalizedSoftmaxLoss, SoftTripleLoss, SubCenterArcFaceLoss):
        assert issubclass(cls, CosineMarginLoss)  # margin-softmax: one shared pattern
    if cls is SubCenterArcFaceLoss:
        assert issubclass(cls, AdditiveAngularMarginLoss) and declarations(cls)["margin"].spec.unit == "radians"


# --- Numerics: float32 under autocast; cos = ±1, θ ≈ π, zero and 1e30-norm embeddings.


def extreme_inputs(loss):
    """Embeddings at cos = +1 and −1 with their target, θ ≈ π, zero, and of norm ~1e30 (both signs)."""
    parameter = state(loss).detach()
    if parameter.dim() == 3:
        with torch.no_grad():
            state(loss)[1] = parameter[1, :1]  # class 1's sub-centres equal: its largest cosine can be −1
    directions = parameter if parameter.dim() == 2 else parameter[:, 0]
    n_classes, dim = directions.shape
    generator = torch.Generator().manual_seed(11)
    embeddings = torch.cat(
        [
            directions,
            -directions,
            -directions + 1e-4 * torch.randn(n_classes, dim, generator=generator),
            torch.zeros(1, dim),
            1e30 * directions[:1],
            -1e30 * directions[:1],
        ]
    )
    labels = torch.cat([torch.arange(n_classes)] * 3 + [torch.tensor([0, 0, 0])])
    return embeddings, labels


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_finite_at_extreme_inputs(cls, dtype):
    torch.manual_seed(12)
    loss = cls(embedding_dim=4, n_classes=2)
    embeddings, labels = extreme_inputs(loss)
    embeddings = embeddings.to(dtype).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        value = loss(embeddings, labels)
        scores = loss.score(embeddings)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(scores).all()
    assert torch.isfinite(embeddings.grad).all() and torch.isfinite(state(loss).grad).all()


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_autocast_computes_in_float32(cls):
    torch.manual_seed(13)
    loss = cls(embedding_dim=8, n_classes=3)
    embeddings = torch.randn(16, 8)
    labels = torch.arange(16) % 3
    expected_value, expected_scores = loss(embeddings, labels), loss.score(embeddings)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value, scores = loss(embeddings, labels), loss.score(embeddings)
        half_value = loss(embeddings.bfloat16(), labels)
    assert value.dtype == scores.dtype == half_value.dtype == torch.float32
    torch.testing.assert_close(value, expected_value, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(scores, expected_scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_scores_of_huge_embeddings_do_not_overflow(cls):
    """‖x‖ ~ 1e30 squares past float32's range: cosines must still see its direction."""
    torch.manual_seed(14)
    loss = cls(embedding_dim=8, n_classes=2)
    embeddings = torch.randn(6, 8)
    # cosine scores do not depend on the norm; L-Softmax's log-odds (C = 2) are linear in x
    factor = 1e30 if cls is LargeMarginSoftmaxLoss else 1.0
    torch.testing.assert_close(loss.score(1e30 * embeddings), factor * loss.score(embeddings), rtol=1e-5, atol=1e-6)
