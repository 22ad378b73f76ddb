"""The layers shared by both AASIST back-ends (Jung et al., "AASIST: Audio anti-spoofing using integrated
spectro-temporal graph attention networks", ICASSP 2022, arXiv 2110.01200; github.com/clovaai/aasist,
models/AASIST.py): the residual block of the 2-D encoder, graph attention, graph pooling, the
heterogeneous stacking graph attention branches with their master nodes, and the readout.

The SSL form (processors/aasist.py, Tak et al. 2022) and the raw-waveform form (processors/raw_aasist.py)
differ in the encoder and in how the spectral and temporal nodes are formed; `AASISTGraphs` holds the
rest. Temporal nodes may come with `temporal_counts [B]`, the number of valid nodes of each utterance
(the first ones; the others are padding): padding nodes are then never attended to, never kept by a
graph pooling in place of a valid node, and left out of the readout.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from masking import frame_mask, frame_mask_along, masked_mean
from processors.selu import SELU, selu

GAT_TEMPERATURE = 2.0  # the spectral and the temporal graph attention layers
HETEROGENEOUS_TEMPERATURE = 100.0  # the heterogeneous stacking graph attention layers
GAT_INPUT_DROPOUT = 0.2
GRAPH_POOL_DROPOUT = 0.3
BRANCH_DROPOUT = 0.2
READOUT_DROPOUT = 0.5


def node_types(*counts: int, device: torch.device) -> torch.Tensor:
    """Long [sum(counts)]: 0 for the first `counts[0]` nodes, 1 for the next `counts[1]`, ..."""
    return torch.cat([torch.full((count,), i, dtype=torch.long, device=device) for i, count in enumerate(counts)])


def kept_nodes(counts: torch.Tensor, ratio: float) -> torch.Tensor:
    """max(⌊counts · ratio⌋, 1) for long `counts [B]`, in float64 like the reference's Python int(n * k)."""
    return (counts.double() * ratio).floor().long().clamp(min=1)


def zero_outside(x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """x with 0 where `valid` (broadcastable to x) is False; x itself when `valid` is None."""
    return x if valid is None else torch.where(valid, x, 0.0)


class NodeAttention(nn.Module):
    """Attention of query nodes over graph nodes, with one attention vector per edge type.

    query [B, Q, in], nodes [B, N, in], edge_type long [Q, N], optional valid_nodes bool [B, N]
    -> [B, Q, out]: a_qn = softmax_n(w[edge_type_qn] · tanh(W_att (query_q ⊙ node_n)) / temperature)
    over the valid nodes, output_q = W_with (Σ_n a_qn node_n) + W_without query_q.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, n_edge_types: int = 1) -> None:
        super().__init__()
        self.temperature = temperature
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = nn.Parameter(torch.randn(n_edge_types, out_dim) * math.sqrt(2.0 / (out_dim + 1)))
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)

    def forward(
        self, query: torch.Tensor, nodes: torch.Tensor, edge_type: torch.Tensor, valid_nodes: torch.Tensor | None = None
    ) -> torch.Tensor:
        pairs = torch.tanh(self.att_proj(query.unsqueeze(2) * nodes.unsqueeze(1)))  # [B, Q, N, out]
        scores = (pairs * self.att_weight[edge_type]).sum(dim=-1) / self.temperature
        if valid_nodes is not None:
            scores = scores.masked_fill(~valid_nodes.unsqueeze(1), -torch.inf)
        return self.proj_with_att(scores.softmax(dim=-1) @ nodes) + self.proj_without_att(query)


class GraphAttentionLayer(nn.Module):
    """Graph attention over a fully connected graph, then BatchNorm over the nodes and SELU.

    x [B, N, in], node_type long [N] (values < n_node_types), optional valid_nodes bool [B, N]
    -> [B, N, out]. The edge between nodes of types s and t uses attention vector s + t (for two
    types: within type 0, across, within type 1). In training mode the BatchNorm statistics are taken
    over all nodes, padding nodes included.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, n_node_types: int = 1) -> None:
        super().__init__()
        self.attention = NodeAttention(in_dim, out_dim, temperature, n_edge_types=2 * n_node_types - 1)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor, node_type: torch.Tensor, valid_nodes: torch.Tensor | None = None) -> torch.Tensor:
        x = self.attention(x, x, node_type.unsqueeze(1) + node_type.unsqueeze(0), valid_nodes)
        return selu(self.bn(x.flatten(0, 1)).view_as(x))


class HeterogeneousGraphAttentionLayer(nn.Module):
    """HS-GAL: attention over the union of temporal and spectral nodes, plus a master node.

    (temporal [B, N_T, in], spectral [B, N_S, in], master [B, 1, in], optional temporal_counts [B])
    -> (temporal [B, N_T, out], spectral [B, N_S, out], master [B, 1, out]).
    Each node type has its own input projection; the master node attends over all valid nodes.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float = HETEROGENEOUS_TEMPERATURE) -> None:
        super().__init__()
        self.proj_temporal = nn.Linear(in_dim, in_dim)
        self.proj_spectral = nn.Linear(in_dim, in_dim)
        self.drop = nn.Dropout(GAT_INPUT_DROPOUT)
        self.graph = GraphAttentionLayer(in_dim, out_dim, temperature, n_node_types=2)
        self.master_attention = NodeAttention(in_dim, out_dim, temperature)

    def forward(
        self,
        temporal: torch.Tensor,
        spectral: torch.Tensor,
        master: torch.Tensor,
        temporal_counts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n_temporal, n_spectral = temporal.shape[1], spectral.shape[1]
        x = self.drop(torch.cat([self.proj_temporal(temporal), self.proj_spectral(spectral)], dim=1))
        valid = None
        if temporal_counts is not None:
            valid = F.pad(frame_mask(temporal_counts, n_temporal), (0, n_spectral), value=True)  # [B, N_T + N_S]
        all_nodes = torch.zeros(1, x.shape[1], dtype=torch.long, device=x.device)
        master = self.master_attention(master, x, all_nodes, valid)
        x = self.graph(x, node_types(n_temporal, n_spectral, device=x.device), valid)
        return x[:, :n_temporal], x[:, n_temporal:], master


class GraphPool(nn.Module):
    """h [B, N, D], optional counts [B] (valid nodes, the first ones) -> (h' [B, max(⌊N·ratio⌋, 1), D],
    counts' [B] = max(⌊counts·ratio⌋, 1), or None without counts): the nodes with the highest
    sigmoid(Linear(h)) scores, each scaled by its score, ordered by score; valid nodes rank first."""

    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        self.ratio = ratio
        self.drop = nn.Dropout(GRAPH_POOL_DROPOUT)
        self.proj = nn.Linear(dim, 1)

    def forward(self, h: torch.Tensor, counts: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        scores = torch.sigmoid(self.proj(self.drop(h)))  # [B, N, 1]
        ranking = scores
        if counts is not None:
            ranking = scores.masked_fill(~frame_mask(counts, h.shape[1]).unsqueeze(2), -torch.inf)
            counts = kept_nodes(counts, self.ratio)
        keep = max(int(h.shape[1] * self.ratio), 1)
        index = ranking.topk(keep, dim=1).indices.expand(-1, -1, h.shape[2])
        return torch.gather(h * scores, 1, index), counts


class ResidualBlock(nn.Module):
    """Pre-activation residual block of the encoder: [B, C_in, H, W] -> [B, C_out, H, W // time_pool].

    (BN, SELU — except in the first block), Conv (2, 3), BN, SELU, Conv (2, 3); the shortcut is a
    (1, 3) convolution when the channel count changes; then a (1, time_pool) max-pool over time (the
    raw-waveform AASIST pools by 3; the SSL form keeps the size, time_pool 1).

    With `conv_reads_input` the first convolution reads the block's input instead of its
    pre-activation, as the reference code of the raw-waveform AASIST does: the pre-activation's
    BatchNorm is then kept (its parameters are in the published count and checkpoints) but unused.

    `valid` (bool, broadcastable to [B, 1, 1, W]) marks the frames inside the utterance: the
    convolutions' inputs are zero outside them, as the convolutions' own zero padding, so the valid
    outputs do not depend on what lies beyond (the block's input must be zero there already).
    """

    def __init__(
        self, in_channels: int, out_channels: int, first: bool = False, time_pool: int = 1, conv_reads_input: bool = False
    ) -> None:
        super().__init__()
        self.conv_reads_input = conv_reads_input
        self.pre = nn.Identity() if first else nn.Sequential(nn.BatchNorm2d(in_channels), SELU())
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=(2, 3), padding=(1, 1)),
            nn.BatchNorm2d(out_channels),
            SELU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=(2, 3), padding=(0, 1)),
        )
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, kernel_size=(1, 3), padding=(0, 1))
        )
        self.pool = nn.MaxPool2d((1, time_pool)) if time_pool > 1 else nn.Identity()
        if conv_reads_input:  # the unused BatchNorm is not trained (nor does DDP wait for its gradient)
            self.pre.requires_grad_(False)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        first_conv, bn, activation, second_conv = self.body
        conv_input = x if self.conv_reads_input else zero_outside(self.pre(x), valid)
        hidden = zero_outside(activation(bn(first_conv(conv_input))), valid)
        return self.pool(second_conv(hidden) + self.shortcut(x))


class HeterogeneousBranch(nn.Module):
    """One of the two inference branches: HS-GAL, graph pooling, a second HS-GAL added residually.

    (temporal [B, N_T, in], spectral [B, N_S, in], optional temporal_counts [B])
    -> (temporal, spectral, master [B, 1, out], temporal_counts), starting from a learned master node.
    """

    def __init__(self, in_dim: int, out_dim: int, pool_ratio: float) -> None:
        super().__init__()
        self.master = nn.Parameter(torch.randn(1, 1, in_dim))
        self.first = HeterogeneousGraphAttentionLayer(in_dim, out_dim)
        self.pool_temporal = GraphPool(out_dim, pool_ratio)
        self.pool_spectral = GraphPool(out_dim, pool_ratio)
        self.second = HeterogeneousGraphAttentionLayer(out_dim, out_dim)
        self.drop = nn.Dropout(BRANCH_DROPOUT)

    def forward(
        self, temporal: torch.Tensor, spectral: torch.Tensor, temporal_counts: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        master = self.master.expand(temporal.shape[0], -1, -1)
        temporal, spectral, master = self.first(temporal, spectral, master, temporal_counts)
        temporal, temporal_counts = self.pool_temporal(temporal, temporal_counts)
        spectral, _ = self.pool_spectral(spectral)
        update = self.second(temporal, spectral, master, temporal_counts)
        temporal, spectral, master = (self.drop(x + dx) for x, dx in zip((temporal, spectral, master), update))
        return temporal, spectral, master, temporal_counts


def node_summary(nodes: torch.Tensor, counts: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(max |node|, mean node) over the nodes of `nodes [B, N, D]`, or over the first `counts [B]`; both [B, D]."""
    if counts is None:
        return nodes.abs().amax(dim=1), nodes.mean(dim=1)
    valid = frame_mask_along(counts, nodes, 1)
    return zero_outside(nodes, valid).abs().amax(dim=1), masked_mean(nodes, valid, dim=1)


class AASISTGraphs(nn.Module):
    """Base of both AASIST forms: from spectral and temporal nodes to the readout.

    `add_graphs` (called at the end of the subclass's constructor) adds the learned position of the
    spectral nodes, a graph attention layer and a graph pooling for each node type and the two
    heterogeneous branches; `graphs` runs them: spectral [B, N_S, C], temporal [B, N_T, C] ->
    [B, 5 · heterogeneous_dim] = [max |temporal|, mean temporal, max |spectral|, mean spectral, master]
    of the element-wise max of the two branches. Dropout as in the paper (0.2 on graph inputs and
    branches, 0.3 in graph pooling, 0.5 on the readout).
    """

    out_dim: int

    def add_graphs(
        self,
        n_spectral: int,
        node_dim: int,
        gat_dim: int,
        heterogeneous_dim: int,
        spectral_pool_ratio: float,
        temporal_pool_ratio: float,
        heterogeneous_pool_ratio: float,
    ) -> None:
        """Nodes of `node_dim` values -> graph attention to `gat_dim` -> heterogeneous layers to `heterogeneous_dim`."""
        self.out_dim = 5 * heterogeneous_dim
        self.spectral_position = nn.Parameter(torch.randn(1, n_spectral, node_dim))
        self.input_drop = nn.Dropout(GAT_INPUT_DROPOUT)
        self.gat_spectral = GraphAttentionLayer(node_dim, gat_dim, GAT_TEMPERATURE)
        self.gat_temporal = GraphAttentionLayer(node_dim, gat_dim, GAT_TEMPERATURE)
        self.pool_spectral = GraphPool(gat_dim, spectral_pool_ratio)
        self.pool_temporal = GraphPool(gat_dim, temporal_pool_ratio)
        self.branches = nn.ModuleList(
            [HeterogeneousBranch(gat_dim, heterogeneous_dim, heterogeneous_pool_ratio) for _ in range(2)]
        )
        self.readout_drop = nn.Dropout(READOUT_DROPOUT)

    def graphs(
        self, spectral: torch.Tensor, temporal: torch.Tensor, temporal_counts: torch.Tensor | None = None
    ) -> torch.Tensor:
        """spectral [B, N_S, C], temporal [B, N_T, C], optional temporal_counts [B] -> [B, out_dim]."""
        spectral = self.input_drop(spectral + self.spectral_position)
        spectral = self.gat_spectral(spectral, node_types(spectral.shape[1], device=spectral.device))
        spectral, _ = self.pool_spectral(spectral)
        valid = None if temporal_counts is None else frame_mask(temporal_counts, temporal.shape[1])
        temporal = self.gat_temporal(self.input_drop(temporal), node_types(temporal.shape[1], device=temporal.device), valid)
        temporal, temporal_counts = self.pool_temporal(temporal, temporal_counts)

        first, second = (branch(temporal, spectral, temporal_counts) for branch in self.branches)
        temporal, spectral, master = (torch.maximum(a, b) for a, b in zip(first[:3], second[:3]))
        temporal_counts = first[3]  # the same in both branches
        readout = torch.cat(
            [*node_summary(temporal, temporal_counts), *node_summary(spectral), master.squeeze(1)], dim=1
        )
        return self.readout_drop(readout)
