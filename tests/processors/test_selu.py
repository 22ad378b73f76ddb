import torch

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
