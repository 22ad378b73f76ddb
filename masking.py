"""Frame masks for padded batches and the masked reductions of the pooling processors; shared by
extractors and processors, so it sits below both and imports nothing of the project."""
from __future__ import annotations

import torch
from torch.nn import functional as F


def frame_mask(frame_lengths: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Bool [B, n_frames], True where the frame is inside the utterance."""
    return torch.arange(n_frames, device=frame_lengths.device).unsqueeze(0) < frame_lengths.unsqueeze(1)


def zero_padding(hidden: torch.Tensor, frame_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`hidden [B, L, T', D]` with its padding frames set to 0, and `valid [B, T']`.

    Zeroing before any weight touches the padding keeps inf/NaN there out of the gradients too.
    """
    valid = frame_mask(frame_lengths, hidden.shape[2])
    return torch.where(valid[:, None, :, None], hidden, 0.0), valid


def masked_softmax(logits: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Softmax over frames (dim 1) of `logits [B, T', ...]` with padding frames at weight 0.

    `valid [B, T']` marks the valid frames; padding logits may hold anything, even inf or NaN.
    """
    valid = valid.reshape(*valid.shape, *([1] * (logits.dim() - 2)))
    return torch.where(valid, logits, -torch.inf).softmax(dim=1).nan_to_num(0.0)


def weighted_mean_and_std(x: torch.Tensor, weights: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation over frames of `x [B, T', D]` under `weights [B, T', 1 or D]`
    that sum to 1 over frames (0 on padding). std = sqrt(max(E[x²] − E[x]², eps)); both [B, D]."""
    x = torch.where(weights > 0, x, 0.0)
    mean = (weights * x).sum(dim=1)
    variance = (weights * x.square()).sum(dim=1) - mean.square()
    return mean, variance.clamp(min=eps).sqrt()


def frame_mask_along(frame_lengths: torch.Tensor, x: torch.Tensor, dim: int) -> torch.Tensor:
    """Bool broadcastable to `x` (batch at dim 0, frames at `dim`): True on each utterance's first
    `frame_lengths [B]` frames."""
    shape = [1] * x.dim()
    shape[0], shape[dim] = x.shape[0], x.shape[dim]
    return frame_mask(frame_lengths, x.shape[dim]).reshape(shape)


def masked_mean(x: torch.Tensor, valid: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of `x` over `dim`, of the positions where `valid` (bool, broadcastable to x, of x's size
    along dim) is True; what the others hold, even inf or NaN, never enters. No valid position: 0."""
    total = torch.where(valid, x, 0.0).sum(dim=dim)
    return total / valid.sum(dim=dim).clamp(min=1).to(total.dtype)


def extend_short(hidden: torch.Tensor, frame_lengths: torch.Tensor, min_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`hidden [B, L, T', D]` with its padding frames set to 0 and at least `min_frames` frames, and
    the frame lengths raised to `min_frames`: an utterance shorter than a model's pools need is
    extended with zero frames (silence)."""
    hidden, _ = zero_padding(hidden, frame_lengths)
    return F.pad(hidden, (0, 0, 0, max(min_frames - hidden.shape[2], 0))), frame_lengths.clamp(min=min_frames)
