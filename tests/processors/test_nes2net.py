import pytest
import torch
from torch import nn

from conventions import UsageError
from processors.nes2net import Nes2NetX

DIM = 32  # 4 groups of 8 channels, nested blocks of 4 parts of 2 channels
TINY = {"outer_scale": 4, "inner_scale": 4}

pytestmark = pytest.mark.usefixtures("one_thread")


def stack(n_layers: int, n_frames: int, batch: int = 2, dim: int = DIM, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, n_layers, n_frames, dim, generator=torch.Generator().manual_seed(seed))


def pad_with(hidden: torch.Tensor, n_frames: int, value: float) -> torch.Tensor:
    """hidden [B, L, T', D] extended to T' + n_frames frames holding `value`."""
    return torch.cat([hidden, hidden.new_full((*hidden.shape[:2], n_frames, hidden.shape[3]), value)], dim=2)


def expected_parameters(
    n_layers: int,
    dim: int,
    outer_scale: int = 8,
    inner_scale: int = 8,
    se_ratio: int = 1,
    pooling: str = "mean",
    layer_mix: bool = False,
) -> int:
    """The parameter count of Nes2Net-X written out from its layer sizes (a BatchNorm has 2 per channel)."""
    group = dim // outer_scale  # C
    width = group // inner_scale  # w
    se = group // se_ratio
    kernel = 3
    nested_block = (
        group * width * inner_scale + width * inner_scale  # 1×1 convolution C -> s2·w
        + 2 * width * inner_scale  # its BatchNorm
        + (inner_scale - 1) * (kernel * width * width + width + 2 * width)  # the step convolutions and BatchNorms
        + sum(range(2, inner_scale + 1))  # the weights of the weighted sums over 2, 3, ..., s2 maps
        + width * inner_scale * group + group + 2 * group  # 1×1 convolution s2·w -> C and its BatchNorm
        + group * se + se + se * group + group  # squeeze-excitation
    )
    attention = dim * 128 + 128 + 128 * dim + dim if pooling == "ASTP" else 0
    return (outer_scale - 1) * (nested_block + 2 * group) + 2 * dim + attention + (n_layers if layer_mix else 0)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def settle(processor: Nes2NetX, n_layers: int, steps: int = 3) -> Nes2NetX:
    """A few training-mode passes on a padded batch, so that the running statistics are not the initial ones."""
    processor.train()
    with torch.no_grad():
        for step in range(steps):
            processor(stack(n_layers, 20, batch=3, seed=100 + step) * 3 + 1, torch.tensor([20, 14, 9]))
    return processor.eval()


def test_published_model_has_the_published_parameter_count():
    """ASVspoof 2021 / In-the-Wild Nes2Net-X: s1 = s2 = 8, SE ratio 1, mean pooling, on XLSR-300M (D = 1024).
    The authors' code has 509,989 back-end parameters before its Linear(1024, 2), 512,039 with it; their
    README states "511k" for the back-end."""
    processor = Nes2NetX(n_layers=25, dim=1024)
    with_classifier = count(processor) + count(nn.Linear(processor.out_dim, 2))
    assert processor.out_dim == 1024
    assert count(processor) == expected_parameters(25, 1024) == 509_989
    assert with_classifier == 512_039
    assert abs(with_classifier - 511_000) / 511_000 < 0.003


@pytest.mark.parametrize(
    "hyper_parameters",
    [
        {"pooling": "ASTP"},
        {"outer_scale": 3, "inner_scale": 5, "se_ratio": 2, "layer_mix": True},  # 16 channels in 5 parts of 3
    ],
    ids=["astp", "uneven-parts"],
)
def test_parameter_count_follows_the_layer_sizes(hyper_parameters):
    dim = 48 if "outer_scale" in hyper_parameters else 1024
    processor = Nes2NetX(n_layers=13, dim=dim, **hyper_parameters)
    assert count(processor) == expected_parameters(13, dim, **hyper_parameters)


@pytest.mark.parametrize("pooling, out_dim", [("mean", DIM), ("ASTP", 2 * DIM)])
@pytest.mark.parametrize("n_layers", [1, 5])
def test_output_shape_is_batch_by_out_dim(pooling, out_dim, n_layers):
    torch.manual_seed(0)
    processor = Nes2NetX(n_layers=n_layers, dim=DIM, pooling=pooling, **TINY)
    output = processor(stack(n_layers, 30), torch.tensor([30, 21]))
    assert processor.out_dim == out_dim
    assert output.shape == (2, out_dim)
    assert torch.isfinite(output).all()


@pytest.mark.parametrize(
    "hyper_parameters",
    [{}, {"pooling": "ASTP", "layer_mix": True}, {"se_ratio": 4, "dilation": 1}],
    ids=["defaults", "astp-layer-mix", "se-ratio-dilation"],
)
def test_eval_output_is_the_same_alone_and_in_a_padded_batch_whatever_the_padding_holds(hyper_parameters):
    torch.manual_seed(0)
    processor = settle(Nes2NetX(n_layers=3, dim=DIM, **TINY, **hyper_parameters), n_layers=3)
    hidden, frame_lengths = stack(3, 24, batch=3), torch.tensor([24, 13, 7])
    garbage = pad_with(hidden, 5, float("nan"))
    garbage[1, :, 13:] = float("inf")
    garbage[2, :, 7:] = float("-inf")
    with torch.no_grad():
        in_batch = processor(garbage, frame_lengths)
        alone = torch.cat([processor(hidden[i : i + 1, :, :n], frame_lengths[i : i + 1]) for i, n in enumerate([24, 13, 7])])
        longer = processor(hidden, torch.tensor([24, 16, 7]))
    torch.testing.assert_close(in_batch, alone, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(longer[1], alone[1], atol=1e-3)


@pytest.mark.parametrize("pooling", ["mean", "ASTP"])
def test_training_output_and_statistics_do_not_depend_on_padding(pooling):
    """In training mode the output depends on the batch through BatchNorm, but not on how far (or with
    what) the batch is padded: the output and the updated running statistics are the same."""
    torch.manual_seed(0)
    shorter = Nes2NetX(n_layers=2, dim=DIM, pooling=pooling, **TINY)
    longer = Nes2NetX(n_layers=2, dim=DIM, pooling=pooling, **TINY)
    longer.load_state_dict(shorter.state_dict())
    hidden, frame_lengths = stack(2, 18, batch=3), torch.tensor([18, 11, 4])
    garbage = pad_with(hidden, 7, float("inf"))
    garbage[1, :, 11:] = float("nan")
    output = shorter.train()(hidden, frame_lengths)
    torch.testing.assert_close(longer.train()(garbage, frame_lengths), output, rtol=1e-5, atol=1e-5)
    for name, statistic in shorter.state_dict().items():
        torch.testing.assert_close(longer.state_dict()[name], statistic, rtol=1e-5, atol=1e-6, msg=name)
    changed = hidden.clone()
    changed[0, :, 12:] += 1.0  # valid frames of utterance 0 change the statistics that utterance 1 sees
    assert not torch.allclose(shorter(changed, frame_lengths)[1], output[1], atol=1e-4)


@pytest.mark.parametrize(
    "hyper_parameters", [{}, {"pooling": "ASTP", "layer_mix": True}], ids=["defaults", "astp-layer-mix"]
)
def test_gradients_reach_every_parameter_and_no_padding_frame(hyper_parameters):
    torch.manual_seed(0)
    processor = Nes2NetX(n_layers=3, dim=DIM, **TINY, **hyper_parameters).train()
    hidden = pad_with(stack(3, 20), 4, float("nan")).requires_grad_()
    processor(hidden, torch.tensor([20, 15])).square().sum().backward()
    without_gradient = [name for name, p in processor.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert without_gradient == []
    assert all(torch.isfinite(p.grad).all() for p in processor.parameters())
    assert torch.isfinite(hidden.grad).all()
    assert hidden.grad[:, :, 20:].abs().sum() == 0 and hidden.grad[1, :, 15:].abs().sum() == 0
    assert hidden.grad[:, -1, :15].abs().sum() > 0


@pytest.mark.parametrize("n_frames", [1, 2, 3, 5])
def test_very_short_utterances_work_in_training_and_eval_mode(n_frames):
    torch.manual_seed(0)
    processor = Nes2NetX(n_layers=2, dim=DIM, pooling="ASTP", **TINY)
    for train in (True, False):
        processor.train(train)
        output = processor(stack(2, n_frames, batch=1), torch.tensor([n_frames]))
        assert output.shape == (1, processor.out_dim)
        assert torch.isfinite(output).all()


def test_only_the_last_layer_is_read_unless_layer_mix():
    torch.manual_seed(0)
    last_only = Nes2NetX(n_layers=4, dim=DIM, **TINY).eval()
    mixed = Nes2NetX(n_layers=4, dim=DIM, layer_mix=True, **TINY).eval()
    hidden, frame_lengths = stack(4, 16), torch.tensor([16, 10])
    changed = hidden.clone()
    changed[:, 0] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(last_only(changed, frame_lengths), last_only(hidden, frame_lengths))
        assert not torch.allclose(mixed(changed, frame_lengths), mixed(hidden, frame_lengths))


@pytest.mark.parametrize(
    "hyper_parameters, message",
    [
        ({"outer_scale": 5}, "--outer_scale 5 must divide the feature size 32"),
        ({"outer_scale": 4, "inner_scale": 9}, "--inner_scale 9 exceeds the 8 channels"),
        ({"outer_scale": 4, "se_ratio": 16}, "--se_ratio 16 exceeds the 8 channels"),
    ],
)
def test_sizes_that_do_not_fit_the_features_are_usage_errors(hyper_parameters, message):
    with pytest.raises(UsageError, match=message):
        Nes2NetX(n_layers=1, dim=DIM, **hyper_parameters)
