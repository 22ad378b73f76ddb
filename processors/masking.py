"""Frame masks for padded layer stacks."""
from __future__ import annotations

import torch


def frame_mask(frame_lengths: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Bool [B, n_frames], True where the frame is inside the utterance."""
    return torch.arange(n_frames, device=frame_lengths.device).unsqueeze(0) < frame_lengths.unsqueeze(1)
