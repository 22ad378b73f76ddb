"""RawNet2 after its sinc layer: Tak et al., "End-to-end anti-spoofing with RawNet2", ICASSP 2021
(arXiv 2011.01108), in the configuration of the ASVspoof 2021 raw-waveform baseline
(github.com/asvspoof-challenge/2021, LA/Baseline-RawNet2: model.py and model_config_RawNet.yaml; the
ICASSP 2021 code and configuration: github.com/TakHemlata/rawnet2-antispoofing)."""
from __future__ import annotations

import re
from typing import Annotated, Mapping

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter
from masking import extend_short, frame_mask, frame_mask_along, masked_mean
from processors.masked_batch_norm import MaskedBatchNorm
from processors.reference_weights import output_layer_in_our_class_order
from processors.selu import selu

MAX_POOL = 3  # every max-pool of the model: after the sinc layer and at the end of each residual block
LEAKY_RELU_SLOPE = 0.3  # inside the residual blocks
# The authors' state_dict names -> this module's (fc2_gru, the output layer, is the classifier's).
REFERENCE_NAMES = (
    (r"block(\d+)\.0\.bn1\.", r"blocks.\1.pre_bn."),
    (r"block(\d+)\.0\.bn2\.", r"blocks.\1.mid_bn."),
    (r"block(\d+)\.0\.conv_downsample\.", r"blocks.\1.shortcut."),
    (r"block(\d+)\.0\.", r"blocks.\1."),
    (r"fc_attention(\d+)\.0\.", r"blocks.\1.fms."),
    (r"bn_before_gru\.", "gru_bn."),
    (r"fc1_gru\.", "embedding."),
)
REFERENCE_OUTPUT_LAYER = "fc2_gru."


def model_size(description: str) -> HyperParameter:
    """The declaration of a model size (a positive count)."""
    return HyperParameter(description, interval="[1, inf)")


class ResidualBlock(nn.Module):
    """x [B, C_in, T], lengths [B] -> (x [B, C_out, T // 3], lengths // 3).

    Conv(3), BN, LeakyReLU(0.3), Conv(3), plus the input (through a 1×1 convolution when the channel
    count changes), max-pool(3), then filter-wise feature map scaling (FMS): with s = sigmoid(Linear(mean
    of each channel over the valid frames)), x · s + s. Every block but the first holds the BN of a
    pre-activation (`pre_bn`, then LeakyReLU) that the reference code computes and discards, so it is
    applied only with `pre_activation`. Padding frames are set to 0 in front of each convolution, so an
    utterance's edge frames see the same zeros as the convolution's own padding.
    """

    def __init__(self, in_channels: int, out_channels: int, first: bool, pre_activation: bool) -> None:
        super().__init__()
        self.pre_activation = pre_activation
        self.pre_bn = None if first else MaskedBatchNorm(in_channels).requires_grad_(pre_activation)
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size=3, padding=1)
        self.mid_bn = MaskedBatchNorm(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size=3, padding=1)
        self.shortcut = nn.Identity() if in_channels == out_channels else nn.Conv1d(in_channels, out_channels, kernel_size=1)
        self.fms = nn.Linear(out_channels, out_channels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        valid = frame_mask(lengths, x.shape[2])
        x = torch.where(valid.unsqueeze(1), x, 0.0)
        body = x
        if self.pre_activation and self.pre_bn is not None:
            body = F.leaky_relu(self.pre_bn(x, valid), LEAKY_RELU_SLOPE)
        body = F.leaky_relu(self.mid_bn(self.conv1(body), valid), LEAKY_RELU_SLOPE)
        x = F.max_pool1d(self.conv2(body) + self.shortcut(x), MAX_POOL)
        lengths = lengths // MAX_POOL
        scale = torch.sigmoid(self.fms(masked_mean(x, frame_mask_along(lengths, x, 2), dim=2))).unsqueeze(2)
        return x * scale + scale, lengths


class RawNet2(nn.Module):
    """RawNet2 on sinc filter outputs: hidden [B, L, T', D] -> [B, embedding_dim].

    The input is the last layer of the stack (the only one of the sinc front-end): D signed band-pass
    outputs per sample. |x|, max-pool(3), BN, SELU; residual blocks with FMS (see ResidualBlock),
    `first_stage_blocks` of `first_stage_channels` then `second_stage_blocks` of
    `second_stage_channels`; BN, SELU; a `gru_layers`-layer GRU of `gru_size` units whose output at
    the last frame feeds the fully connected layer fc1_gru (gru_size -> embedding_dim). The model's
    last layer, fc2_gru (embedding_dim -> 2, no activation in between), is the classifier's.
    Defaults: the ASVspoof 2021 baseline (20 sinc filters, filts [20, [20, 20], [20, 128], [128, 128]],
    GRU 1024 × 3, fc 1024); `from_reference_state_dict` converts its published weights.

    Length: each max-pool keeps whole windows of 3 valid frames (lengths // 3 after each), the FMS
    means run over the valid frames, padding is set to 0 in front of every convolution and the GRU's
    output is read at each utterance's last valid step (being unidirectional, it has then read that
    utterance's valid steps only). The BatchNorm batch statistics in training mode are taken over the
    valid frames. The output of a batch thus never depends on its padding (content or amount); in
    eval mode an utterance alone gives what it gives inside any batch. In training mode BatchNorm
    still makes each output depend on the batch's other utterances. An utterance needs min_frames =
    3^(1 + first_stage_blocks + second_stage_blocks) frames for one GRU step (2187 at the defaults:
    3211 samples, 0.2 s, with the 1025-tap sinc layer); a shorter one is extended with zero frames
    (silence) to min_frames.

    Departures from the reference code, whose data loader makes every utterance 64600 samples (cropped,
    or repeated when shorter): the length handling above, which gives its results on unpadded input;
    and the unused pre-activation BNs (pre_activation off) are skipped, so unlike the reference their
    running statistics are not updated in training (no output depends on them).
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        first_stage_channels: Annotated[int, model_size("channels of the first stage's residual blocks (filts[1])")] = 20,
        second_stage_channels: Annotated[int, model_size("channels of the second stage's residual blocks (filts[2])")] = 128,
        first_stage_blocks: Annotated[int, model_size("residual blocks of the first stage")] = 2,
        second_stage_blocks: Annotated[int, model_size("residual blocks of the second stage")] = 4,
        gru_size: Annotated[int, model_size("hidden units of each GRU layer (gru_node)")] = 1024,
        gru_layers: Annotated[int, model_size("stacked GRU layers (nb_gru_layer)")] = 3,
        embedding_dim: Annotated[
            int, model_size("outputs of fc1_gru, the linear layer after the GRU (nb_fc_node; the processor's E)")
        ] = 1024,
        pre_activation: Annotated[
            bool,
            HyperParameter(
                "apply BN + LeakyReLU in front of the first convolution of every residual block but the first "
                "(the paper's pre-activation; the reference code computes it and discards it)"
            ),
        ] = False,
    ) -> None:
        super().__init__()
        self.out_dim = embedding_dim
        self.min_frames = MAX_POOL ** (1 + first_stage_blocks + second_stage_blocks)
        self.first_bn = MaskedBatchNorm(dim)
        stages = [(first_stage_channels, first_stage_blocks), (second_stage_channels, second_stage_blocks)]
        block_channels = [channels for channels, blocks in stages for _ in range(blocks)]
        self.blocks = nn.ModuleList(
            ResidualBlock(in_channels, out_channels, first=i == 0, pre_activation=pre_activation)
            for i, (in_channels, out_channels) in enumerate(zip([dim, *block_channels], block_channels))
        )
        self.gru_bn = MaskedBatchNorm(second_stage_channels)
        self.gru = nn.GRU(second_stage_channels, gru_size, num_layers=gru_layers, batch_first=True)
        self.embedding = nn.Linear(gru_size, embedding_dim)

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] -> [B, embedding_dim]."""
        x, lengths = extend_short(hidden[:, -1:], frame_lengths, self.min_frames)
        x = F.max_pool1d(x[:, 0].transpose(1, 2).abs(), MAX_POOL)  # [B, D, ≥ T' // 3]
        lengths = lengths // MAX_POOL
        x = selu(self.first_bn(x, frame_mask(lengths, x.shape[2])))
        for block in self.blocks:
            x, lengths = block(x, lengths)
        x = selu(self.gru_bn(x, frame_mask(lengths, x.shape[2])))
        steps, _ = self.gru(x.transpose(1, 2))  # [B, T'', gru_size]
        last_steps = steps[torch.arange(steps.shape[0], device=steps.device), lengths - 1]
        return self.embedding(last_steps)


def from_reference_state_dict(
    state_dict: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The state_dict of the authors' RawNet (model.py of either repository) -> (the state_dict of a
    RawNet2 of the same sizes, the state_dict of the nn.Linear output layer: fc2_gru with its rows in
    this project's class order, BONAFIDE first). Their SincConv holds no state."""
    processor = {}
    for name, tensor in state_dict.items():
        if name.startswith(REFERENCE_OUTPUT_LAYER):
            continue
        for pattern, replacement in REFERENCE_NAMES:
            name, found = re.subn(f"^{pattern}", replacement, name)
            if found:
                break
        processor[name] = tensor
    return processor, output_layer_in_our_class_order(state_dict, REFERENCE_OUTPUT_LAYER)
