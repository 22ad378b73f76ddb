"""Nes2Net-X: the nested Res2Net back-end for speech foundation models (Liu, Truong, Das, Lee and Li,
"Nes2Net: A Lightweight Nested Architecture for Foundation Model Driven Speech Anti-spoofing",
IEEE Transactions on Information Forensics and Security 20, 2025; arXiv 2504.05657).

Facts from the paper and the authors' code: github.com/Liu-Tianchi/Nes2Net_ASVspoof_ITW
(model_scripts/wav2vec2_Nes2Net_X.py and the training commands of its README, used for ASVspoof 2021 and
In-the-Wild) and github.com/Liu-Tianchi/Nes2Net (the CtrSVDD version, whose layer aggregations include a
softmax-weighted sum of the layers).
"""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter, UsageError
from masking import masked_mean, masked_softmax, weighted_mean_and_std, zero_padding
from processors.layer_weights import LayerWeights
from processors.masked_batch_norm import MaskedBatchNorm

KERNEL_SIZE = 3  # frames seen by each convolution of a nested block (dilated by `dilation`)
ATTENTION_DIM = 128  # hidden units of the attentive statistics pooling
STD_FLOOR = 1e-10  # the variance floor of the attentive statistics pooling


def time_mean(x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Mean over the valid frames `valid [B, T']` of `x [B, C, T']` (None: every frame): [B, C]."""
    return x.mean(dim=2) if valid is None else masked_mean(x, valid.unsqueeze(1), dim=2)


class SqueezeExcitation(nn.Module):
    """x [B, C, T'] scaled per channel by sigmoid(W₂ ReLU(W₁ m + b₁) + b₂), m = the mean of x over the
    valid frames (`valid [B, T']`, None when all are); W₁: C -> bottleneck."""

    def __init__(self, channels: int, bottleneck: int) -> None:
        super().__init__()
        self.squeeze = nn.Linear(channels, bottleneck)
        self.excite = nn.Linear(bottleneck, channels)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        gates = torch.sigmoid(self.excite(F.relu(self.squeeze(time_mean(x, valid)))))
        return x * gates.unsqueeze(2)


class NestedBlock(nn.Module):
    """A nested layer K of Nes2Net-X, an inner Res2Net block: x [B, C, T'] -> [B, C, T'].

    A 1×1 convolution (C -> s·w channels, w = ⌊C / s⌋), ReLU and BN give s parts of w channels. The
    last part starts a stack of feature maps; step j = 1 … s−1 appends part j to the stack, passes every
    map of the stack through the same dilated convolution (kernel 3 over time), ReLU and BN, and emits the
    learned weighted sum of the stack's maps (j + 1 weights, initialised equal). The s−1 sums and the last
    part are concatenated, fused by a 1×1 convolution (s·w -> C), ReLU, BN and squeeze-excitation, and
    added to x. `valid [B, T']` marks the valid frames (None when all are); padding frames are 0 in x
    and in every BatchNorm's output, so every convolution over time sees zeros there.
    """

    def __init__(self, channels: int, scale: int, dilation: int, se_bottleneck: int) -> None:
        super().__init__()
        self.width = channels // scale
        self.expand = nn.Conv1d(channels, self.width * scale, kernel_size=1)
        self.expand_norm = MaskedBatchNorm(self.width * scale)
        self.step_convs = nn.ModuleList(
            nn.Conv2d(
                self.width,
                self.width,
                kernel_size=(KERNEL_SIZE, 1),
                dilation=(dilation, 1),
                padding=(KERNEL_SIZE // 2 * dilation, 0),
            )
            for _ in range(scale - 1)
        )
        self.step_norms = nn.ModuleList(MaskedBatchNorm(self.width) for _ in range(scale - 1))
        self.step_weights = nn.ParameterList(
            nn.Parameter(torch.full((maps,), 1.0 / maps)) for maps in range(2, scale + 1)
        )
        self.fuse = nn.Conv1d(self.width * scale, channels, kernel_size=1)
        self.fuse_norm = MaskedBatchNorm(channels)
        self.excitation = SqueezeExcitation(channels, se_bottleneck)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        parts = self.expand_norm(F.relu(self.expand(x)), valid).split(self.width, dim=1)
        stack = parts[-1].unsqueeze(3)  # [B, w, T', maps]
        sums = []
        for part, conv, norm, weights in zip(parts, self.step_convs, self.step_norms, self.step_weights):
            stack = torch.cat([stack, part.unsqueeze(3)], dim=3)
            stack = norm(F.relu(conv(stack)), valid)
            sums.append(stack @ weights.to(stack.dtype))
        fused = self.fuse_norm(F.relu(self.fuse(torch.cat([*sums, parts[-1]], dim=1))), valid)
        return self.excitation(fused, valid) + x


class Nes2NetX(nn.Module):
    """Nes2Net-X back-end on a layer stack: hidden [B, L, T', D] -> [B, D] (mean pooling) or [B, 2D]
    (attentive statistics pooling).

    The input is the last layer of the stack (the paper's XLSR systems), or with `layer_mix` a learned
    softmax mix of all layers. There is no dimension reduction: the D channels are split into s₁ groups of
    C = D / s₁. Group 1 goes through nested block K₁; group i = 2 … s₁−1 is added to the previous output and
    goes through K_i; each output passes ReLU and BN. The outputs and the untouched last group are
    concatenated back to D channels, normalised (BN, ReLU) and pooled over the valid frames. The published
    model (s₁ = s₂ = 8, SE ratio 1, dilation 2, mean pooling, D = 1024) has 509,989 parameters, 512,039
    with its Linear(1024, 2) output layer (the repository's README states 511k for the back-end).

    Padding: the padding frames of the stack are set to 0 and every BatchNorm sets them to 0 again, so
    every convolution over time sees zeros beyond each utterance (as the zero padding of an unpadded
    utterance would give); the squeeze-excitation means, the BatchNorm training statistics and the
    pooling use the valid frames only. In eval mode an utterance's output therefore depends neither on
    its padding nor on the rest of the batch; in training mode it depends on the batch through the
    BatchNorm statistics only, not on the padding. Any T' >= 1 works.

    Departures from the reference code, which has no masks (it was trained and tested on fixed 4 s crops
    or one utterance at a time): the masking above, which leaves a batch without padding unchanged;
    BatchNorm in training mode accepts a single value per channel; `layer_mix` (off by default) is the
    weighted-sum layer aggregation of the authors' CtrSVDD code.
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        outer_scale: Annotated[
            int,
            HyperParameter("s1: groups the D input channels are split into (must divide D; Nes_ratio[0])", interval="[1, inf)"),
        ] = 8,
        inner_scale: Annotated[
            int, HyperParameter("s2: parts each nested block splits its D/s1 channels into (Nes_ratio[1])", interval="[1, inf)")
        ] = 8,
        se_ratio: Annotated[
            int, HyperParameter("squeeze-excitation reduction: its bottleneck is (D/s1) / se_ratio units", interval="[1, inf)")
        ] = 1,
        dilation: Annotated[
            int, HyperParameter("dilation of the nested blocks' convolutions over time", unit="frames", interval="[1, inf)")
        ] = 2,
        pooling: Annotated[
            str,
            HyperParameter("pooling over time: mean, or attentive statistics (ASTP: weighted mean and std)", choices=("mean", "ASTP")),
        ] = "mean",
        layer_mix: Annotated[
            bool, HyperParameter("feed Nes2Net-X a learned softmax mix of all layers instead of the last layer")
        ] = False,
    ) -> None:
        super().__init__()
        if dim % outer_scale:
            raise UsageError(f"--outer_scale {outer_scale} must divide the feature size {dim} of the front-end")
        group = dim // outer_scale
        if inner_scale > group:
            raise UsageError(f"--inner_scale {inner_scale} exceeds the {group} channels of a group (D / --outer_scale)")
        if se_ratio > group:
            raise UsageError(f"--se_ratio {se_ratio} exceeds the {group} channels of a group (D / --outer_scale)")
        self.group = group
        self.layer_mix = LayerWeights(n_layers) if layer_mix else None
        self.nested_blocks = nn.ModuleList(
            NestedBlock(group, inner_scale, dilation, group // se_ratio) for _ in range(outer_scale - 1)
        )
        self.nested_norms = nn.ModuleList(MaskedBatchNorm(group) for _ in range(outer_scale - 1))
        self.output_norm = MaskedBatchNorm(dim)
        self.attention = (
            nn.Sequential(nn.Linear(dim, ATTENTION_DIM), nn.Tanh(), nn.Linear(ATTENTION_DIM, dim)) if pooling == "ASTP" else None
        )
        self.out_dim = dim if self.attention is None else 2 * dim

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] (>= 1) -> [B, out_dim]."""
        x, valid = zero_padding(hidden[:, -1:] if self.layer_mix is None else hidden, frame_lengths)
        x = (x[:, 0] if self.layer_mix is None else self.layer_mix(x)).transpose(1, 2)  # [B, D, T']
        masked = None if bool(valid.all()) else valid  # no masking work for batches without padding
        groups = x.split(self.group, dim=1)
        outputs = []
        for group, block, norm in zip(groups, self.nested_blocks, self.nested_norms):
            inputs = group if not outputs else group + outputs[-1]
            outputs.append(norm(F.relu(block(inputs, masked)), masked))
        x = F.relu(self.output_norm(torch.cat([*outputs, groups[-1]], dim=1), masked))
        if self.attention is None:
            return time_mean(x, masked)
        frames = x.transpose(1, 2)  # [B, T', D]
        mean, std = weighted_mean_and_std(frames, masked_softmax(self.attention(frames), valid), eps=STD_FLOOR)
        return torch.cat([mean, std], dim=1)
