"""MeanStdPooling, AttentiveStatisticsPooling, MHFA and ContextAwareMHFA: shapes, padding, gradients,
and agreement with the papers' formulas written out frame by frame."""
import pytest
import torch

from conventions import UsageError
from processors.mhfa import MHFA, ContextAwareMHFA
from processors.statistics import AttentiveStatisticsPooling, MeanStdPooling

SMALL = {"compression_dim": 8, "embedding_dim": 6}
FACTORIES = {
    "MeanStd": lambda n_layers, dim: MeanStdPooling(n_layers, dim),
    "ASP": lambda n_layers, dim: AttentiveStatisticsPooling(n_layers, dim, attention_dim=16),
    "MHFA": lambda n_layers, dim: MHFA(n_layers, dim, **SMALL),
    "CA-MHFA": lambda n_layers, dim: ContextAwareMHFA(n_layers, dim, group_nb=4, context=5, **SMALL),
}
STACKS = [(1, 60), (13, 768)]  # LFCC, WavLM base


def build(name: str, n_layers: int, dim: int) -> torch.nn.Module:
    """A processor with random (not the initial, equal) layer weights, so that the layer mix matters."""
    torch.manual_seed(0)
    processor = FACTORIES[name](n_layers, dim)
    with torch.no_grad():
        for module in processor.modules():
            if hasattr(module, "logits") and isinstance(module.logits, torch.nn.Parameter):
                module.logits.normal_()
    return processor


def mix(layer_weights: torch.nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """Σ_l softmax(w)_l h_l for one utterance: [L, T, D] -> [T, D]."""
    weights = layer_weights.logits.softmax(dim=0)
    return sum(weights[layer] * hidden[layer] for layer in range(hidden.shape[0]))


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("n_layers, dim", STACKS)
def test_output_shape_and_out_dim(name, n_layers, dim):
    processor = build(name, n_layers, dim)
    pooled = processor(torch.randn(3, n_layers, 9, dim), torch.tensor([9, 4, 1]))
    expected = 2 * dim if name in ("MeanStd", "ASP") else SMALL["embedding_dim"]
    assert processor.out_dim == expected
    assert pooled.shape == (3, expected)
    assert torch.isfinite(pooled).all()


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("n_layers, dim", STACKS)
@pytest.mark.parametrize("filler", [float("inf"), float("nan")])
def test_padding_never_changes_the_output(name, n_layers, dim, filler):
    torch.manual_seed(1)
    short, long = torch.randn(1, n_layers, 7, dim), torch.randn(1, n_layers, 12, dim)
    padded = torch.cat([short, torch.full((1, n_layers, 5, dim), filler)], dim=2)
    processor = build(name, n_layers, dim)
    alone = processor(short, torch.tensor([7]))
    batch = processor(torch.cat([padded, long]), torch.tensor([7, 12]))
    torch.testing.assert_close(batch[0], alone[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(batch[1], processor(long, torch.tensor([12]))[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("n_layers, dim", STACKS)
def test_gradients_reach_every_parameter_and_stay_finite_despite_inf_padding(name, n_layers, dim):
    hidden = torch.randn(2, n_layers, 10, dim)
    hidden[0, :, 6:] = float("inf")
    processor = build(name, n_layers, dim)
    processor(hidden, torch.tensor([6, 10])).square().sum().backward()
    for parameter_name, parameter in processor.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert torch.isfinite(parameter.grad).all(), parameter_name
        a_single_layer_always_weighs_1 = n_layers == 1 and parameter_name.endswith("weights.logits")
        assert (parameter.grad.abs().sum() > 0) != a_single_layer_always_weighs_1, parameter_name


def test_mean_std_is_the_population_mean_and_std_of_the_layer_mix():
    processor = build("MeanStd", 3, 5)
    hidden = torch.randn(2, 3, 8, 5, dtype=torch.float64)
    pooled = processor.double()(hidden, torch.tensor([8, 5]))
    for row, length in enumerate([8, 5]):
        frames = mix(processor.layer_weights, hidden[row, :, :length])
        expected = torch.cat([frames.mean(0), frames.std(0, unbiased=False)])
        torch.testing.assert_close(pooled[row], expected)


def test_attentive_statistics_pooling_follows_okabe_et_al():
    processor = build("ASP", 3, 5).double()
    hidden = torch.randn(2, 3, 8, 5, dtype=torch.float64)
    pooled = processor(hidden, torch.tensor([8, 6]))
    first, _, second = processor.attention
    for row, length in enumerate([8, 6]):
        frames = mix(processor.layer_weights, hidden[row, :, :length])
        energies = torch.stack([second.weight[0] @ torch.tanh(first.weight @ h + first.bias) for h in frames])
        alpha = energies.exp() / energies.exp().sum()
        mean = sum(a * h for a, h in zip(alpha, frames))
        std = (sum(a * h * h for a, h in zip(alpha, frames)) - mean * mean).sqrt()
        torch.testing.assert_close(pooled[row], torch.cat([mean, std]))


def test_mhfa_equals_a_loop_over_heads_of_the_paper_formulas():
    processor = MHFA(4, 6, compression_dim=3, head_nb=5, embedding_dim=2).double()
    with torch.no_grad():
        for parameter in processor.parameters():
            parameter.normal_()
    hidden = torch.randn(2, 4, 9, 6, dtype=torch.float64)
    pooled = processor(hidden, torch.tensor([9, 4]))
    for row, length in enumerate([9, 4]):
        keys = mix(processor.key_weights, hidden[row, :, :length]) @ processor.compress_keys.weight.T
        values = mix(processor.value_weights, hidden[row, :, :length]) @ processor.compress_values.weight.T
        heads = []
        for query in processor.queries.weight:  # one query vector per head
            scores = torch.stack([query @ key for key in keys])
            attention = scores.exp() / scores.exp().sum()
            heads.append(sum(a * v for a, v in zip(attention, values)))
        expected = processor.project.weight @ torch.cat(heads) + processor.project.bias
        torch.testing.assert_close(pooled[row], expected)


@pytest.mark.parametrize("context", [1, 3, 5])
def test_context_aware_logits_equal_a_loop_over_context_frames(context):
    processor = ContextAwareMHFA(2, 6, compression_dim=4, group_nb=3, context=context).double()
    keys = torch.randn(2, 7, 4, dtype=torch.float64)
    keys[0, 5:] = float("nan")  # padding of the first utterance (5 frames)
    valid = torch.tensor([[True] * 5 + [False] * 2, [True] * 7])
    logits = processor.attention_logits(keys, valid)
    assert logits.shape == (2, 7, 3)
    radius = context // 2
    for row, length in enumerate([5, 7]):
        for group in range(3):
            queries = processor.queries.weight[group, 0]  # [context, C]: one query per neighbouring frame
            for t in range(length):
                expected = sum(
                    queries[j] @ keys[row, t + j - radius] for j in range(context) if 0 <= t + j - radius < length
                )
                torch.testing.assert_close(logits[row, t, group], torch.as_tensor(expected, dtype=torch.float64))


def test_context_of_one_frame_is_mhfa_with_one_head_per_group():
    torch.manual_seed(2)
    context_aware = ContextAwareMHFA(3, 6, compression_dim=4, group_nb=5, context=1, embedding_dim=2)
    plain = MHFA(3, 6, compression_dim=4, head_nb=5, embedding_dim=2)
    plain.load_state_dict({**context_aware.state_dict(), "queries.weight": context_aware.queries.weight[:, 0, 0]})
    hidden = torch.randn(2, 3, 8, 6)
    torch.testing.assert_close(context_aware(hidden, torch.tensor([8, 3])), plain(hidden, torch.tensor([8, 3])))


@pytest.mark.parametrize("n_layers, head_nb", [(1, 1), (2, 3), (4, 5), (12, 16), (13, 17), (25, 33)])
def test_mhfa_head_nb_defaults_to_four_thirds_of_the_layers(n_layers, head_nb):
    processor = MHFA(n_layers, 8)
    assert processor.head_nb == head_nb
    assert processor.queries.out_features == head_nb
    assert processor.project.in_features == head_nb * 128
    assert MHFA(n_layers, 8, head_nb=2).queries.out_features == 2


def test_context_aware_defaults_and_head_count():
    processor = ContextAwareMHFA(13, 768)
    assert (processor.group_nb, processor.context, processor.head_nb) == (64, 3, 192)
    assert processor.queries.weight.shape == (64, 1, 3, 128)
    assert processor.project.in_features == 64 * 128
    assert ContextAwareMHFA(1, 60, group_nb=2, context=5, head_nb=10).head_nb == 10


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"context": 2}, "--context 2 must be odd"),
        ({"context": 4, "group_nb": 2}, "--context 4 must be odd"),
        ({"head_nb": 17}, r"--head_nb 17 must equal --group_nb × --context = 192"),
        ({"head_nb": 12, "group_nb": 3, "context": 5}, r"--head_nb 12 must equal --group_nb × --context = 15"),
    ],
)
def test_invalid_group_and_context_combinations_are_usage_errors(arguments, message):
    with pytest.raises(UsageError, match=message):
        ContextAwareMHFA(13, 768, **arguments)


@pytest.mark.parametrize("name", FACTORIES)
def test_runs_in_half_precision_dtype(name):
    processor = build(name, 2, 6).to(torch.bfloat16)
    pooled = processor(torch.randn(2, 2, 5, 6, dtype=torch.bfloat16), torch.tensor([5, 3]))
    assert pooled.dtype == torch.bfloat16 and torch.isfinite(pooled).all()
