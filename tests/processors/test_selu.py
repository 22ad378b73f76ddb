import torch
from torch.nn import functional as F

from processors.selu import SELU, selu


def test_selu_and_its_gradient_equal_torch_selu():
    x = torch.cat([torch.randn(1000) * 5, torch.tensor([0.0, -0.0, 1e-8, -1e-8, -100.0, 100.0, -1e30])]).requires_grad_()
    expected = torch.nn.functional.selu(x)
    torch.testing.assert_close(selu(x), expected, atol=1e-6, rtol=1e-6)
    weights = torch.randn_like(x)
    (ours,) = torch.autograd.grad((selu(x) * weights).sum(), x)
    (reference,) = torch.autograd.grad((expected * weights).sum(), x)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=1e-5)


def test_module_form_and_double_precision():
    x = torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(SELU()(x), torch.selu(x))


def test_a_traced_or_exported_selu_is_torchs_own():
    """Tracing cannot record the Python function of the CPU path: while tracing, torch's SELU is used."""
    x = torch.linspace(-4, 4, 101)
    traced = torch.jit.trace(SELU(), x)
    assert "aten::selu" in str(traced.inlined_graph)
    torch.testing.assert_close(traced(2 * x), F.selu(2 * x), rtol=0, atol=0)
