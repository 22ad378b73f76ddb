"""AASIST: the spectro-temporal graph-attention back-end (Jung et al., ICASSP 2022) on SSL features,
in the form of Tak et al. (Odyssey 2022). The layers it shares with the raw-waveform form
(processors/raw_aasist.py) are in processors/aasist_layers.py."""
from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter
from masking import frame_mask, masked_softmax
from processors.aasist_layers import AASISTGraphs, ResidualBlock
from processors.layer_weights import LayerWeights
from processors.selu import SELU, selu

# The constants of the paper (Tak et al.'s SSL configuration of AASIST).
PROJECTED_DIM = 128  # Linear(D -> 128) per frame: the height of the 1-channel image
POOL = 3  # the (3, 3) max-pool in front of the encoder
ENCODER_CHANNELS = ((1, 32), (32, 32), (32, 64), (64, 64), (64, 64), (64, 64))
GAT_DIMS = (64, 32)
POOL_RATIO = 0.5  # every graph pooling keeps half of the nodes
MIN_TEMPORAL_NODES = 2  # so that the graphs' BatchNorm sees more than one value even for a batch of one


class AASIST(AASISTGraphs):
    """AASIST back-end on a layer stack: hidden [B, L, T', D] -> [B, 5 · 32 = 160].

    The input is the last layer of the stack, or with `layer_mix` a learned softmax mix of all
    layers. Each frame is projected to 128 values; the [128 × T'] map, as a 1-channel image, is
    max-pooled (3, 3) (to 42 spectral rows), normalised (BN, SELU) and encoded by six residual
    2-D conv blocks (32, 32, 64, 64, 64, 64 channels). A 1×1-conv attention map weights the sum
    over time (spectral nodes, plus a learned position embedding) and over frequency (temporal
    nodes). Each graph goes through a graph attention layer and a graph pooling; two branches of
    heterogeneous stacking graph attention with a master node follow, and the element-wise max of
    the branches is read out as [max |temporal|, mean temporal, max |spectral|, mean spectral, master].
    Dropout as in the paper (0.2 on graph inputs and branches, 0.3 in graph pooling, 0.5 on the readout).

    Length: padded frames are set to 0 at the input (the stack and, after the projection, the
    128-value frames), so whatever the padding holds it acts as silence; the time axis is padded
    with zeros to a multiple of 3 frames and to at least two pooled frames, so any T' >= 1 works.
    The sum over time that forms the spectral nodes ignores the pooled frames that hold no
    utterance frame. The convolutions, the frequency-wise attention, the temporal graph and the
    BatchNorm statistics do see the zero padding, so the output is not exactly padding invariant
    (like the original, which was trained on fixed 4 s crops): batch utterances of similar length.
    Unlike the reference code, whose first convolution of each residual block reads the block's
    input instead of its pre-activation (leaving that BatchNorm unused), the pre-activation is applied.
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        layer_mix: Annotated[
            bool, HyperParameter("feed AASIST a learned softmax mix of all layers instead of the last layer")
        ] = False,
    ) -> None:
        super().__init__()
        self.layer_mix = LayerWeights(n_layers) if layer_mix else None
        self.project = nn.Linear(dim, PROJECTED_DIM)
        self.first_bn = nn.BatchNorm2d(1)
        self.encoder = nn.Sequential(
            *(ResidualBlock(c_in, c_out, first=i == 0) for i, (c_in, c_out) in enumerate(ENCODER_CHANNELS))
        )
        channels = ENCODER_CHANNELS[-1][1]
        self.encoder_bn = nn.BatchNorm2d(channels)
        self.attention = nn.Sequential(
            nn.Conv2d(channels, 2 * channels, kernel_size=1),
            SELU(),
            nn.BatchNorm2d(2 * channels),
            nn.Conv2d(2 * channels, channels, kernel_size=1),
        )
        self.add_graphs(
            n_spectral=PROJECTED_DIM // POOL,
            node_dim=channels,
            gat_dim=GAT_DIMS[0],
            heterogeneous_dim=GAT_DIMS[1],
            spectral_pool_ratio=POOL_RATIO,
            temporal_pool_ratio=POOL_RATIO,
            heterogeneous_pool_ratio=POOL_RATIO,
        )

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] -> [B, 160]."""
        n_frames = hidden.shape[2]
        valid = frame_mask(frame_lengths, n_frames)[:, :, None]  # [B, T', 1]
        hidden = torch.where(valid.unsqueeze(1), hidden, 0.0)
        x = hidden[:, -1] if self.layer_mix is None else self.layer_mix(hidden)
        x = torch.where(valid, self.project(x), 0.0)  # [B, T', 128]
        padded = max(math.ceil(n_frames / POOL), MIN_TEMPORAL_NODES) * POOL
        x = F.pad(x.transpose(1, 2), (0, padded - n_frames)).unsqueeze(1)  # [B, 1, 128, T'']
        x = selu(self.first_bn(F.max_pool2d(x, POOL)))
        x = selu(self.encoder_bn(self.encoder(x)))  # [B, C, 42, T''/3]
        weights = self.attention(x)

        pooled_lengths = torch.div(frame_lengths + POOL - 1, POOL, rounding_mode="floor").clamp(min=1)
        over_time = masked_softmax(weights.movedim(3, 1), frame_mask(pooled_lengths, x.shape[3])).movedim(1, 3)
        spectral = (x * over_time).sum(dim=3).transpose(1, 2)  # [B, 42, C]
        temporal = (x * weights.softmax(dim=2)).sum(dim=2).transpose(1, 2)  # [B, T''/3, C]
        return self.graphs(spectral, temporal)
