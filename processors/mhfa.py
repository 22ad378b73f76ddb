"""Multi-head factorized attentive pooling: MHFA (Peng et al., SLT 2022, arXiv 2210.01273) and its
context-aware variant CA-MHFA (Peng et al., ICASSP 2025, arXiv 2409.15234)."""
from __future__ import annotations

from typing import Annotated, Optional

import torch
from torch import nn

from conventions import HyperParameter, UsageError
from masking import masked_softmax, zero_padding
from processors.layer_weights import LayerWeights

CompressionDim = Annotated[int, HyperParameter("size C of the compressed keys and values (D -> C)", interval="[1, inf)")]
EmbeddingDim = Annotated[int, HyperParameter("size of the output embedding (the processor's E)", interval="[1, inf)")]


def default_head_nb(n_layers: int) -> int:
    """MHFA's derived number of heads: round(4/3 · n_layers), at least 1 (17 for 13 layers)."""
    return max(1, round(4 * n_layers / 3))


class _FactorizedAttentivePooling(nn.Module):
    """hidden [B, L, T', D] -> [B, embedding_dim].

    Keys and values are separate LayerWeights mixes of the layers, each compressed D -> C by its
    own matrix (no bias: a key bias would only shift every frame's logit). `attention_logits`
    gives `n_maps` logits per frame; each map, softmax-normalised over the valid frames, pools the
    compressed values; the n_maps pooled vectors [B, n_maps·C] are projected to the embedding.
    """

    def __init__(self, n_layers: int, dim: int, compression_dim: int, n_maps: int, embedding_dim: int) -> None:
        super().__init__()
        self.key_weights = LayerWeights(n_layers)
        self.value_weights = LayerWeights(n_layers)
        self.compress_keys = nn.Linear(dim, compression_dim, bias=False)
        self.compress_values = nn.Linear(dim, compression_dim, bias=False)
        self.project = nn.Linear(n_maps * compression_dim, embedding_dim)
        self.out_dim = embedding_dim

    def attention_logits(self, keys: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Logits [B, T', n_maps] from the compressed keys [B, T', C]; `valid [B, T']` marks real frames."""
        raise NotImplementedError

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        hidden, valid = zero_padding(hidden, frame_lengths)
        keys = self.compress_keys(self.key_weights(hidden))
        values = self.compress_values(self.value_weights(hidden))
        weights = masked_softmax(self.attention_logits(keys, valid), valid)
        pooled = torch.einsum("bth,btc->bhc", weights, values)
        return self.project(pooled.flatten(1))


class MHFA(_FactorizedAttentivePooling):
    """MHFA: head h has a learnable query q_h; its logit at frame t is q_hᵀ k_t. hidden [B, L, T', D] -> [B, embedding_dim]."""

    def __init__(
        self,
        n_layers: int,
        dim: int,
        compression_dim: CompressionDim = 128,
        head_nb: Annotated[Optional[int], HyperParameter("attention heads (derived: round(4/3 · layers))", interval="[1, inf)")] = None,
        embedding_dim: EmbeddingDim = 256,
    ) -> None:
        head_nb = default_head_nb(n_layers) if head_nb is None else head_nb
        super().__init__(n_layers, dim, compression_dim, head_nb, embedding_dim)
        self.head_nb = head_nb
        self.queries = nn.Linear(compression_dim, head_nb, bias=False)

    def attention_logits(self, keys: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """q_hᵀ k_t for every head: [B, T', C] -> [B, T', head_nb]."""
        return self.queries(keys)


class ContextAwareMHFA(_FactorizedAttentivePooling):
    """CA-MHFA: MHFA whose attention logits look at a local context of frames.

    The queries form `group_nb` groups of `context` queries each (head_nb = group_nb · context
    queries in all); query j of group g faces the key `j − context//2` frames away, and the
    group's logit at frame t is Σ_j q_{g,j}ᵀ k_{t+j−context//2}, keys beyond the utterance being 0.
    Each group gives one attention map over the shared keys and pools the shared values, so the
    pooled vector is [B, group_nb·C]. This is a Conv2d over the [T' × C] key map with kernel
    (context, C). context = 1 gives MHFA with group_nb heads. hidden [B, L, T', D] -> [B, embedding_dim].
    """

    def __init__(
        self,
        n_layers: int,
        dim: int,
        compression_dim: CompressionDim = 128,
        head_nb: Annotated[
            Optional[int],
            HyperParameter("learnable queries in all; must equal group_nb × context (derived: that product)", interval="[1, inf)"),
        ] = None,
        embedding_dim: EmbeddingDim = 256,
        group_nb: Annotated[int, HyperParameter("query groups, one attention map each", interval="[1, inf)")] = 64,
        context: Annotated[
            int, HyperParameter("frames each group looks at, centred on the current one (odd)", unit="frames", interval="[1, inf)")
        ] = 3,
    ) -> None:
        if context % 2 == 0:
            raise UsageError(f"--context {context} must be odd so that the context is centred on the frame; use {context + 1}")
        if head_nb is not None and head_nb != group_nb * context:
            raise UsageError(
                f"--head_nb {head_nb} must equal --group_nb × --context = {group_nb * context}; "
                "drop --head_nb or change --group_nb/--context"
            )
        super().__init__(n_layers, dim, compression_dim, group_nb, embedding_dim)
        self.head_nb, self.group_nb, self.context = group_nb * context, group_nb, context
        self.queries = nn.Conv2d(1, group_nb, (context, compression_dim), padding=(context // 2, 0), bias=False)

    def attention_logits(self, keys: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Group logits over a context of frames: [B, T', C] -> [B, T', group_nb].

        Padding keys are zeroed first, so a valid frame near the end sees zeros beyond the
        utterance exactly as the convolution's own zero padding does for an unpadded batch.
        """
        keys = torch.where(valid.unsqueeze(2), keys, 0.0)
        return self.queries(keys.unsqueeze(1)).squeeze(3).transpose(1, 2)
