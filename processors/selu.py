"""SELU (Klambauer et al., 2017) through exp on the CPU. PyTorch's CPU kernel of SELU (and ELU) goes
through an expm1 that is not vectorised, which made SELU's forward pass cost about as much as a
convolution in AASIST, where it follows every convolution; through exp it is several times faster
(benchmarks/models.py measures it against torch.selu). The backward pass is torch's own; other
devices use torch's SELU."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

ALPHA = 1.6732632423543772848170429916717
SCALE = 1.0507009873554804934193349852946


class _SELUFunction(torch.autograd.Function):
    """y = SCALE · max(x, 0) + SCALE · ALPHA · (exp(min(x, 0)) − 1); the backward pass is ELU's from
    its output (dy/dx = SCALE, or y + SCALE · ALPHA where x <= 0), so only y is kept."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        y = torch.clamp(x, max=0.0).exp_().sub_(1.0).mul_(SCALE * ALPHA).add_(torch.relu(x), alpha=SCALE)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.elu_backward(grad, ALPHA, SCALE, 1.0, True, y)


def selu(x: torch.Tensor) -> torch.Tensor:
    """torch.nn.functional.selu to float rounding (absolute error below 1e-6 in float32), faster on the
    CPU; torch's own while a model is traced or exported (which cannot record a Python function)."""
    exporting = torch.jit.is_tracing() or torch.compiler.is_exporting()
    return _SELUFunction.apply(x) if x.device.type == "cpu" and not exporting else F.selu(x)


class SELU(nn.Module):
    """Module form of `selu`, a drop-in for torch.nn.SELU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return selu(x)
