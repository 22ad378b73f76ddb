"""SLS: sensitive layer selection (Zhang et al., "Audio Deepfake Detection with Self-Supervised XLS-R
and SLS Classifier", ACM Multimedia 2024)."""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter
from masking import frame_mask
from processors.selu import selu

POOL = 3  # the (3, 3) max-pool of the paper


class SLS(nn.Module):
    """Sigmoid-weighted sum of the layers, then BN, SELU, max-pool (3, 3) and a linear layer:
    hidden [B, L, T', D] -> [B, embedding_dim].

    Layer l's weight is sigmoid(Linear(D -> 1)(mean of layer l over the valid frames)) (one Linear
    shared by all layers, weights not normalised); the layers' [T' × D] maps are summed with these
    weights, and the sum, as a 1-channel image, goes through BatchNorm2d(1), SELU and a (3, 3)
    max-pool (to ⌈T'/3⌉ × ⌈D/3⌉).

    Deviation from the paper: the original flattens the pooled map of a fixed 201-frame crop into
    Linear(67 · 341, 1024). Here utterances vary in length, so the pooled map is averaged over its
    valid pooled frames instead, then Linear(⌈D/3⌉ -> embedding_dim) and SELU (out_dim = embedding_dim).

    Length: padded frames are set to 0 at the input and to -inf just before the max-pool, so a
    pooled frame is the max over its frames inside the utterance, and the mean runs over the pooled
    frames that hold at least one of them (⌈length/3⌉; all are whole 3-frame windows except perhaps
    the last, which keeps utterances shorter than 3 frames usable). In eval mode the output is
    therefore exactly padding invariant. In training mode BatchNorm's batch statistics include the
    zeroed padding frames, so the padding of the batch does influence the output.
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        embedding_dim: Annotated[int, HyperParameter("size of the SLS output embedding (out_dim)", interval="[1, inf)")] = 1024,
    ) -> None:
        super().__init__()
        self.out_dim = embedding_dim
        self.layer_score = nn.Linear(dim, 1)
        self.bn = nn.BatchNorm2d(1)
        self.fc = nn.Linear(-(-dim // POOL), embedding_dim)

    def layer_weights(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """[B, L]: sigmoid(Linear(time-average of each layer over the valid frames)).

        `hidden [B, L, T', D]` must already be zero on the padding frames."""
        time_mean = hidden.sum(dim=2) / frame_lengths.clamp(min=1).to(hidden.dtype)[:, None, None]
        return torch.sigmoid(self.layer_score(time_mean)).squeeze(-1)

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] -> [B, embedding_dim]."""
        valid = frame_mask(frame_lengths, hidden.shape[2])[:, :, None]  # [B, T', 1]
        hidden = torch.where(valid.unsqueeze(1), hidden, 0.0)
        x = torch.einsum("bltd,bl->btd", hidden, self.layer_weights(hidden, frame_lengths))
        x = selu(self.bn(x.unsqueeze(1))).squeeze(1)
        x = F.max_pool2d(torch.where(valid, x, -torch.inf), POOL, ceil_mode=True)  # [B, ⌈T'/3⌉, ⌈D/3⌉]
        pooled_lengths = torch.div(frame_lengths + POOL - 1, POOL, rounding_mode="floor").clamp(min=1)
        pooled_valid = frame_mask(pooled_lengths, x.shape[1])[:, :, None]
        x = torch.where(pooled_valid, x, 0.0).sum(dim=1) / pooled_lengths.to(x.dtype)[:, None]
        return selu(self.fc(x))
