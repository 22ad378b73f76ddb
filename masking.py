"""Frame masks for padded batches and the masked reductions of the pooling processors; shared by
extractors and processors, so it sits below both and imports nothing of the project."""
from __future__ import annotations

import torch


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
