"""BatchNorm whose batch statistics ignore padding frames: shared by the back-ends that normalise over time."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the channels (dim 1) of `x [B, C, T', ...]` that ignores padding frames and sets them
    to 0: `valid [B, T']` marks the valid frames (broadcast over the dimensions after T'), or is None when
    every frame is valid (then it is plain BatchNorm, with its parameter and buffer names).

    In training mode the mean and (biased) variance over the valid positions normalise `x` (in float32
    for half-precision inputs), and the running statistics move towards them (the running variance
    takes the unbiased estimate, as torch does; momentum None is the cumulative average). In eval mode
    the running statistics normalise, as in BatchNorm. Unlike torch, a single value per channel is
    allowed in training mode (its variance is 0, so the output is the BatchNorm bias). Running
    statistics are always tracked.
    """

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        if valid is None and (not self.training or x.numel() > x.shape[1]):
            return self.normalise(x)
        if valid is None:
            valid = torch.ones(x.shape[0], x.shape[2], dtype=torch.bool, device=x.device)
        mask = valid.reshape(valid.shape[0], 1, valid.shape[1], *([1] * (x.dim() - 3)))
        if not self.training:
            return torch.where(mask, self.normalise(x), 0.0)
        precise = x.to(torch.promote_types(x.dtype, torch.float32))  # half-precision inputs: statistics in float32
        reduced, shape = [0, *range(2, x.dim())], (1, -1, *([1] * (x.dim() - 2)))
        count = valid.sum() * math.prod(x.shape[3:])
        mean = torch.where(mask, precise, 0.0).sum(dim=reduced) / count
        variance = torch.where(mask, precise - mean.reshape(shape), 0.0).square().sum(dim=reduced) / count
        self.update_running_statistics(mean, variance * count / (count - 1).clamp(min=1))
        scale = torch.rsqrt(variance + self.eps)
        shift = -mean * scale
        if self.affine:
            scale, shift = self.weight * scale, self.weight * shift + self.bias
        return torch.where(mask, precise * scale.reshape(shape) + shift.reshape(shape), 0.0).to(x.dtype)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Plain BatchNorm of x [B, C, ...], any number of dimensions after C."""
        momentum = self.step() if self.training else 0.0
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, momentum, self.eps)

    def step(self) -> float:
        """Counts a training batch; the momentum of its update of the running statistics."""
        self.num_batches_tracked.add_(1)
        return 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum

    @torch.no_grad()
    def update_running_statistics(self, mean: torch.Tensor, unbiased_variance: torch.Tensor) -> None:
        """Moves the running mean and variance towards this batch's, as BatchNorm does in training."""
        momentum = self.step()
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased_variance.to(self.running_var.dtype), momentum)
