"""The raw-waveform AASIST and AASIST-L after their sinc layer: Jung et al., "AASIST: Audio anti-spoofing
using integrated spectro-temporal graph attention networks", ICASSP 2022 (arXiv 2110.01200); the authors'
code and configurations: github.com/clovaai/aasist, models/AASIST.py, config/AASIST.conf and
config/AASIST-L.conf. The sinc layer (70 fixed mel-spaced band-pass filters of 129 taps) is the
extractor SincAASIST; the output layer (`out_layer`, Linear(160, 2)) is the classifier.

The published counts of the whole models, 297,866 (AASIST) and 85,306 (AASIST-L, the repository's
README), are this processor's parameters plus the 322 of a Linear(160, 2) classifier.
"""
from __future__ import annotations

from typing import Annotated, Mapping

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter, UsageError
from masking import extend_short, frame_mask_along
from processors.aasist_layers import AASISTGraphs, ResidualBlock, zero_outside
from processors.reference_weights import output_layer_in_our_class_order
from processors.selu import selu

POOL = 3  # the (3, 3) max-pool after the sinc layer, and the (1, 3) max-pool over time ending each residual block
N_BLOCKS = 6  # residual blocks: two of early_channels, then four of late_channels
# Frames (samples) below which an utterance is padded with zeros: two temporal nodes after the seven
# max-pools over time, so that the temporal graph's BatchNorm sees two values even for a batch of one.
MIN_FRAMES = 2 * POOL ** (N_BLOCKS + 1)

SIZE = "[1, inf)"
SHARE = "(0, 1]"
EarlyChannels = Annotated[int, HyperParameter("channels of the first two residual blocks of the encoder", interval=SIZE)]
LateChannels = Annotated[
    int, HyperParameter("channels of the last four residual blocks of the encoder (the graph nodes' size)", interval=SIZE)
]
GatDim = Annotated[int, HyperParameter("output size of the spectral and the temporal graph attention layers", interval=SIZE)]
HeterogeneousDim = Annotated[
    int, HyperParameter("output size of the heterogeneous graph attention layers; the output is 5 times this", interval=SIZE)
]
SpectralPoolRatio = Annotated[float, HyperParameter("share of the spectral nodes that their graph pooling keeps", interval=SHARE)]
TemporalPoolRatio = Annotated[float, HyperParameter("share of the temporal nodes that their graph pooling keeps", interval=SHARE)]
HeterogeneousPoolRatio = Annotated[
    float, HyperParameter("share of each node type that the heterogeneous branches' graph poolings keep", interval=SHARE)
]


class RawAASIST(AASISTGraphs):
    """AASIST after its sinc layer: hidden [B, L, T', D] (the last layer is read: D signed band-pass
    outputs per sample) -> [B, 5 · heterogeneous_dim] (160).

    |x|, a (3, 3) max-pool (D // 3 = 23 spectral rows, T' // 3 frames), BN and SELU; six residual
    blocks (early_channels twice, late_channels four times), each ending with a (1, 3) max-pool
    over time; the spectral nodes are the max of |encoder output| over time (plus a learned position
    embedding), the temporal nodes its max over the spectral rows (29 for a 4 s utterance, T' = 64,472).
    Then the graphs of AASISTGraphs: a graph attention layer and a graph pooling for each node type,
    two heterogeneous branches with master nodes, their element-wise max read out.

    As in the reference code, the first convolution of each residual block reads the block's input,
    not its BN-SELU pre-activation: the BatchNorm `encoder.{1..5}.pre.0` is in the parameter count
    and the checkpoints but gets no gradient, and its running statistics are never updated (the
    reference updates them, and never reads them).

    Length: utterances shorter than MIN_FRAMES (4374 frames: 4502 samples, 0.28 s, with the 129-tap
    sinc layer) are padded with zeros to it, as silence, so any T' >= 0 works. Padding frames hold zeros at every convolution's input (so an
    utterance's last frames see the same zeros as the convolutions' own padding), the max-pools keep
    only the frames they take wholly from the utterance, the spectral nodes' max over time and the
    temporal graph see only the utterance's nodes, graph pooling keeps only those, and the readout
    averages over them: in eval mode an utterance's output does not depend on the padding nor on the
    rest of the batch. In training mode the BatchNorm statistics are batch statistics, over the
    padding positions too when the utterances of a batch differ in length (the reference trains on
    fixed 4 s crops).
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        early_channels: EarlyChannels = 32,
        late_channels: LateChannels = 64,
        gat_dim: GatDim = 64,
        heterogeneous_dim: HeterogeneousDim = 32,
        spectral_pool_ratio: SpectralPoolRatio = 0.5,
        temporal_pool_ratio: TemporalPoolRatio = 0.7,
        heterogeneous_pool_ratio: HeterogeneousPoolRatio = 0.5,
    ) -> None:
        super().__init__()
        if dim < POOL:
            raise UsageError(f"{type(self).__name__} needs at least {POOL} features per frame (filters), got {dim}")
        self.first_bn = nn.BatchNorm2d(1)
        channels = [1, early_channels, early_channels] + [late_channels] * (N_BLOCKS - 2)
        self.encoder = nn.Sequential(
            *(
                ResidualBlock(c_in, c_out, first=i == 0, time_pool=POOL, conv_reads_input=True)
                for i, (c_in, c_out) in enumerate(zip(channels, channels[1:]))
            )
        )
        # channels-last weights make the convolutions run channels-last: 1.4x faster on the CPU here
        self.encoder.to(memory_format=torch.channels_last)
        self.add_graphs(
            n_spectral=dim // POOL,
            node_dim=late_channels,
            gat_dim=gat_dim,
            heterogeneous_dim=heterogeneous_dim,
            spectral_pool_ratio=spectral_pool_ratio,
            temporal_pool_ratio=temporal_pool_ratio,
            heterogeneous_pool_ratio=heterogeneous_pool_ratio,
        )

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        """hidden [B, L, T', D], frame_lengths [B] -> [B, out_dim]."""
        ragged = bool((frame_lengths < hidden.shape[2]).any())  # else the encoder has nothing to mask
        x, lengths = extend_short(hidden[:, -1:], frame_lengths, MIN_FRAMES)  # [B, 1, T'', D], T'' >= MIN_FRAMES
        x = F.max_pool2d(x.transpose(2, 3).abs(), POOL)
        lengths = lengths // POOL
        x = selu(self.first_bn(x))
        for block in self.encoder:
            valid = frame_mask_along(lengths, x, 3) if ragged else None
            x = block(zero_outside(x, valid), valid)
            lengths = lengths // POOL
        x = zero_outside(x.abs(), frame_mask_along(lengths, x, 3) if ragged else None)  # [B, C, D // 3, T'' // 3^7]
        spectral = x.amax(dim=3).transpose(1, 2)  # [B, D // 3, C]: padding (0) never above a valid frame
        temporal = x.amax(dim=2).transpose(1, 2)  # [B, T'' // 3^7, C]
        return self.graphs(spectral, temporal, lengths)


class RawAASISTL(RawAASIST):
    """AASIST-L, the light configuration (config/AASIST-L.conf): RawAASIST with 32 and 24 channels,
    graph attention to 24 values, pool ratios 0.4 (spectral), 0.5 (temporal) and 0.7 (heterogeneous)."""

    def __init__(
        self,
        n_layers: int,
        dim: int,
        early_channels: EarlyChannels = 32,
        late_channels: LateChannels = 24,
        gat_dim: GatDim = 24,
        heterogeneous_dim: HeterogeneousDim = 32,
        spectral_pool_ratio: SpectralPoolRatio = 0.4,
        temporal_pool_ratio: TemporalPoolRatio = 0.5,
        heterogeneous_pool_ratio: HeterogeneousPoolRatio = 0.7,
    ) -> None:
        super().__init__(
            n_layers,
            dim,
            early_channels,
            late_channels,
            gat_dim,
            heterogeneous_dim,
            spectral_pool_ratio,
            temporal_pool_ratio,
            heterogeneous_pool_ratio,
        )


# The reference model's state_dict names -> RawAASIST's. Each reference module maps to one of ours and,
# where given, the names inside it to ours; `out_layer` is the classifier's (its rows: 0 spoof, 1 bona fide).
_GRAPH_LAYER = {
    "att_proj": "attention.att_proj",
    "att_weight": "attention.att_weight",
    "proj_with_att": "attention.proj_with_att",
    "proj_without_att": "attention.proj_without_att",
    "bn": "bn",
}
_HETEROGENEOUS_LAYER = {
    "proj_type1": "proj_temporal",
    "proj_type2": "proj_spectral",
    **{name: f"graph.{ours}" for name, ours in _GRAPH_LAYER.items() if name != "att_weight"},
    **{f"att_weight{edge}": "graph.attention.att_weight" for edge in ("11", "12", "22")},
    "att_projM": "master_attention.att_proj",
    "att_weightM": "master_attention.att_weight",
    "proj_with_attM": "master_attention.proj_with_att",
    "proj_without_attM": "master_attention.proj_without_att",
}
_RESIDUAL_BLOCK = {"bn1": "pre.0", "conv1": "body.0", "bn2": "body.1", "conv2": "body.3", "conv_downsample": "shortcut"}
_REFERENCE_MODULES: dict[str, tuple[str, dict[str, str] | None]] = {
    "first_bn": ("first_bn", None),
    **{f"encoder.{i}.0": (f"encoder.{i}", _RESIDUAL_BLOCK) for i in range(N_BLOCKS)},
    "pos_S": ("spectral_position", None),
    "GAT_layer_S": ("gat_spectral", _GRAPH_LAYER),
    "GAT_layer_T": ("gat_temporal", _GRAPH_LAYER),
    "pool_S": ("pool_spectral", None),
    "pool_T": ("pool_temporal", None),
    **{
        name: (f"branches.{branch}.{ours}", inner)
        for branch in (0, 1)
        for name, ours, inner in (
            (f"master{branch + 1}", "master", None),
            (f"HtrgGAT_layer_ST{branch + 1}1", "first", _HETEROGENEOUS_LAYER),
            (f"HtrgGAT_layer_ST{branch + 1}2", "second", _HETEROGENEOUS_LAYER),
            (f"pool_hS{branch + 1}", "pool_spectral", None),
            (f"pool_hT{branch + 1}", "pool_temporal", None),
        )
    },
}
# The heterogeneous layers' attention vectors, stacked by edge type = sum of the node types (temporal 0, spectral 1).
_EDGE_TYPE = {"att_weight11": 0, "att_weight12": 1, "att_weight22": 2}
REFERENCE_OUTPUT_LAYER = "out_layer"


def reference_name(name: str) -> str:
    """RawAASIST's name of the reference's state_dict entry `name` (not of `out_layer`); UsageError if unknown."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        module, inside = ".".join(parts[:end]), parts[end:]
        if module in _REFERENCE_MODULES:
            ours, names = _REFERENCE_MODULES[module]
            if names is None:
                return ".".join([ours, *inside])
            if inside and inside[0] in names:
                return ".".join([ours, names[inside[0]], *inside[1:]])
            break
    raise UsageError(f"{name!r} is not a parameter of the reference AASIST model")


def from_reference_state_dict(
    reference: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A state_dict of the authors' Model (models/weights/AASIST.pth, AASIST-L.pth) -> (RawAASIST's state,
    the state of the Linear classifier's nn.Linear: `out_layer` with its rows in our class order).
    Attention vectors [out, 1] become rows of ours: att_weight and att_weightM the one row,
    att_weight11, 12, 22 rows 0, 1, 2 (edge types)."""
    state: dict[str, torch.Tensor] = {}
    edge_vectors: dict[str, dict[int, torch.Tensor]] = {}
    for name, value in reference.items():
        if name.startswith(f"{REFERENCE_OUTPUT_LAYER}."):
            continue
        ours, leaf = reference_name(name), name.rpartition(".")[2]
        if leaf in _EDGE_TYPE:
            edge_vectors.setdefault(ours, {})[_EDGE_TYPE[leaf]] = value.T
        elif leaf in ("att_weight", "att_weightM"):
            state[ours] = value.T
        else:
            state[ours] = value
    for ours, rows in edge_vectors.items():
        if sorted(rows) != list(_EDGE_TYPE.values()):
            raise UsageError(f"the reference state_dict lacks attention vectors of {ours}")
        state[ours] = torch.cat([rows[edge] for edge in sorted(rows)])
    return state, output_layer_in_our_class_order(reference, f"{REFERENCE_OUTPUT_LAYER}.")
