"""LCNN-LSTM-sum: the back-end of the ASVspoof 2021 LFCC-LCNN baseline.

X. Wang and J. Yamagishi, "A comparative study on recent neural spoofing countermeasures for
synthetic speech detection", Proc. Interspeech 2021, 4259-4263 (doi:10.21437/Interspeech.2021-702,
arXiv:2103.11326), model "LCNN-LSTM-sum". Reference code: github.com/nii-yamagishilab/
project-NN-Pytorch-scripts, project/03-asvspoof-mega/lfcc-lcnn-lstmsum-sig/*/model.py, released as the
ASVspoof 2021 baseline in github.com/asvspoof-challenge/2021, LA/Baseline-LFCC-LCNN/project/baseline_LA/
model.py. The max-feature-map (MFM) activation is that of Wu et al.'s Light CNN.
"""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from conventions import HyperParameter, UsageError
from masking import extend_short, frame_mask, frame_mask_along, masked_mean
from processors.masked_batch_norm import MaskedBatchNorm

POOLS = 4  # 2 × 2 max-pools, each halving time and frequency
MIN_FRAMES = 2**POOLS  # frames that the pools turn into one
MIN_BINS = 2**POOLS  # frequency bins that the pools turn into one


class MaxFeatureMapConv2d(nn.Conv2d):
    """Conv2d to 2·out_channels ('same' padding), then MFM: the element-wise max of the two halves.

    (x [B, in, T, F], frame_lengths [B]) -> ([B, out, T, F], frame_lengths). Frames beyond each
    utterance are set to 0 first, so that a valid frame near the end sees zeros there, as the
    convolution's own padding does for the utterance alone.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(in_channels, 2 * out_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor, frame_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = super().forward(torch.where(frame_mask_along(frame_lengths, x, 2), x, 0.0))
        return x.unflatten(1, (2, -1)).max(dim=1).values, frame_lengths


class TimeFrequencyPool(nn.Module):
    """2 × 2 max-pool: (x [B, C, T, F], frame_lengths) -> ([B, C, T//2, F//2], frame_lengths // 2).

    A pooled frame is valid when both of its frames are (floor rounding, as MaxPool2d drops an odd last frame).
    """

    def forward(self, x: torch.Tensor, frame_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.max_pool2d(x, 2), frame_lengths // 2


class FrameBatchNorm(MaskedBatchNorm):
    """BatchNorm without affine parameters over the valid frames: (x [B, C, T, F], frame_lengths) ->
    (normalised x, 0 on padding frames; frame_lengths)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, affine=False)

    def forward(self, x: torch.Tensor, frame_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().forward(x, frame_mask(frame_lengths, x.shape[2])), frame_lengths


class LCNN(nn.Module):
    """LCNN-LSTM-sum up to its output layer: hidden [B, L, T', D] -> [B, (D // 16) · C], C = `channels` (32).

    The last layer of the stack, a [T' × D] image (time as height, frequency as width, as in the
    reference), goes through nine MFM convolutions (after each MFM the channels are C, C, 3C/2,
    3C/2, 2C, 2C, C, C, C; kernels 5, 1, 3, 1, 3, 1, 3, 1, 3), four 2 × 2 max-pools, six
    BatchNorms without affine parameters and dropout (0.7). Each of the T'//16 pooled frames,
    flattened channel-major to (D // 16) · C values, feeds two BLSTM layers of the same width
    whose output is added to their input; the sum is averaged over the valid pooled frames.

    Padding: frames beyond each utterance are set to 0 at the input and before every convolution,
    pools halve the lengths (floor), the BLSTMs read only valid pooled frames (packed sequences) and
    the mean is taken over them; the BatchNorm statistics of training are taken over valid frames.
    The output therefore does not depend on the padding's content or amount, in training as in
    evaluation, and in evaluation an utterance alone equals the same utterance in a padded batch.
    An utterance shorter than 16 frames is extended with zero frames to 16 (the four pools need
    16), so any length works. The trailing frames of an utterance that do not fill a pooled frame
    (up to 15) reach the output only through the convolutions of the frames before them.

    Departures from the reference code, which pools padded batches of zero-padded waveforms: it
    averages over all pooled frames, runs the BLSTMs over padding, lets the convolutions read the
    padding's features and takes BatchNorm statistics over them; an input under 16 frames fails
    there. Its output layer is Linear(E, 1) with a sigmoid; here the pipeline's classifier follows.
    Its two BLSTM layers are here one two-layer nn.LSTM (the same weights, under other names), and a
    front-end stack of several layers (the reference has one feature map) is read at its last layer.
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        channels: Annotated[
            int,
            HyperParameter(
                "LCNN channels C after the first and the last max-feature-map convolutions "
                "(the middle ones have 3C/2 and 2C); even",
                interval="[2, inf)",
            ),
        ] = 32,
        cnn_dropout: Annotated[
            float, HyperParameter("dropout probability on the LCNN's pooled feature map", unit="probability", interval="[0, 1)")
        ] = 0.7,
    ) -> None:
        super().__init__()
        if dim < MIN_BINS:
            raise UsageError(f"LCNN needs features of at least {MIN_BINS} values per frame (four 2 × 2 pools); got {dim}")
        if channels % 2:
            raise UsageError(f"--channels {channels} must be even (the middle LCNN blocks have 3C/2 channels)")
        wide, widest = 3 * channels // 2, 2 * channels
        self.stack = nn.ModuleList(
            [
                MaxFeatureMapConv2d(1, channels, 5),
                TimeFrequencyPool(),
                MaxFeatureMapConv2d(channels, channels, 1),
                FrameBatchNorm(channels),
                MaxFeatureMapConv2d(channels, wide, 3),
                TimeFrequencyPool(),
                FrameBatchNorm(wide),
                MaxFeatureMapConv2d(wide, wide, 1),
                FrameBatchNorm(wide),
                MaxFeatureMapConv2d(wide, widest, 3),
                TimeFrequencyPool(),
                MaxFeatureMapConv2d(widest, widest, 1),
                FrameBatchNorm(widest),
                MaxFeatureMapConv2d(widest, channels, 3),
                FrameBatchNorm(channels),
                MaxFeatureMapConv2d(channels, channels, 1),
                FrameBatchNorm(channels),
                MaxFeatureMapConv2d(channels, channels, 3),
                TimeFrequencyPool(),
            ]
        )
        self.dropout = nn.Dropout(cnn_dropout)
        self.out_dim = (dim // MIN_BINS) * channels
        self.blstm = nn.LSTM(self.out_dim, self.out_dim // 2, num_layers=2, bidirectional=True, batch_first=True)

    def feature_map(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The LCNN's pooled frames [B, T'', E] (T'' = max(T', 16) // 16) and their valid counts
        max(n, 16) // 16 [B]."""
        x, lengths = extend_short(hidden[:, -1:], frame_lengths, MIN_FRAMES)  # [B, 1, max(T', 16), D]
        for layer in self.stack:
            x, lengths = layer(x, lengths)
        x = self.dropout(x)  # [B, C, T'', D // 16]
        return x.transpose(1, 2).flatten(2), lengths

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] -> [B, out_dim]."""
        x, lengths = self.feature_map(hidden, frame_lengths)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        recurrent, _ = pad_packed_sequence(self.blstm(packed)[0], batch_first=True, total_length=x.shape[1])
        return masked_mean(x + recurrent, frame_mask_along(lengths, x, 1), dim=1)
