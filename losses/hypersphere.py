"""Numerics shared by the hypersphere losses (A-Softmax, SphereFace2, MagFace, OC-Softmax, focal).

- `full_precision`: compute_loss / compute_score run with autocast off and their input in at least
  float32; `upcast` alone is not enough, since autocast recasts a float32 matmul to bf16/fp16.
- `norm_and_direction`: ‖x‖ and x/‖x‖ that neither overflow (‖x‖ = 1e30 in float32) nor divide by
  zero (x = 0), with exact gradients.
- `cosines`: cosines of embeddings to the rows of a weight matrix.
- `log_one_minus_target_probability`: log(1 − p_target) under softmax, without forming 1 − p.
"""
from __future__ import annotations

import functools

import torch

from losses.base import upcast


def full_precision(method):
    """Decorates `compute_loss(self, inputs, labels)` / `compute_score(self, inputs)`: autocast is
    disabled on the input's device and the input is upcast to float32 when it is half precision."""

    @functools.wraps(method)
    def wrapper(self, inputs: torch.Tensor, *args, **kwargs):
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            return method(self, upcast(inputs), *args, **kwargs)

    return wrapper


def norm_and_direction(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of `x [B, E]` -> (‖x‖ [B], x/‖x‖ [B, E]); a zero row has norm 0 and direction 0.

    Each row is first divided by its largest absolute entry (a detached constant: the norm is
    homogeneous of degree 1 and the direction of degree 0 in it, so values and gradients are exact),
    so the sum of squares lies in [1, E] and can neither overflow nor underflow.
    """
    scale = x.detach().abs().amax(dim=-1, keepdim=True)
    # a zero row keeps scale 1 (dividing by 0 would give NaN)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    scaled = x / scale
    scaled_norm = torch.linalg.vector_norm(scaled, dim=-1, keepdim=True)
    # a non-zero scaled row has an entry ±1, so its norm is >= 1 and this clamp acts only on zero rows:
    # their direction is 0 with a finite gradient (F.normalize's eps=1e-12 would give a 1e12 gradient)
    direction = scaled / scaled_norm.clamp_min(1.0)
    return (scaled_norm * scale).squeeze(-1), direction


def cosines(embedding: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Cosines [B, C] between the rows of `embedding [B, E']` and of `weight [C, E']`."""
    dtype = torch.promote_types(embedding.dtype, upcast(weight).dtype)
    _, x = norm_and_direction(embedding.to(dtype))
    _, w = norm_and_direction(weight.to(dtype))
    return x @ w.T


def log_one_minus_target_probability(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log(1 − softmax(logits)[label]) [B] = logsumexp(non-target logits) − logsumexp(all logits).

    Exact where p_target rounds to 1 (1 − p would be 0 and its power's gradient infinite).
    """
    target = torch.nn.functional.one_hot(labels, logits.shape[1]).bool()
    others = logits.masked_fill(target, float("-inf"))
    return torch.logsumexp(others, dim=1) - torch.logsumexp(logits, dim=1)


def chebyshev(cos: torch.Tensor, m: int) -> torch.Tensor:
    """cos(m θ) as the Chebyshev polynomial T_m(cos θ) (T_0 = 1, T_1 = c, T_n+1 = 2c T_n − T_n−1):
    a polynomial, so value and gradient stay finite at cos θ = ±1, unlike a route through acos."""
    previous, current = torch.ones_like(cos), cos
    if m == 0:
        return previous
    for _ in range(m - 1):
        previous, current = current, 2 * cos * current - previous
    return current
