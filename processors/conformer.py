"""Conformer back-ends on the last layer of an SSL stack: the XLSR-Conformer and its TCM variant.

- Conformer: E. Rosello, A. Gomez-Alanis, A. M. Gomez, A. Peinado, "A conformer-based classifier for
  variable-length utterance processing in anti-spoofing", Interspeech 2023, pp. 5281-5285,
  doi:10.21437/Interspeech.2023-1820; code: github.com/ErosRos/conformer-based-classifier-for-anti-spoofing
  (model.py; defaults from main.py), whose conformer blocks are those of the `conformer` package
  (github.com/lucidrains/conformer, 0.2.5 to 0.3.2: the same computation).
- TCM: D.-T. Truong, R. Tao, T. Nguyen, H.-T. Luong, K. A. Lee, E. S. Chng, "Temporal-Channel Modeling in
  Multi-head Self-Attention for Synthetic Speech Detection", Interspeech 2024, pp. 537-541,
  doi:10.21437/Interspeech.2024-659; code: github.com/ductuantruong/tcm_add (model.py, conformer.py).
  Published: 1.03 % EER on ASVspoof 2021 LA, 2.06 % on DF, 7.79 % on In-the-Wild. The abstract's
  "0.03M additional parameters" are the head tokens' (23,904 at the defaults); TCM's attention has no
  relative-position tables (147,600 parameters in the Conformer), so it is the smaller of the two.

Both: the last layer of the stack, Linear(D -> E), a one-channel BatchNorm over all values, SELU; a
learned class token (uniform [0, 1) initialisation) in front of the frames; N conformer blocks; the class
token's output is the embedding (the input of the papers' final Linear(E, 2), which is not part of this
module). Published defaults: E = 144, 4 heads of 36, 4 blocks, depthwise kernel 31, feed-forward 4·E,
convolution module 2·E channels, no dropout.

Departures from the reference code, none of which changes the output of an unpadded batch:
- Padding is masked (the references see fixed-length crops, or one utterance at a time): attention keys,
  the depthwise convolution's input, TCM's means and both BatchNorms' statistics take only the valid
  frames.
- Queries, keys and values come from one Linear (the conformer package has one for q and one for k, v),
  and the pointwise convolutions are Linear layers: the same parameters in another layout.
- TCM's sinusoidal positions are computed for any length (the reference holds a table of 10,000).
- `encoder_dropout` (0, as published) drops after each feed-forward layer, the attention output and the
  convolution module, where the conformer package puts its dropouts.
"""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from conventions import HyperParameter, UsageError
from masking import masked_mean, zero_padding
from processors.masked_batch_norm import MaskedBatchNorm
from processors.selu import selu

MAX_RELATIVE_DISTANCE = 512  # the conformer package's clipping of Shaw's relative distances, in tokens
SINUSOID_PERIOD_BASE = 10000.0  # TCM's absolute sinusoidal positions, as in Vaswani et al.

EmbSize = Annotated[
    int,
    HyperParameter(
        "size E of the conformer's tokens; the class token's output, of size E, is the embedding", interval="[1, inf)"
    ),
]
Heads = Annotated[int, HyperParameter("attention heads of each conformer block; must divide --emb_size", interval="[1, inf)")]
NumEncoders = Annotated[int, HyperParameter("conformer blocks", interval="[1, inf)")]
KernelSize = Annotated[
    int, HyperParameter("kernel of the depthwise convolution of each block", unit="tokens", interval="[1, inf)")
]
FeedForwardMultiplier = Annotated[
    int, HyperParameter("hidden units of the feed-forward modules, as a multiple of --emb_size", interval="[1, inf)")
]
ConvolutionExpansion = Annotated[
    int, HyperParameter("channels of the convolution module, as a multiple of --emb_size", interval="[1, inf)")
]
EncoderDropout = Annotated[
    float,
    HyperParameter(
        "dropout in every block (feed-forward modules, attention output, convolution module output)",
        unit="probability",
        interval="[0, 1)",
    ),
]


def sinusoidal_positions(n_positions: int, dim: int) -> torch.Tensor:
    """Float64 [n_positions, dim]: at position p, channel 2i holds sin(p / 10000^(2i/dim)) and channel 2i+1 the cos."""
    position = torch.arange(n_positions, dtype=torch.float64).unsqueeze(1)
    pair = torch.div(torch.arange(dim, dtype=torch.float64), 2, rounding_mode="floor")
    angle = position / SINUSOID_PERIOD_BASE ** (2 * pair / dim)
    return torch.where(torch.arange(dim) % 2 == 0, angle.sin(), angle.cos())


class FeedForward(nn.Sequential):
    """LayerNorm, Linear(E -> m·E), Swish, dropout, Linear(m·E -> E), dropout: [B, N, E] -> [B, N, E]."""

    def __init__(self, dim: int, multiplier: int, dropout: float) -> None:
        super().__init__(
            nn.LayerNorm(dim),
            nn.Linear(dim, multiplier * dim),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(multiplier * dim, dim),
            nn.Dropout(dropout),
        )


class ConvolutionModule(nn.Module):
    """The conformer's convolution module: x [B, N, E], valid [B, N] -> [B, N, E].

    LayerNorm, pointwise E -> 2·C and GLU (C = expansion·E channels), depthwise convolution over the
    tokens ("same" length; an even kernel has one more token on the left), BatchNorm, Swish, pointwise
    C -> E, dropout. Padding tokens are zeroed before the depthwise convolution, so that a valid token
    near the end sees zeros beyond the utterance as in an unpadded batch, and the BatchNorm uses only the
    valid tokens.
    """

    def __init__(self, dim: int, expansion: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        channels = expansion * dim
        self.norm = nn.LayerNorm(dim)
        self.pointwise_in = nn.Linear(dim, 2 * channels)
        self.padding = (kernel_size // 2, kernel_size // 2 - (kernel_size + 1) % 2)
        self.depthwise = nn.Conv1d(channels, channels, kernel_size, groups=channels)
        self.batch_norm = MaskedBatchNorm(channels)
        self.pointwise_out = nn.Linear(channels, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        x = F.glu(self.pointwise_in(self.norm(x)), dim=2)
        x = torch.where(valid.unsqueeze(2), x, 0.0).transpose(1, 2)
        x = self.batch_norm(self.depthwise(F.pad(x, self.padding)), valid).transpose(1, 2)
        return self.dropout(self.pointwise_out(F.silu(x)))


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention over the valid tokens: x [B, N, E], valid [B, N] -> [B, N, E].

    Queries, keys and values from one bias-free Linear(E -> 3E), split into `heads` heads of E/heads;
    scores q·k / sqrt(E/heads) (plus `position_scores`), softmax over the valid keys; the heads' outputs
    are concatenated and projected by Linear(E -> E), then dropout.
    """

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise UsageError(
                f"--emb_size {dim} must be a multiple of --heads {heads}: each head takes emb_size / heads channels"
            )
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.project = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def position_scores(self, queries: torch.Tensor) -> torch.Tensor | float:
        """Added to the scores before scaling: queries [B, heads, N, E/heads] -> [B, heads, N, N] (or 0)."""
        return 0.0

    def attend(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The projected attention output [B, N, E], before dropout."""
        batch, n_tokens, dim = x.shape
        queries, keys, values = self.qkv(x).view(batch, n_tokens, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        scores = (queries @ keys.transpose(2, 3) + self.position_scores(queries)) * (dim // self.heads) ** -0.5
        weights = scores.masked_fill(~valid[:, None, None, :], -torch.inf).softmax(dim=3)
        return self.project((weights @ values).transpose(1, 2).reshape(batch, n_tokens, dim))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.attend(x, valid))


class RelativePositionSelfAttention(MultiHeadSelfAttention):
    """Self-attention with Shaw et al.'s relative positions, as in the conformer package: the score of
    query i for key j gains q_i · r_{i−j}, with a learned r (of size E/heads, shared by the heads) for each
    distance, distances clipped to ±512 tokens."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__(dim, heads, dropout)
        self.relative_positions = nn.Embedding(2 * MAX_RELATIVE_DISTANCE + 1, dim // heads)

    def position_scores(self, queries: torch.Tensor) -> torch.Tensor:
        """q_i · r_{i−j} for every pair: the queries times the embeddings of the distances that occur
        ([B, heads, N, 2·reach + 1]), then picked per pair."""
        n_tokens = queries.shape[2]
        reach = min(n_tokens - 1, MAX_RELATIVE_DISTANCE)
        embeddings = self.relative_positions.weight[MAX_RELATIVE_DISTANCE - reach : MAX_RELATIVE_DISTANCE + reach + 1]
        position = torch.arange(n_tokens, device=queries.device)
        pick = (position.unsqueeze(1) - position.unsqueeze(0)).clamp(-reach, reach) + reach  # [N, N]
        return (queries @ embeddings.T.to(queries.dtype)).gather(3, pick.expand(*queries.shape[:2], -1, -1))


class HeadTokenSelfAttention(MultiHeadSelfAttention):
    """TCM's temporal-channel self-attention: x [B, N, E] (token 0 the class token), valid [B, N] -> [B, N, E].

    Head tokens: the channels are cut into `heads` groups of E/heads; group g's mean over the valid
    tokens goes through Linear(E/heads -> E), a LayerNorm over each E/heads slice of the result and GELU,
    plus a learned position (initialised 0), giving head token g of size E. The head tokens join the
    tokens as queries, keys and values of the self-attention (no relative positions). Afterwards the
    head tokens are dropped and the class token's output gains the mean of the head tokens' outputs
    and the mean of the valid frames' outputs.
    """

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__(dim, heads, dropout)
        self.head_token_project = nn.Linear(dim // heads, dim)
        self.head_token_norm = nn.LayerNorm(dim // heads)
        self.head_token_position = nn.Parameter(torch.zeros(heads, dim))

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        batch, n_tokens, dim = x.shape
        group_means = masked_mean(x, valid.unsqueeze(2), dim=1).view(batch, self.heads, dim // self.heads)
        head_tokens = self.head_token_project(group_means).view(batch, self.heads, self.heads, dim // self.heads)
        head_tokens = F.gelu(self.head_token_norm(head_tokens)).flatten(2) + self.head_token_position
        output = self.attend(torch.cat([x, head_tokens], dim=1), F.pad(valid, (0, self.heads), value=True))
        tokens, head_outputs = output[:, :n_tokens], output[:, n_tokens:]
        frames = tokens[:, 1:]
        class_token = tokens[:, :1] + head_outputs.mean(dim=1, keepdim=True) + masked_mean(frames, valid[:, 1:, None], dim=1).unsqueeze(1)
        return self.dropout(torch.cat([class_token, frames], dim=1))


class ConformerBlock(nn.Module):
    """Macaron conformer block (Gulati et al., 2020) as in the conformer package: x [B, N, E], valid [B, N] -> [B, N, E].

    x + ½ FF(x); + attention(LayerNorm x); + convolution module; + ½ FF; LayerNorm.
    """

    def __init__(
        self,
        dim: int,
        attention: MultiHeadSelfAttention,
        ff_mult: int,
        conv_expansion_factor: int,
        kernel_size: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.feed_forward_in = FeedForward(dim, ff_mult, dropout)
        self.attention_norm = nn.LayerNorm(dim)
        self.attention = attention
        self.convolution = ConvolutionModule(dim, conv_expansion_factor, kernel_size, dropout)
        self.feed_forward_out = FeedForward(dim, ff_mult, dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        x = x + 0.5 * self.feed_forward_in(x)
        x = x + self.attention(self.attention_norm(x), valid)
        x = x + self.convolution(x, valid)
        x = x + 0.5 * self.feed_forward_out(x)
        return self.norm(x)


class _ConformerBackEnd(nn.Module):
    """hidden [B, L, T', D], frame_lengths [B] -> the class token's output [B, E].

    The last layer of the stack, Linear(D -> E), a one-channel BatchNorm, SELU; `sinusoidal` adds
    absolute sinusoidal positions to the frames; a learned class token goes in front; `num_encoders`
    conformer blocks with the attention `attention_class`.

    Padding: the padding frames are zeroed at the input and then masked wherever tokens meet (the
    BatchNorm statistics, the attention keys, the depthwise convolution's input, TCM's means), so in eval
    mode an utterance gives the same output alone and inside a padded batch, whatever the padding holds.
    In training mode each BatchNorm normalises with the statistics of the batch's valid frames: the
    output does not depend on the padding, but, as with any BatchNorm, on the other utterances of the batch.
    Any length of at least one frame works.
    """

    attention_class: type[MultiHeadSelfAttention]
    sinusoidal: bool

    def __init__(
        self,
        n_layers: int,
        dim: int,
        emb_size: EmbSize = 144,
        heads: Heads = 4,
        num_encoders: NumEncoders = 4,
        kernel_size: KernelSize = 31,
        ff_mult: FeedForwardMultiplier = 4,
        conv_expansion_factor: ConvolutionExpansion = 2,
        encoder_dropout: EncoderDropout = 0.0,
    ) -> None:
        super().__init__()
        self.out_dim = emb_size
        self.project = nn.Linear(dim, emb_size)
        self.input_norm = MaskedBatchNorm(1)
        self.class_token = nn.Parameter(torch.rand(emb_size))
        self.blocks = nn.ModuleList(
            ConformerBlock(
                emb_size,
                self.attention_class(emb_size, heads, encoder_dropout),
                ff_mult,
                conv_expansion_factor,
                kernel_size,
                encoder_dropout,
            )
            for _ in range(num_encoders)
        )
        self.position_table: torch.Tensor | None = None  # the sinusoids computed so far (not state)

    def positions(self, n_frames: int, like: torch.Tensor) -> torch.Tensor:
        """The first `n_frames` sinusoidal positions [n_frames, E], on `like`'s device and dtype; the
        table is computed once per device and whenever a longer utterance comes."""
        table = self.position_table
        if table is None or table.shape[0] < n_frames or table.device != like.device:
            table = sinusoidal_positions(max(n_frames, 2 * (0 if table is None else table.shape[0])), like.shape[-1])
            self.position_table = table = table.to(like.device, torch.float32)
        return table[:n_frames].to(like.dtype)

    def forward(self, hidden: torch.Tensor, frame_lengths: torch.Tensor) -> torch.Tensor:
        last, valid = zero_padding(hidden[:, -1:], frame_lengths)
        x = selu(self.input_norm(self.project(last[:, 0]).unsqueeze(1), valid).squeeze(1))  # [B, T', E]
        if self.sinusoidal:
            x = x + self.positions(x.shape[1], x)
        x = torch.cat([self.class_token.expand(x.shape[0], 1, -1), x], dim=1)
        valid = F.pad(valid, (1, 0), value=True)
        for block in self.blocks:
            x = block(x, valid)
        return x[:, 0]


class Conformer(_ConformerBackEnd):
    """XLSR-Conformer (Rosello et al., 2023): hidden [B, L, T', D] -> [B, emb_size].

    Self-attention with Shaw's relative positions clipped to ±512 tokens, no absolute positions.
    """

    attention_class = RelativePositionSelfAttention
    sinusoidal = False


class TCM(_ConformerBackEnd):
    """XLSR-Conformer with temporal-channel modeling (Truong et al., 2024): hidden [B, L, T', D] -> [B, emb_size].

    Head-token self-attention (HeadTokenSelfAttention) without relative positions; fixed sinusoidal
    positions are added to the frames (not to the class token). The reference holds them in a table of
    10,000 positions (200 s of XLSR frames); here they are computed for any length.
    """

    attention_class = HeadTokenSelfAttention
    sinusoidal = True
