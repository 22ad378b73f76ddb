"""Conformer and TCM: shapes, parameter counts at the published defaults, padding, gradients, short inputs,
and the relative-position, head-token, sinusoid formulas written out."""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from conventions import UsageError
from processors.conformer import (
    MAX_RELATIVE_DISTANCE,
    TCM,
    Conformer,
    HeadTokenSelfAttention,
    RelativePositionSelfAttention,
    sinusoidal_positions,
)

pytestmark = pytest.mark.usefixtures("one_thread")

DIM = 10
TINY = {"emb_size": 8, "heads": 2, "num_encoders": 2, "kernel_size": 5, "ff_mult": 2, "conv_expansion_factor": 2}
CLASSES = [Conformer, TCM]


def build(processor_class: type, n_layers: int = 3, **overrides) -> torch.nn.Module:
    """A tiny processor whose BatchNorms have non-trivial running statistics and affine parameters."""
    torch.manual_seed(0)
    processor = processor_class(n_layers, DIM, **{**TINY, **overrides})
    with torch.no_grad():
        for module in processor.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_()
    return processor


def stack(batch: int, n_layers: int, n_frames: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, n_layers, n_frames, DIM, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("processor_class", CLASSES)
@pytest.mark.parametrize("n_layers", [1, 3])
def test_output_is_batch_by_emb_size(processor_class, n_layers):
    processor = build(processor_class, n_layers)
    output = processor(stack(3, n_layers, 9), torch.tensor([9, 4, 1]))
    assert processor.out_dim == TINY["emb_size"]
    assert output.shape == (3, TINY["emb_size"])
    assert torch.isfinite(output).all()


def conformer_parameters(
    dim: int, emb: int, heads: int, blocks: int, kernel: int, ff_mult: int, expansion: int, tcm: bool
) -> int:
    """The parameter count written out from the layer sizes of the papers' back-end (without its Linear(E, 2))."""

    def linear(n_in: int, n_out: int) -> int:
        return n_in * n_out + n_out

    def norm(n: int) -> int:  # LayerNorm or BatchNorm: scale and shift
        return 2 * n

    head_dim, channels = emb // heads, expansion * emb
    feed_forward = norm(emb) + linear(emb, ff_mult * emb) + linear(ff_mult * emb, emb)
    attention = norm(emb) + 3 * emb * emb + linear(emb, emb)  # pre-norm, bias-free q/k/v, output projection
    if tcm:
        attention += linear(head_dim, emb) + norm(head_dim) + heads * emb  # head tokens: projection, norm, positions
    else:
        attention += (2 * MAX_RELATIVE_DISTANCE + 1) * head_dim  # Shaw's relative position embeddings
    convolution = norm(emb) + linear(emb, 2 * channels) + channels * kernel + channels + norm(channels) + linear(channels, emb)
    block = 2 * feed_forward + attention + convolution + norm(emb)
    return linear(dim, emb) + norm(1) + emb + blocks * block  # projection, one-channel BatchNorm, class token


@pytest.mark.parametrize(
    "processor_class, expected, tcm",
    [(Conformer, 2_506_034, False), (TCM, 2_382_338, True)],
    ids=["Conformer", "TCM"],
)
def test_parameter_count_at_the_published_defaults_on_xlsr_300m(processor_class, expected, tcm):
    """XLSR-300M stack (25 layers of 1024); defaults E = 144, 4 heads, 4 blocks, kernel 31, FF ×4, conv ×2.
    The papers publish no total; the expected numbers are those of the authors' code (model.py), counted
    with its final Linear(144, 2) left out: 2,506,324 and 2,382,628 with it."""
    processor = processor_class(n_layers=25, dim=1024)
    count = sum(p.numel() for p in processor.parameters())
    assert processor.out_dim == 144
    assert count == conformer_parameters(1024, 144, 4, 4, 31, 4, 2, tcm) == expected
    assert count + 144 * 2 + 2 == expected + 290


def test_tcm_head_tokens_are_what_tcm_adds_to_plain_self_attention():
    """What TCM adds to each block's self-attention: the head-token projection Linear(36, 144), its
    LayerNorm(36) and 4 positions of 144, in 4 blocks: 23,904 (the abstract states "0.03M additional parameters")."""
    processor = TCM(n_layers=25, dim=1024)
    head_token = sum(p.numel() for name, p in processor.named_parameters() if ".head_token_" in name)
    assert head_token == 4 * ((36 * 144 + 144) + 2 * 36 + 4 * 144) == 23_904


@pytest.mark.parametrize("processor_class", CLASSES)
@pytest.mark.parametrize("filler", [float("inf"), float("nan")])
def test_eval_output_alone_equals_output_in_a_padded_batch_whatever_the_padding_holds(processor_class, filler):
    processor = build(processor_class).eval()
    short, long = stack(1, 3, 7, seed=1), stack(1, 3, 12, seed=2)
    padded = torch.cat([short, torch.full((1, 3, 5, DIM), filler)], dim=2)
    with torch.no_grad():
        batch = processor(torch.cat([padded, long]), torch.tensor([7, 12]))
        torch.testing.assert_close(batch[0], processor(short, torch.tensor([7]))[0], rtol=0, atol=1e-5)
        torch.testing.assert_close(batch[1], processor(long, torch.tensor([12]))[0], rtol=0, atol=1e-5)
        zero_padded = torch.cat([short, torch.zeros(1, 3, 5, DIM)], dim=2)
        as_if_valid = processor(torch.cat([zero_padded, long]), torch.tensor([12, 12]))[0]
        assert torch.isfinite(as_if_valid).all() and not torch.allclose(batch[0], as_if_valid, atol=1e-3)


@pytest.mark.parametrize("processor_class", CLASSES)
def test_training_output_depends_neither_on_padding_content_nor_on_padding_amount(processor_class):
    """In training mode the BatchNorms take the statistics of the valid frames only."""
    processor = build(processor_class).train()
    hidden, frame_lengths = stack(2, 3, 10), torch.tensor([6, 10])
    garbage = torch.cat([hidden, torch.full((2, 3, 4, DIM), float("nan"))], dim=2)
    garbage[0, :, 6:] = float("inf")
    clean = hidden.clone()
    clean[0, :, 6:] = 0.0
    torch.testing.assert_close(processor(garbage, frame_lengths), processor(clean, frame_lengths), rtol=0, atol=1e-5)


@pytest.mark.parametrize("processor_class", CLASSES)
def test_gradients_reach_every_parameter_and_no_padding_frame(processor_class):
    processor = build(processor_class).train()
    hidden = stack(2, 3, 10).requires_grad_()
    with torch.no_grad():
        hidden[0, :, 6:] = float("inf")
    processor(hidden, torch.tensor([6, 10])).square().sum().backward()
    for name, parameter in processor.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
    assert torch.isfinite(hidden.grad).all()
    assert hidden.grad[0, :, 6:].abs().sum() == 0
    assert hidden.grad[:, :-1].abs().sum() == 0  # only the last layer is read
    assert hidden.grad[:, -1, :6].abs().sum() > 0


@pytest.mark.parametrize("processor_class", CLASSES)
@pytest.mark.parametrize("n_frames", [1, 2, 3])
def test_utterances_of_a_few_frames_work_alone_in_training_and_eval_mode(processor_class, n_frames):
    processor = build(processor_class)
    for train in (True, False):
        processor.train(train)
        output = processor(stack(1, 3, n_frames), torch.tensor([n_frames]))
        assert output.shape == (1, TINY["emb_size"])
        assert torch.isfinite(output).all()


@pytest.mark.parametrize("processor_class", CLASSES)
def test_emb_size_must_be_a_multiple_of_heads(processor_class):
    with pytest.raises(UsageError, match="--emb_size 10 must be a multiple of --heads 4"):
        processor_class(3, DIM, emb_size=10, heads=4)


@pytest.mark.parametrize("processor_class", CLASSES)
def test_dropout_acts_in_training_only(processor_class):
    processor = build(processor_class, encoder_dropout=0.5)
    hidden, frame_lengths = stack(2, 3, 8), torch.tensor([8, 5])
    with torch.no_grad():
        processor.train()
        assert not torch.equal(processor(hidden, frame_lengths), processor(hidden, frame_lengths))
        processor.eval()
        torch.testing.assert_close(processor(hidden, frame_lengths), processor(hidden, frame_lengths), rtol=0, atol=0)


@pytest.mark.parametrize("n_tokens", [7, MAX_RELATIVE_DISTANCE + 90])
def test_relative_position_scores_are_query_dot_embedding_of_the_clipped_distance(n_tokens):
    torch.manual_seed(0)
    attention = RelativePositionSelfAttention(dim=4, heads=2, dropout=0.0).double()
    queries = torch.randn(2, 2, n_tokens, 2, dtype=torch.float64)
    scores = attention.position_scores(queries)
    assert scores.shape == (2, 2, n_tokens, n_tokens)
    table = attention.relative_positions.weight
    pairs = [(0, 0), (5, 2), (2, 5), (n_tokens - 1, 0), (0, n_tokens - 1), (n_tokens - 1, 3)]
    if n_tokens > MAX_RELATIVE_DISTANCE:
        pairs += [(MAX_RELATIVE_DISTANCE, 0), (0, MAX_RELATIVE_DISTANCE + 1)]
    for i, j in pairs:
        distance = max(-MAX_RELATIVE_DISTANCE, min(MAX_RELATIVE_DISTANCE, i - j))
        expected = queries[:, :, i] @ table[distance + MAX_RELATIVE_DISTANCE]
        torch.testing.assert_close(scores[:, :, i, j], expected)


def test_head_token_attention_equals_the_tcm_formulas_written_out_per_head():
    """One unpadded utterance: head tokens from the per-head channel means, attention over tokens and head
    tokens, the class token enriched with the mean head-token output and the mean frame output."""
    torch.manual_seed(0)
    dim, heads = 6, 3
    head_dim = dim // heads
    attention = HeadTokenSelfAttention(dim, heads, dropout=0.0).double()
    with torch.no_grad():
        attention.head_token_position.normal_()
        attention.head_token_norm.weight.normal_()
    x = torch.randn(1, 5, dim, dtype=torch.float64)  # the class token and 4 frames
    output = attention(x, torch.ones(1, 5, dtype=torch.bool))[0]

    tokens = list(x[0])
    for group in range(heads):
        mean = x[0, :, group * head_dim : (group + 1) * head_dim].mean(dim=0)
        projected = attention.head_token_project(mean).view(heads, head_dim)
        norm = attention.head_token_norm
        normed = torch.stack([F.layer_norm(part, (head_dim,), norm.weight, norm.bias) for part in projected])
        tokens.append(F.gelu(normed).flatten() + attention.head_token_position[group])
    tokens = torch.stack(tokens)
    q, k, v = attention.qkv(tokens).split(dim, dim=1)
    per_head = []
    for head in range(heads):
        part = slice(head * head_dim, (head + 1) * head_dim)
        weights = torch.softmax(q[:, part] @ k[:, part].T / math.sqrt(head_dim), dim=1)
        per_head.append(weights @ v[:, part])
    outputs = attention.project(torch.cat(per_head, dim=1))
    expected_class = outputs[0] + outputs[5:].mean(dim=0) + outputs[1:5].mean(dim=0)
    torch.testing.assert_close(output[0], expected_class)
    torch.testing.assert_close(output[1:], outputs[1:5])


def test_sinusoidal_positions_follow_the_transformer_formula():
    table = sinusoidal_positions(7, 6)
    for p in range(7):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert table[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-12)
            assert table[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-12)


def test_conformer_block_is_the_macaron_composition_with_half_step_feed_forwards():
    processor = build(Conformer).eval()
    block = processor.blocks[0]
    x = torch.randn(2, 6, TINY["emb_size"])
    valid = torch.ones(2, 6, dtype=torch.bool)
    with torch.no_grad():
        x1 = x + 0.5 * block.feed_forward_in(x)
        x2 = x1 + block.attention(block.attention_norm(x1), valid)
        x3 = x2 + block.convolution(x2, valid)
        expected = block.norm(x3 + 0.5 * block.feed_forward_out(x3))
        torch.testing.assert_close(block(x, valid), expected)


@pytest.mark.parametrize("kernel_size", [3, 4])
def test_depthwise_convolution_keeps_the_length_with_the_extra_tap_on_the_left_for_even_kernels(kernel_size):
    """Output t of channel c is Σ_j w[c, j] u[t + j − ⌊k/2⌋], u being 0 outside the utterance."""
    processor = build(Conformer, kernel_size=kernel_size).eval()
    module = processor.blocks[0].convolution
    x = torch.randn(1, 5, TINY["emb_size"], dtype=torch.float64)
    valid = torch.ones(1, 5, dtype=torch.bool)
    module.double()
    with torch.no_grad():
        u = F.glu(module.pointwise_in(module.norm(x)), dim=2)[0]  # [5, C]
        weight, bias = module.depthwise.weight[:, 0], module.depthwise.bias  # [C, k], [C]
        left = kernel_size // 2
        convolved = torch.stack(
            [bias + sum(weight[:, j] * u[t + j - left] for j in range(kernel_size) if 0 <= t + j - left < 5) for t in range(5)]
        )
        normalised = module.batch_norm(convolved.T.unsqueeze(0), valid).transpose(1, 2)  # channels at dim 1
        expected = module.pointwise_out(F.silu(normalised))
        torch.testing.assert_close(module(x, valid), expected)
