"""A-Softmax, SphereFace2, MagFace, OC-Softmax and focal loss against their papers' formulas.

Each reference formula is written out here in plain float64 Python (loops over trials and classes);
gradients are compared with autograd through the same formula written in plain torch ops.
"""
import inspect
import math
from decimal import Decimal, localcontext

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning.losses import SphereFaceLoss

from common import parameter_metadata
from conventions import BONAFIDE, SPOOF, HyperParameter, declarations
from losses.a_softmax import ASoftmaxLoss
from losses.focal import FocalLoss
from losses.magface import MagFaceLoss
from losses.oc_softmax import OCSoftmaxLoss
from losses.sphereface2 import SphereFace2Loss

LOSS_CLASSES = [ASoftmaxLoss, SphereFace2Loss, MagFaceLoss, OCSoftmaxLoss, FocalLoss]


pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------- plain-Python building blocks


def dot(u, v):
    return sum(a * b for a, b in zip(u, v))


def norm(u):
    return math.sqrt(dot(u, u))


def cosine(u, v):
    return dot(u, v) / (norm(u) * norm(v))


def log_sum_exp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def batch(n_classes, size, dim, seed):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, n_classes, (size,), generator=generator)
    labels[:n_classes] = torch.arange(n_classes)  # every class present
    return torch.randn(size, dim, dtype=torch.float64, generator=generator), labels, generator


def near_pi(embeddings, weight, labels, rows, generator, noise=1e-6):
    """`rows` embeddings made almost opposite to their target class weight (θ_target ≈ π)."""
    embeddings = embeddings.clone()
    noise = noise * torch.randn(rows, weight.shape[1], dtype=embeddings.dtype, generator=generator)
    embeddings[:rows] = -weight[labels[:rows]].to(embeddings.dtype) + noise
    return embeddings


def assert_gradients_match(ours_module, ours_loss_of, reference_loss_of, embeddings, parameters=("weight",), rtol=1e-7, atol=1e-10):
    """Loss values and gradients (inputs and the named parameters) of ours and of a torch-ops reference."""
    ours_input = embeddings.clone().requires_grad_(True)
    ours_value = ours_loss_of(ours_input)
    ours_value.backward()
    references = {name: getattr(ours_module, name).detach().clone().requires_grad_(True) for name in parameters}
    reference_input = embeddings.clone().requires_grad_(True)
    reference_value = reference_loss_of(reference_input, **references)
    reference_value.backward()
    torch.testing.assert_close(ours_value, reference_value, rtol=rtol, atol=atol)
    pairs = [(ours_input.grad, reference_input.grad)] + [(getattr(ours_module, name).grad, references[name].grad) for name in parameters]
    for ours_gradient, reference_gradient in pairs:
        # absolute tolerance relative to the gradient's scale: single entries can cancel to ~1e-3 of it
        scale = reference_gradient.abs().max().item()
        torch.testing.assert_close(ours_gradient, reference_gradient, rtol=1e-6, atol=1e-9 * max(scale, 1.0))


def adam_step(parameters, lr, state=None, betas=(0.9, 0.999), eps=1e-8):
    """One Adam update (Kingma and Ba) of `parameters` from their .grad; `state` carries the moments.
    Written out here because torch.optim's first step costs seconds of lazy imports."""
    state = {} if state is None else state
    step = state["step"] = state.get("step", 0) + 1
    with torch.no_grad():
        for index, parameter in enumerate(parameters):
            if parameter.grad is None:  # unused by this loss (the logits head of an embedding loss)
                continue
            first, second = state.setdefault(index, (torch.zeros_like(parameter), torch.zeros_like(parameter)))
            first.mul_(betas[0]).add_(parameter.grad, alpha=1 - betas[0])
            second.mul_(betas[1]).addcmul_(parameter.grad, parameter.grad, value=1 - betas[1])
            denominator = (second / (1 - betas[1] ** step)).sqrt_().add_(eps)
            parameter.sub_(lr * first / (1 - betas[0] ** step) / denominator)
            parameter.grad = None
    return state


# ---------------------------------------------------------------- A-Softmax (SphereFace)


def a_softmax_formula(embeddings, weight, labels, m, lamb, gamma):
    """Liu et al. 2017: target logit ‖x‖(λ cos θ + ψ(θ))/(1 + λ), ψ(θ) = (−1)^k cos(mθ) − 2k, k = ⌊mθ/π⌋;
    others ‖x‖ cos θ_j; loss = mean (1 − p_t)^γ (−log p_t)."""
    total = 0.0
    for x, y in zip(embeddings.tolist(), labels.tolist()):
        logits = []
        for j, w in enumerate(weight.tolist()):
            c = cosine(x, w)
            if j == y:
                theta = math.acos(max(-1.0, min(1.0, c)))
                k = min(math.floor(m * theta / math.pi), m - 1)
                psi = (-1) ** k * math.cos(m * theta) - 2 * k
                logits.append(norm(x) * (lamb * c + psi) / (1 + lamb))
            else:
                logits.append(norm(x) * c)
        log_p = logits[y] - log_sum_exp(logits)
        total += (1 - math.exp(log_p)) ** gamma * -log_p
    return total / len(labels)


def a_softmax_torch(embeddings, weight, labels, m, lamb, gamma):
    """The same in torch ops (acos route); the focal factor is a constant, as in the reference AngleLoss."""
    lengths = embeddings.norm(dim=1)
    cos = (embeddings / lengths[:, None]) @ (weight / weight.norm(dim=1, keepdim=True)).T
    target = F.one_hot(labels, weight.shape[0]).bool()
    cos_target = cos[torch.arange(len(labels)), labels]
    theta = torch.acos(cos_target)
    k = torch.floor(m * theta.detach() / math.pi).clamp(max=m - 1)
    psi = (-1.0) ** k * torch.cos(m * theta) - 2 * k
    logits = lengths[:, None] * torch.where(target, ((lamb * cos_target + psi) / (1 + lamb))[:, None], cos)
    log_p = logits.log_softmax(dim=1)[torch.arange(len(labels)), labels]
    return -((1 - log_p.exp()).detach() ** gamma * log_p).mean()


@pytest.mark.parametrize(
    "m,gamma,lambda_min,lambda_max,previous_steps,training,n_classes",
    [
        (4, 0.0, 5.0, 1500.0, 0, True, 2),
        (4, 2.0, 5.0, 1500.0, 40, True, 2),
        (3, 0.5, 0.0, 10.0, 3, False, 5),
        (1, 1.0, 2.0, 100.0, 7, True, 3),
        (2, 0.0, 0.0, 0.0, 0, True, 2),
    ],
)
def test_a_softmax_is_the_paper_formula(m, gamma, lambda_min, lambda_max, previous_steps, training, n_classes):
    embeddings, labels, _ = batch(n_classes, 12, 6, seed=m + previous_steps)
    embeddings[:3] *= torch.tensor([[0.01], [7.0], [40.0]], dtype=torch.float64)  # feature norms matter here
    ours = ASoftmaxLoss(6, n_classes, margin=m, gamma=gamma, lambda_min=lambda_min, lambda_max=lambda_max).double()
    ours.step.fill_(previous_steps)
    ours.train(training)
    step = previous_steps + 1 if training else previous_steps  # the n-th training pass uses λ(n)
    lamb = max(lambda_min, lambda_max / (1 + 0.1 * step))
    expected = a_softmax_formula(embeddings, ours.weight.detach(), labels, m, lamb, gamma)
    assert ours(embeddings, labels).item() == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert int(ours.step) == step
    ours.step.fill_(previous_steps)
    assert_gradients_match(
        ours, lambda x: ours(x, labels), lambda x, weight: a_softmax_torch(x, weight, labels, m, lamb, gamma), embeddings
    )


def pml_sphereface(ours):
    reference = SphereFaceLoss(num_classes=ours.n_classes, embedding_size=ours.embedding_dim, margin=ours.margin, scale=1).double()
    reference.W.data = ours.weight.detach().T.clone()
    return reference


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # NumPy 2 about PML's use of scipy.special.binom
@pytest.mark.parametrize("n_classes,batch_size,m", [(2, 16, 4), (2, 9, 2), (7, 24, 3), (50, 32, 4)])
def test_a_softmax_without_lambda_and_focal_equals_pml_sphereface(n_classes, batch_size, m):
    embeddings, labels, generator = batch(min(n_classes, 5), batch_size, 16, seed=n_classes * m)
    ours = ASoftmaxLoss(16, n_classes, margin=m, gamma=0.0, lambda_min=0.0, lambda_max=0.0).double()
    embeddings = near_pi(embeddings * 3.0, ours.weight.detach(), labels, 3, generator)  # θ ≈ π, with ‖x‖ ≠ 1
    reference = pml_sphereface(ours)
    ours_input, reference_input = embeddings.clone().requires_grad_(True), embeddings.clone().requires_grad_(True)
    ours_value, reference_value = ours(ours_input, labels), reference(reference_input, labels)
    ours_value.backward()
    reference_value.backward()
    torch.testing.assert_close(ours_value, reference_value, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(ours_input.grad, reference_input.grad, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(ours.weight.grad, reference.W.grad.T, rtol=1e-6, atol=1e-9)


def test_a_softmax_lambda_anneals_with_training_passes_only():
    embeddings, labels, _ = batch(2, 8, 4, seed=3)
    ours = ASoftmaxLoss(4, 2, margin=4, lambda_min=5.0, lambda_max=1500.0).double()
    assert int(ours.step) == 0 and ours.lamb == 1500.0
    ours.train()
    for n in range(1, 8):
        value = ours(embeddings, labels)
        assert int(ours.step) == n
        assert ours.lamb == pytest.approx(max(5.0, 1500.0 / (1 + 0.1 * n)))
        # the n-th training pass used λ(n)
        assert value.item() == pytest.approx(a_softmax_formula(embeddings, ours.weight.detach(), labels, 4, ours.lamb, 0.0), rel=1e-10)
    ours.eval()
    for _ in range(3):
        value = ours(embeddings, labels)
    assert int(ours.step) == 7  # evaluation passes do not count
    lamb_7 = 1500.0 / 1.7
    assert value.item() == pytest.approx(a_softmax_formula(embeddings, ours.weight.detach(), labels, 4, lamb_7, 0.0), rel=1e-10)
    ours.score(embeddings)
    assert int(ours.step) == 7
    ours.step.fill_(10**6)
    assert ours.lamb == 5.0  # the floor λ_min


def test_a_softmax_step_is_saved_and_restored(tmp_path):
    embeddings, labels, _ = batch(2, 8, 4, seed=4)
    trained = ASoftmaxLoss(4, 2)
    trained.train()
    for _ in range(25):
        trained(embeddings.float(), labels)
    assert "step" in trained.state_dict()
    torch.save(trained.state_dict(), tmp_path / "loss.pt")
    restored = ASoftmaxLoss(4, 2)
    restored.load_state_dict(torch.load(tmp_path / "loss.pt"))
    assert int(restored.step) == 25 and restored.lamb == trained.lamb
    trained.eval(), restored.eval()
    torch.testing.assert_close(restored(embeddings.float(), labels), trained(embeddings.float(), labels))
    restored.train()
    restored(embeddings.float(), labels)
    assert int(restored.step) == 26


@pytest.mark.parametrize("margin", [4, 4.0, 1])
def test_a_softmax_fresh_loss_trains_at_its_first_pass(margin):
    """The first training pass of a run (step 0, λ = λ_max): forward, backward and an optimiser step."""
    torch.manual_seed(0)
    ours = ASoftmaxLoss(8, 2, margin=margin)
    embeddings = torch.randn(4, 8, requires_grad=True)
    value = ours((torch.randn(4, 2), embeddings), torch.tensor([BONAFIDE, SPOOF, SPOOF, BONAFIDE]))
    value.backward()
    adam_step([embeddings, *ours.parameters()], lr=0.01)
    assert torch.isfinite(value) and int(ours.step) == 1 and ours.margin == int(margin)
    assert all(torch.isfinite(parameter).all() for parameter in ours.parameters())
    with pytest.raises(ValueError):
        ASoftmaxLoss(8, 2, margin=2.5)


# ---------------------------------------------------------------- SphereFace2


def g(z, t):
    return 2 * ((z + 1) / 2) ** t - 1


def sphereface2_adjusted(c, is_target, margin_type, m, t):
    """ĝ: g(cos) with the margin, C: g(c) ∓ m; A: g(cos(min(θ + m, π))); M: g(cos(min(mθ, π))) for the target."""
    if margin_type == "C":
        return g(c, t) - m if is_target else g(c, t) + m
    if not is_target:
        return g(c, t)
    theta = math.acos(c)
    return g(math.cos(min(theta + m if margin_type == "A" else m * theta, math.pi)), t)


def sphereface2_formula(embeddings, weight, bias, labels, margin_type, m, r, lamb, t, lw):
    """Wen et al. 2022 / OpenSphere: L = lw/B Σ_b [λ/r softplus(−(r ĝ_y + b)) + (1−λ)/r Σ_{j≠y} softplus(r ĝ_j + b)]."""
    total = 0.0
    for x, y in zip(embeddings.tolist(), labels.tolist()):
        for j, w in enumerate(weight.tolist()):
            z = r * sphereface2_adjusted(cosine(x, w), j == y, margin_type, m, t) + bias
            total += lamb / r * softplus(-z) if j == y else (1 - lamb) / r * softplus(z)
    return lw * total / len(labels)


def sphereface2_bias_gradient(embeddings, weight, bias, labels, margin_type, m, r, lamb, t, lw):
    """∂L/∂b of the formula above: lw/(rB) Σ_b [−λ σ(−z_y) + (1−λ) Σ_{j≠y} σ(z_j)]."""
    total = 0.0
    for x, y in zip(embeddings.tolist(), labels.tolist()):
        for j, w in enumerate(weight.tolist()):
            z = r * sphereface2_adjusted(cosine(x, w), j == y, margin_type, m, t) + bias
            total += -lamb * sigmoid(-z) if j == y else (1 - lamb) * sigmoid(z)
    return lw * total / (r * len(labels))


def sphereface2_torch(embeddings, weight, bias, labels, margin_type, m, r, lamb, t, lw):
    """The same in torch ops, with OpenSphere's gradient route: logit r(cos + sg[ĝ − cos]) + b."""
    cos = F.normalize(embeddings, dim=1) @ F.normalize(weight, dim=1).T
    target = F.one_hot(labels, weight.shape[0]).bool()
    c = cos.detach()
    if margin_type == "C":
        adjusted = g(c, t) - m * (2.0 * target.to(c.dtype) - 1.0)
    else:
        theta = torch.acos(c)
        shifted = theta + m if margin_type == "A" else theta * m
        adjusted = g(torch.where(target, torch.cos(shifted.clamp(max=math.pi)), c), t)
    logits = r * (cos + (adjusted - c)) + bias
    per_class = torch.where(target, lamb * F.softplus(-logits), (1 - lamb) * F.softplus(logits))
    return lw / r * per_class.sum(dim=1).mean()


@pytest.mark.parametrize(
    "margin_type,m,n_classes,r,lamb,t",
    [("C", 0.4, 2, 40.0, 0.7, 3.0), ("C", 0.2, 5, 30.0, 0.5, 1.0), ("A", 0.5, 2, 40.0, 0.7, 3.0), ("A", 0.8, 4, 20.0, 0.6, 2.5),
     ("M", 1.5, 2, 40.0, 0.7, 3.0), ("M", 2.0, 3, 25.0, 0.8, 2.0)],
)
def test_sphereface2_is_the_paper_formula(margin_type, m, n_classes, r, lamb, t):
    embeddings, labels, generator = batch(n_classes, 14, 6, seed=n_classes + int(10 * m))
    ours = SphereFace2Loss(6, n_classes, margin_type=margin_type, margin=m, r=r, lamb=lamb, t=t, lw=50.0).double()
    with torch.no_grad():
        ours.bias.add_(0.3)  # away from the initialisation, so that positives and negatives both contribute
    embeddings = near_pi(embeddings, ours.weight.detach(), labels, 2, generator, noise=0.05)  # θ + m > π for A
    parameters = (ours.weight.detach(), ours.bias.item(), labels, margin_type, m, r, lamb, t, 50.0)
    expected = sphereface2_formula(embeddings, *parameters)
    assert ours(embeddings, labels).item() == pytest.approx(expected, rel=1e-10)
    ours.zero_grad()
    assert_gradients_match(
        ours,
        lambda x: ours(x, labels),
        lambda x, weight, bias: sphereface2_torch(x, weight, bias, labels, margin_type, m, r, lamb, t, 50.0),
        embeddings,
        parameters=("weight", "bias"),
    )
    assert ours.bias.grad.item() == pytest.approx(sphereface2_bias_gradient(embeddings, *parameters), rel=1e-7, abs=1e-10)


def opensphere_initial_logits(margin_type, m, r, t):
    if margin_type == "C":
        return r * (2 * 0.5**t - 1 - m), r * (2 * 0.5**t - 1 + m)
    theta_y = min(math.pi, math.pi / 2 + m) if margin_type == "A" else min(math.pi, m * math.pi / 2)
    return r * (2 * ((math.cos(theta_y) + 1) / 2) ** t - 1), r * (2 * 0.5**t - 1)


@pytest.mark.parametrize(
    "margin_type,m,n_classes,lamb",
    [("C", 0.4, 2, 0.7), ("C", 0.3, 100, 0.5), ("A", 0.5, 2, 0.7), ("A", 2.0, 10, 0.9), ("M", 1.5, 2, 0.7), ("M", 0.8, 7, 0.3)],
)
def test_sphereface2_bias_starts_at_the_closed_form_minimiser(margin_type, m, n_classes, lamb):
    r, t = 40.0, 3.0
    a_y, a_i = opensphere_initial_logits(margin_type, m, r, t)
    # OpenSphere's closed form, b = log(2z) − a_i − log(1 − z + sqrt((1 − z)² + 4z e^(a_y − a_i))), in 60 digits
    # (in float64 it loses ~1e-3 to cancellation for the default C, λ = 0.7, C = 2)
    with localcontext() as context:
        context.prec = 60
        z = Decimal(lamb) / ((1 - Decimal(lamb)) * (n_classes - 1))
        root = ((1 - z) ** 2 + 4 * z * Decimal(a_y - a_i).exp()).sqrt()
        closed_form = float((2 * z).ln() - Decimal(a_i) - (1 - z + root).ln())
    ours = SphereFace2Loss(8, n_classes, margin_type=margin_type, margin=m, r=r, lamb=lamb, t=t)
    assert ours.bias.item() == pytest.approx(closed_form, rel=1e-6, abs=1e-5)
    # it minimises the loss at initialisation (all cosines 0): λ softplus(−(a_y + b)) + (1 − λ)(C − 1) softplus(a_i + b)
    derivative = -lamb * sigmoid(-(a_y + closed_form)) + (1 - lamb) * (n_classes - 1) * sigmoid(a_i + closed_form)
    scale = lamb * sigmoid(-(a_y + closed_form)) + 1e-300
    assert abs(derivative) <= 1e-9 * scale
    # and so the module's loss on embeddings orthogonal to every class weight has ∂L/∂b ≈ 0
    generator = torch.Generator().manual_seed(n_classes)
    weight = ours.weight.detach().double()
    embeddings = torch.randn(6, 8, dtype=torch.float64, generator=generator)
    if n_classes < 8:
        basis = torch.linalg.qr(weight.T).Q  # [8, C]
        embeddings = embeddings - embeddings @ basis @ basis.T
        ours.double()
        ours(embeddings, torch.arange(6) % n_classes).backward()
        assert abs(ours.bias.grad.item()) < 1e-5 * 50.0 / r


def test_sphereface2_score_is_the_bonafide_binary_logit():
    ours = SphereFace2Loss(5, 2, t=2.0)
    embeddings = torch.randn(7, 5)
    cos = F.cosine_similarity(embeddings, ours.weight[BONAFIDE].unsqueeze(0), dim=1)
    expected = ours.r * (2 * ((cos + 1) / 2) ** 2.0 - 1) + ours.bias
    torch.testing.assert_close(ours.score((torch.randn(7, 2), embeddings)), expected)
    # increasing in the cosine to the bona fide weight
    order = torch.argsort(cos)
    assert (ours.score(embeddings)[order].diff() > 0).all()


# ---------------------------------------------------------------- MagFace


def magface_formula(embeddings, weight, labels, l_a, u_a, l_m, u_m, lambda_g, s):
    """Meng et al. 2021: a = clamp(‖x‖, l_a, u_a), m(a) linear from l_m to u_m, ArcFace target cos(θ + m(a))
    (cos θ − m sin m where θ + m > π), CE with scale s, + λ_g mean(a/u_a² + 1/a)."""
    cross_entropy = regulariser = 0.0
    for x, y in zip(embeddings.tolist(), labels.tolist()):
        a = min(max(norm(x), l_a), u_a)
        margin = (u_m - l_m) / (u_a - l_a) * (a - l_a) + l_m
        logits = []
        for j, w in enumerate(weight.tolist()):
            c = cosine(x, w)
            if j == y:
                theta = math.acos(c)
                c = math.cos(theta + margin) if theta + margin <= math.pi else c - margin * math.sin(margin)
            logits.append(s * c)
        cross_entropy += log_sum_exp(logits) - logits[y]
        regulariser += a / u_a**2 + 1 / a
    return (cross_entropy + lambda_g * regulariser) / len(labels)


def magface_torch(embeddings, weight, labels, l_a, u_a, l_m, u_m, lambda_g, s):
    a = embeddings.norm(dim=1).clamp(l_a, u_a)
    margin = (u_m - l_m) / (u_a - l_a) * (a - l_a) + l_m
    cos = F.normalize(embeddings, dim=1) @ F.normalize(weight, dim=1).T
    c = cos[torch.arange(len(labels)), labels]
    shifted = torch.where(c > torch.cos(math.pi - margin), torch.cos(torch.acos(c) + margin), c - margin * torch.sin(margin))
    logits = s * torch.where(F.one_hot(labels, weight.shape[0]).bool(), shifted[:, None], cos)
    return F.cross_entropy(logits, labels) + lambda_g * (a / u_a**2 + 1 / a).mean()


@pytest.mark.parametrize(
    "n_classes,parameters",
    [
        (2, dict(l_a=10.0, u_a=110.0, l_m=0.45, u_m=0.8, lambda_g=20.0, s=64.0)),
        (4, dict(l_a=1.0, u_a=30.0, l_m=0.2, u_m=1.2, lambda_g=3.0, s=16.0)),
    ],
)
def test_magface_is_the_paper_formula(n_classes, parameters):
    embeddings, labels, generator = batch(n_classes, 12, 6, seed=n_classes)
    ours = MagFaceLoss(6, n_classes, **parameters).double()
    embeddings = near_pi(embeddings, ours.weight.detach(), labels, 2, generator, noise=0.1)  # θ + m > π
    # magnitudes below, inside and above [l_a, u_a]
    wanted = torch.tensor([0.5, 15, 3, 20, 50, 105, 200, 1e4, 12, 60, 0.05, 80], dtype=torch.float64)[:, None]
    embeddings = embeddings / embeddings.norm(dim=1, keepdim=True) * wanted
    expected = magface_formula(embeddings, ours.weight.detach(), labels, *parameters.values())
    assert ours(embeddings, labels).item() == pytest.approx(expected, rel=1e-10)
    # the training log's terms: cross-entropy and λ_g · mean g(a), adding up to the loss
    a = [min(max(norm(x), parameters["l_a"]), parameters["u_a"]) for x in embeddings.tolist()]
    regulariser = parameters["lambda_g"] * sum(v / parameters["u_a"] ** 2 + 1 / v for v in a) / len(a)
    cross_entropy, magnitude = ours.last_terms.values()
    assert magnitude.item() == pytest.approx(regulariser, rel=1e-12)
    assert cross_entropy.item() == pytest.approx(expected - regulariser, rel=1e-10)
    assert_gradients_match(
        ours, lambda x: ours(x, labels), lambda x, weight: magface_torch(x, weight, labels, *parameters.values()), embeddings
    )


def test_magface_magnitude_is_clamped_at_both_edges():
    ours = MagFaceLoss(4, 2).double()
    direction = F.normalize(torch.randn(1, 4, dtype=torch.float64), dim=1)
    labels = torch.tensor([SPOOF])
    assert ours.margin(torch.tensor(10.0)).item() == pytest.approx(0.45) and ours.margin(torch.tensor(110.0)).item() == pytest.approx(0.8)
    # below l_a the loss is the one at ‖x‖ = l_a, above u_a the one at u_a; g(l_a) = l_a/u_a² + 1/l_a
    for outside, edge in ((0.3, 10.0), (7.0, 10.0), (111.0, 110.0), (1e6, 110.0)):
        torch.testing.assert_close(ours(outside * direction, labels), ours(edge * direction, labels), rtol=1e-12, atol=0)
        expected = magface_formula(edge * direction, ours.weight.detach(), labels, 10.0, 110.0, 0.45, 0.8, 20.0, 64.0)
        assert ours(outside * direction, labels).item() == pytest.approx(expected, rel=1e-10)
    # no gradient along x outside [l_a, u_a] (the classification term depends on x only through its direction there)
    for length, inside in ((5.0, False), (30.0, True), (90.0, True), (150.0, False)):
        embedding = (length * direction).requires_grad_(True)
        ours(embedding, labels).backward()
        radial = (embedding.grad * direction).sum().item()
        assert (abs(radial) > 1e-6) == inside, (length, radial)


# ---------------------------------------------------------------- OC-Softmax


def oc_softmax_formula(embeddings, centre, labels, m_real, m_fake, alpha):
    """Zhang et al. 2021: mean of softplus(α(m_real − s)) for bona fide and softplus(α(s − m_fake)) for spoof."""
    total = 0.0
    for x, y in zip(embeddings.tolist(), labels.tolist()):
        s = cosine(x, centre)
        total += softplus(alpha * (m_real - s)) if y == BONAFIDE else softplus(alpha * (s - m_fake))
    return total / len(labels)


def oc_softmax_torch(embeddings, weight, labels, m_real, m_fake, alpha):
    s = F.cosine_similarity(embeddings, weight, dim=1)
    return F.softplus(alpha * torch.where(labels == BONAFIDE, m_real - s, s - m_fake)).mean()


@pytest.mark.parametrize("m_real,m_fake,alpha,n_classes", [(0.9, 0.2, 20.0, 2), (0.5, -0.3, 5.0, 3)])
def test_oc_softmax_is_the_paper_formula_with_mixed_labels(m_real, m_fake, alpha, n_classes):
    embeddings, labels, _ = batch(n_classes, 15, 5, seed=n_classes)  # with n_classes 3: two spoof labels
    ours = OCSoftmaxLoss(5, n_classes, m_real=m_real, m_fake=m_fake, alpha=alpha).double()
    assert ours.weight.shape == (1, 5)
    expected = oc_softmax_formula(embeddings, ours.weight.detach()[0].tolist(), labels, m_real, m_fake, alpha)
    assert ours(embeddings, labels).item() == pytest.approx(expected, rel=1e-10)
    assert_gradients_match(
        ours, lambda x: ours(x, labels), lambda x, weight: oc_softmax_torch(x, weight, labels, m_real, m_fake, alpha), embeddings
    )
    expected_scores = [cosine(x, ours.weight.detach()[0].tolist()) for x in embeddings.tolist()]
    torch.testing.assert_close(ours.score(embeddings), torch.tensor(expected_scores, dtype=torch.float64))


# ---------------------------------------------------------------- focal loss


def focal_formula(logits, labels, gamma, alpha):
    """Lin et al. 2017: mean −α_t (1 − p_t)^γ log p_t; α_t = α for spoof, 1 − α for bona fide."""
    total = 0.0
    for row, y in zip(logits.tolist(), labels.tolist()):
        log_p = row[y] - log_sum_exp(row)
        alpha_t = alpha if y != BONAFIDE else 1 - alpha
        total += -alpha_t * (1 - math.exp(log_p)) ** gamma * log_p
    return total / len(labels)


def focal_torch(logits, labels, gamma, alpha):
    p = logits.softmax(dim=1)[torch.arange(len(labels)), labels]
    alpha_t = torch.where(labels == BONAFIDE, 1 - alpha, alpha)
    return (-alpha_t * (1 - p) ** gamma * torch.log(p)).mean()


@pytest.mark.parametrize("gamma,alpha,n_classes", [(2.0, 0.25, 2), (0.5, 0.9, 2), (0.0, 0.25, 2), (3.0, 0.6, 4)])
def test_focal_is_the_paper_formula(gamma, alpha, n_classes):
    logits, labels, _ = batch(n_classes, 16, n_classes, seed=n_classes + int(10 * gamma))
    logits = 3 * logits
    ours = FocalLoss(8, n_classes, gamma=gamma, alpha=alpha)
    assert ours(logits, labels).item() == pytest.approx(focal_formula(logits, labels, gamma, alpha), rel=1e-10)
    assert_gradients_match(ours, lambda x: ours(x, labels), lambda x: focal_torch(x, labels, gamma, alpha), logits, parameters=())
    # a pair from an embedding classifier: the focal loss reads the logits
    assert ours((logits, torch.randn(16, 3)), labels).item() == pytest.approx(focal_formula(logits, labels, gamma, alpha), rel=1e-10)


def test_focal_with_gamma_0_and_alpha_half_is_half_the_cross_entropy():
    logits, labels, _ = batch(2, 20, 2, seed=5)
    value = FocalLoss(8, 2, gamma=0.0, alpha=0.5)(logits, labels)
    torch.testing.assert_close(value, 0.5 * F.cross_entropy(logits, labels), rtol=1e-12, atol=0)


def test_focal_score_is_the_bonafide_log_odds():
    logits = torch.randn(6, 2, dtype=torch.float64)
    probabilities = logits.softmax(dim=1)
    expected = torch.log(probabilities[:, BONAFIDE] / probabilities[:, SPOOF])
    torch.testing.assert_close(FocalLoss(8, 2).score((logits, torch.randn(6, 8))), expected)


# ---------------------------------------------------------------- every loss


@pytest.mark.parametrize("loss_class", LOSS_CLASSES)
def test_metadata_declares_every_parameter_with_a_range(loss_class):
    signature = inspect.signature(loss_class.__init__).parameters
    parameters = [name for name in signature if name not in ("self", "embedding_dim", "n_classes")]
    assert list(declarations(loss_class)) == parameters
    for name, declared in declarations(loss_class).items():
        spec = declared.spec
        assert isinstance(spec, HyperParameter) and spec.help and (spec.interval or spec.choices or spec.pattern)
        assert declared.default is None or isinstance(declared.default, declared.type)
        declared.spec.check(name, declared.default)
    assert loss_class.loss_type == ("logits" if loss_class is FocalLoss else "embedding")
    assert loss_class.reference and loss_class.score_description
    assert any(str(year) in loss_class.reference for year in range(2016, 2023))
    parameter_metadata(loss_class)


@pytest.mark.parametrize("loss_class", LOSS_CLASSES)
def test_score_is_higher_for_bonafide_after_training(loss_class):
    """Polarity: a few steps on separable data make bona fide trials score higher."""
    torch.manual_seed(0)
    loss = loss_class(4, 2)
    head = torch.nn.Linear(4, 4)
    logits_head = torch.nn.Linear(4, 2)
    labels = torch.tensor([BONAFIDE] * 16 + [SPOOF] * 16)
    features = torch.randn(32, 4) + 2.0 * torch.where(labels == BONAFIDE, 1.0, -1.0).unsqueeze(1)
    parameters, state = [*head.parameters(), *logits_head.parameters(), *loss.parameters()], None
    loss.train()
    for _ in range(50):
        embedding = head(features)
        loss((logits_head(embedding), embedding), labels).backward()
        state = adam_step(parameters, lr=0.05, state=state)
    loss.eval()
    with torch.no_grad():
        embedding = head(features)
        scores = loss.score((logits_head(embedding), embedding))
    assert scores.shape == (32,)
    assert scores[labels == BONAFIDE].min() > scores[labels == SPOOF].max()


@pytest.mark.parametrize("loss_class", LOSS_CLASSES)
def test_state_survives_a_checkpoint_round_trip(loss_class, tmp_path):
    torch.manual_seed(1)
    trained = loss_class(8, 2)
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(torch.randn_like(parameter))
        for buffer in trained.buffers():
            buffer.add_(17)
    torch.save(trained.state_dict(), tmp_path / "loss.pt")
    torch.manual_seed(2)
    restored = loss_class(8, 2)
    restored.load_state_dict(torch.load(tmp_path / "loss.pt"))
    trained.eval(), restored.eval()
    output, labels = (torch.randn(5, 2), torch.randn(5, 8)), torch.tensor([0, 1, 1, 0, 1])
    torch.testing.assert_close(restored.score(output), trained.score(output))
    torch.testing.assert_close(restored(output, labels), trained(output, labels))


def extreme_inputs(loss):
    """Embeddings at cos = ±1 (θ = 0 and θ = π) to every weight row, zero, and of norm 1e30 (both signs);
    for the focal loss, logits of ±1e30, saturated (p_t = 1 in float) and zero."""
    if loss.loss_type == "logits":
        logits = torch.tensor([[1e30, -1e30], [-1e30, 1e30], [0.0, 0.0], [100.0, -100.0], [-100.0, 100.0], [30.0, -30.0]])
        return logits, torch.tensor([0, 0, 1, 0, 1, 1])
    weight = loss.weight.detach()
    embeddings = torch.cat([weight, -weight, torch.zeros(1, weight.shape[1]), 1e30 * weight[:1], -1e30 * weight[-1:]])
    labels = torch.arange(len(embeddings)) % 2
    return embeddings, labels


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("loss_class", LOSS_CLASSES)
def test_finite_loss_gradients_and_scores_at_extreme_inputs(loss_class, dtype):
    torch.manual_seed(3)
    loss = loss_class(4, 2, **({"gamma": 0.5} if loss_class in (FocalLoss, ASoftmaxLoss) else {}))
    inputs, labels = extreme_inputs(loss)
    inputs = inputs.to(dtype).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        value = loss(inputs, labels)
        scores = loss.score(inputs)
    value.backward()
    assert value.dtype == torch.float32 and scores.dtype == torch.float32
    assert torch.isfinite(value) and torch.isfinite(scores).all() and torch.isfinite(inputs.grad).all()
    for name, parameter in loss.named_parameters():
        assert torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("loss_class", LOSS_CLASSES)
def test_autocast_does_not_lower_the_precision(loss_class):
    """Under bf16 autocast the loss is computed in float32 (a bf16 matmul would be off by ~1e-3)."""
    torch.manual_seed(4)
    loss = loss_class(16, 2).eval()
    inputs = (5 * torch.randn(32, 16 if loss.loss_type == "embedding" else 2)).bfloat16().float()  # exact in bf16
    labels = torch.arange(32) % 2
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value, scores = loss(inputs.bfloat16(), labels), loss.score(inputs.bfloat16())
    torch.testing.assert_close(value, loss(inputs, labels), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(scores, loss.score(inputs), rtol=1e-6, atol=1e-6)
