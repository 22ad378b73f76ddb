"""AASIST: the spectro-temporal graph-attention back-end (Jung et al., ICASSP 2022) on SSL features,
in the form of Tak et al. (Odyssey 2022)."""
from __future__ import annotations

import math
from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter
from masking import frame_mask, masked_softmax
from processors.layer_weights import LayerWeights

# The constants of the paper (Tak et al.'s SSL configuration of AASIST).
PROJECTED_DIM = 128  # Linear(D -> 128) per frame: the height of the 1-channel image
POOL = 3  # the (3, 3) max-pool in front of the encoder
ENCODER_CHANNELS = ((1, 32), (32, 32), (32, 64), (64, 64), (64, 64), (64, 64))
GAT_DIMS = (64, 32)
POOL_RATIO = 0.5  # every graph pooling keeps half of the nodes
GAT_TEMPERATURE = 2.0  # the spectral and the temporal graph attention layers
HETEROGENEOUS_TEMPERATURE = 100.0  # the heterogeneous stacking graph attention layers
GAT_INPUT_DROPOUT = 0.2
GRAPH_POOL_DROPOUT = 0.3
BRANCH_DROPOUT = 0.2
READOUT_DROPOUT = 0.5
MIN_TEMPORAL_NODES = 2  # so that the graphs' BatchNorm sees more than one value even for a batch of one


def node_types(*counts: int, device: torch.device) -> torch.Tensor:
    """Long [sum(counts)]: 0 for the first `counts[0]` nodes, 1 for the next `counts[1]`, ..."""
    return torch.cat([torch.full((count,), i, dtype=torch.long, device=device) for i, count in enumerate(counts)])


class NodeAttention(nn.Module):
    """Attention of query nodes over graph nodes, with one attention vector per edge type.

    query [B, Q, in], nodes [B, N, in], edge_type long [Q, N] -> [B, Q, out]:
    a_qn = softmax_n(w[edge_type_qn] · tanh(W_att (query_q ⊙ node_n)) / temperature),
    output_q = W_with (Σ_n a_qn node_n) + W_without query_q.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, n_edge_types: int = 1) -> None:
        super().__init__()
        self.temperature = temperature
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = nn.Parameter(torch.randn(n_edge_types, out_dim) * math.sqrt(2.0 / (out_dim + 1)))
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)

    def forward(self, query: torch.Tensor, nodes: torch.Tensor, edge_type: torch.Tensor) -> torch.Tensor:
        pairs = torch.tanh(self.att_proj(query.unsqueeze(2) * nodes.unsqueeze(1)))  # [B, Q, N, out]
        scores = (pairs * self.att_weight[edge_type]).sum(dim=-1) / self.temperature
        return self.proj_with_att(scores.softmax(dim=-1) @ nodes) + self.proj_without_att(query)


class GraphAttentionLayer(nn.Module):
    """Graph attention over a fully connected graph, then BatchNorm over the nodes and SELU.

    x [B, N, in], node_type long [N] (values < n_node_types) -> [B, N, out]. The edge between
    nodes of types s and t uses attention vector s + t (for two types: within type 0, across, within type 1).
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, n_node_types: int = 1) -> None:
        super().__init__()
        self.attention = NodeAttention(in_dim, out_dim, temperature, n_edge_types=2 * n_node_types - 1)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor, node_type: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, x, node_type.unsqueeze(1) + node_type.unsqueeze(0))
        return F.selu(self.bn(x.flatten(0, 1)).view_as(x))


class HeterogeneousGraphAttentionLayer(nn.Module):
    """HS-GAL: attention over the union of temporal and spectral nodes, plus a master node.

    (temporal [B, N_T, in], spectral [B, N_S, in], master [B, 1, in])
    -> (temporal [B, N_T, out], spectral [B, N_S, out], master [B, 1, out]).
    Each node type has its own input projection; the master node attends over all nodes.
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj_temporal = nn.Linear(in_dim, in_dim)
        self.proj_spectral = nn.Linear(in_dim, in_dim)
        self.drop = nn.Dropout(GAT_INPUT_DROPOUT)
        self.graph = GraphAttentionLayer(in_dim, out_dim, HETEROGENEOUS_TEMPERATURE, n_node_types=2)
        self.master_attention = NodeAttention(in_dim, out_dim, HETEROGENEOUS_TEMPERATURE)

    def forward(
        self, temporal: torch.Tensor, spectral: torch.Tensor, master: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n_temporal, n_spectral = temporal.shape[1], spectral.shape[1]
        x = self.drop(torch.cat([self.proj_temporal(temporal), self.proj_spectral(spectral)], dim=1))
        master = self.master_attention(master, x, torch.zeros(1, x.shape[1], dtype=torch.long, device=x.device))
        x = self.graph(x, node_types(n_temporal, n_spectral, device=x.device))
        return x[:, :n_temporal], x[:, n_temporal:], master


class GraphPool(nn.Module):
    """h [B, N, D] -> [B, max(⌊N·ratio⌋, 1), D]: the nodes with the highest sigmoid(Linear(h)) scores,
    each scaled by its score (ordered by score)."""

    def __init__(self, dim: int, ratio: float = POOL_RATIO) -> None:
        super().__init__()
        self.ratio = ratio
        self.drop = nn.Dropout(GRAPH_POOL_DROPOUT)
        self.proj = nn.Linear(dim, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.proj(self.drop(h)))  # [B, N, 1]
        keep = max(int(h.shape[1] * self.ratio), 1)
        index = scores.topk(keep, dim=1).indices.expand(-1, -1, h.shape[2])
        return torch.gather(h * scores, 1, index)


class ResidualBlock(nn.Module):
    """Pre-activation residual block of the encoder: [B, C_in, H, W] -> [B, C_out, H, W].

    (BN, SELU — except in the first block), Conv (2, 3), BN, SELU, Conv (2, 3); the shortcut is a
    (1, 3) convolution when the channel count changes. The sizes are kept (Tak et al. drop the
    max-pool of the raw-waveform AASIST).
    """

    def __init__(self, in_channels: int, out_channels: int, first: bool = False) -> None:
        super().__init__()
        self.pre = nn.Identity() if first else nn.Sequential(nn.BatchNorm2d(in_channels), nn.SELU())
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=(2, 3), padding=(1, 1)),
            nn.BatchNorm2d(out_channels),
            nn.SELU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=(2, 3), padding=(0, 1)),
        )
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, kernel_size=(1, 3), padding=(0, 1))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.pre(x)) + self.shortcut(x)


class HeterogeneousBranch(nn.Module):
    """One of the two inference branches: HS-GAL, graph pooling, a second HS-GAL added residually.

    (temporal [B, N_T, 64], spectral [B, N_S, 64]) -> (temporal, spectral, master [B, 1, 32]),
    starting from a learned master node.
    """

    def __init__(self) -> None:
        super().__init__()
        self.master = nn.Parameter(torch.randn(1, 1, GAT_DIMS[0]))
        self.first = HeterogeneousGraphAttentionLayer(GAT_DIMS[0], GAT_DIMS[1])
        self.pool_temporal = GraphPool(GAT_DIMS[1])
        self.pool_spectral = GraphPool(GAT_DIMS[1])
        self.second = HeterogeneousGraphAttentionLayer(GAT_DIMS[1], GAT_DIMS[1])
        self.drop = nn.Dropout(BRANCH_DROPOUT)

    def forward(self, temporal: torch.Tensor, spectral: torch.Tensor) -> tuple[torch.Tensor, ...]:
        master = self.master.expand(temporal.shape[0], -1, -1)
        temporal, spectral, master = self.first(temporal, spectral, master)
        temporal, spectral = self.pool_temporal(temporal), self.pool_spectral(spectral)
        update = self.second(temporal, spectral, master)
        return tuple(self.drop(x + dx) for x, dx in zip((temporal, spectral, master), update))


class AASIST(nn.Module):
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
        self.out_dim = 5 * GAT_DIMS[-1]
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
            nn.SELU(),
            nn.BatchNorm2d(2 * channels),
            nn.Conv2d(2 * channels, channels, kernel_size=1),
        )
        self.spectral_position = nn.Parameter(torch.randn(1, PROJECTED_DIM // POOL, channels))
        self.input_drop = nn.Dropout(GAT_INPUT_DROPOUT)
        self.gat_spectral = GraphAttentionLayer(channels, GAT_DIMS[0], GAT_TEMPERATURE)
        self.gat_temporal = GraphAttentionLayer(channels, GAT_DIMS[0], GAT_TEMPERATURE)
        self.pool_spectral = GraphPool(GAT_DIMS[0])
        self.pool_temporal = GraphPool(GAT_DIMS[0])
        self.branches = nn.ModuleList([HeterogeneousBranch(), HeterogeneousBranch()])
        self.readout_drop = nn.Dropout(READOUT_DROPOUT)

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] -> [B, 160]."""
        n_frames = hidden.shape[2]
        valid = frame_mask(frame_lengths, n_frames)[:, :, None]  # [B, T', 1]
        hidden = torch.where(valid.unsqueeze(1), hidden, 0.0)
        x = hidden[:, -1] if self.layer_mix is None else self.layer_mix(hidden)
        x = torch.where(valid, self.project(x), 0.0)  # [B, T', 128]
        padded = max(math.ceil(n_frames / POOL), MIN_TEMPORAL_NODES) * POOL
        x = F.pad(x.transpose(1, 2), (0, padded - n_frames)).unsqueeze(1)  # [B, 1, 128, T'']
        x = F.selu(self.first_bn(F.max_pool2d(x, POOL)))
        x = F.selu(self.encoder_bn(self.encoder(x)))  # [B, C, 42, T''/3]
        weights = self.attention(x)

        pooled_lengths = torch.div(frame_lengths + POOL - 1, POOL, rounding_mode="floor").clamp(min=1)
        over_time = masked_softmax(weights.movedim(3, 1), frame_mask(pooled_lengths, x.shape[3])).movedim(1, 3)
        spectral = (x * over_time).sum(dim=3).transpose(1, 2) + self.spectral_position  # [B, 42, C]
        temporal = (x * weights.softmax(dim=2)).sum(dim=2).transpose(1, 2)  # [B, T''/3, C]
        spectral = self.pool_spectral(self.graph(self.gat_spectral, spectral))
        temporal = self.pool_temporal(self.graph(self.gat_temporal, temporal))

        temporal, spectral, master = (
            torch.maximum(*pair) for pair in zip(*(branch(temporal, spectral) for branch in self.branches))
        )
        readout = torch.cat(
            [
                temporal.abs().amax(dim=1),
                temporal.mean(dim=1),
                spectral.abs().amax(dim=1),
                spectral.mean(dim=1),
                master.squeeze(1),
            ],
            dim=1,
        )
        return self.readout_drop(readout)

    def graph(self, layer: GraphAttentionLayer, nodes: torch.Tensor) -> torch.Tensor:
        """A homogeneous graph attention layer with input dropout: [B, N, C] -> [B, N, 64]."""
        return layer(self.input_drop(nodes), node_types(nodes.shape[1], device=nodes.device))
