"""Norms and cosines for the embedding losses: overflow-free, and in at least float32 also under autocast.

`torch.linalg.vector_norm` squares the components, so a float32 vector of norm 1e30 has norm inf
and `F.normalize` maps it to 0. Here a vector is first divided by a power of two that brings its
largest |component| to at most 1: the division is exact (short of subnormal components), so the
result is `F.normalize(x)` bit for bit wherever that does not overflow. The power of two is a constant of the
differentiation (the direction of x does not depend on its scale), so gradients are exact too.

Under autocast a matmul runs in half precision even on float32 inputs; `cosine_to` turns autocast
off around it, so that cosines keep float32 resolution (2^-24, not bfloat16's 2^-8).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from losses.base import upcast


def _power_of_two_scale(x: torch.Tensor, dim: int) -> torch.Tensor:
    """2^k ≥ max |x| along dim, at least 1 (so a vector of moderate size, and 0, is left as it is)."""
    largest = x.detach().abs().amax(dim=dim, keepdim=True)
    # log2(0) = −inf for a zero vector: the clamp makes its scale 2^0 = 1
    return torch.exp2(torch.log2(largest).ceil().clamp_min(0))


def normalize(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """x / ‖x‖ along dim, without overflow; a zero vector stays zero (as F.normalize)."""
    return F.normalize(x / _power_of_two_scale(x, dim), dim=dim)


def norm(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """‖x‖ along dim (dim removed), without overflow of the squares."""
    scale = _power_of_two_scale(x, dim)
    return (scale * torch.linalg.vector_norm(x / scale, dim=dim, keepdim=True)).squeeze(dim)


def no_autocast(x: torch.Tensor):
    """A context in which autocast is off for x's device type."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def at_least_float32(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """The tensors in one common dtype, at least float32 (half-precision ones upcast)."""
    tensors = [upcast(tensor) for tensor in tensors]
    dtype = tensors[0].dtype
    for tensor in tensors[1:]:
        dtype = torch.promote_types(dtype, tensor.dtype)
    return [tensor.to(dtype) for tensor in tensors]


def cosine_to(embedding: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cosines of embedding [B, E'] to every row of weight [..., E']: [B, ...] (e.g. [B, C] or [B, C, K])."""
    embedding, weight = at_least_float32(embedding, weight)
    with no_autocast(embedding):
        rows = normalize(weight).reshape(-1, weight.shape[-1])
        return (normalize(embedding) @ rows.T).view(embedding.shape[0], *weight.shape[:-1])
