"""Norms, directions, cosines and multiple angles for the embedding losses, without overflow.

`torch.linalg.vector_norm` squares the components, so a float32 vector of norm 1e30 has norm inf
and `F.normalize` maps it to 0. Here a vector is first divided by a power of two that brings its
largest |component| to at most 1: the division is exact (short of subnormal components), so the
result is `F.normalize(x)` bit for bit wherever that does not overflow. The power of two is a
constant of the differentiation (the direction of x does not depend on its scale), so gradients
are exact too. Learnable weights are parameters of moderate size: plain F.normalize serves them.
(BaseLoss already runs every loss in at least float32 with autocast off.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _power_of_two_scale(x: torch.Tensor, dim: int) -> torch.Tensor:
    """2^k ≥ max |x| along dim, at least 1 (so a vector of moderate size, and 0, is left as it is)."""
    largest = x.detach().abs().amax(dim=dim, keepdim=True)
    # log2(0) = −inf for a zero vector: the clamp makes its scale 2^0 = 1
    return torch.exp2(torch.log2(largest).ceil().clamp_min(0))


def norm_and_direction(x: torch.Tensor, dim: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """(‖x‖ with dim removed, x / ‖x‖) along dim, without overflow; a zero vector has norm 0 and
    direction 0 (as F.normalize)."""
    scale = _power_of_two_scale(x, dim)
    scaled = x / scale
    length = torch.linalg.vector_norm(scaled, dim=dim, keepdim=True)
    return (scale * length).squeeze(dim), scaled / length.clamp_min(1e-12)


def normalize(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """x / ‖x‖ along dim, without overflow; a zero vector stays zero (as F.normalize)."""
    return F.normalize(x / _power_of_two_scale(x, dim), dim=dim)


def norm(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """‖x‖ along dim (dim removed), without overflow of the squares."""
    scale = _power_of_two_scale(x, dim)
    return (scale * torch.linalg.vector_norm(x / scale, dim=dim, keepdim=True)).squeeze(dim)


def cosine_of_directions(direction: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cosines of unit vectors direction [B, E'] to every row of weight [..., E']: [B, ...]."""
    rows = F.normalize(weight.to(direction.dtype), dim=-1).reshape(-1, weight.shape[-1])
    return (direction @ rows.T).view(direction.shape[0], *weight.shape[:-1])


def cosine_to(embedding: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cosines of embedding [B, E'] to every row of weight [..., E']: [B, ...] (e.g. [B, C] or [B, C, K])."""
    return cosine_of_directions(normalize(embedding.to(torch.promote_types(embedding.dtype, weight.dtype))), weight)


def cos_multiple_angle(cos: torch.Tensor, m: int) -> torch.Tensor:
    """cos(m θ) as the Chebyshev polynomial T_m(cos θ) (T_0 = 1, T_1 = c, T_n+1 = 2c T_n − T_n−1):
    a polynomial, so value and gradient stay finite at cos θ = ±1, unlike a route through acos."""
    previous, current = torch.ones_like(cos), cos
    if m == 0:
        return previous
    for _ in range(m - 1):
        previous, current = current, 2 * cos * current - previous
    return current
