import pytest
import torch

from conventions import UsageError
from processors.lcnn import LCNN

pytestmark = pytest.mark.usefixtures("one_thread")

DIM = 40  # 40 // 16 = 2 frequency rows after the pools
TINY = {"channels": 4}


def stack(n_frames: int, batch: int = 2, n_layers: int = 1, dim: int = DIM, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, n_layers, n_frames, dim, generator=torch.Generator().manual_seed(seed))


def pad_with(hidden: torch.Tensor, n_frames: int, value: float) -> torch.Tensor:
    """hidden [B, L, T', D] extended to T' + n_frames frames holding `value`."""
    return torch.cat([hidden, hidden.new_full((*hidden.shape[:2], n_frames, hidden.shape[3]), value)], dim=2)


def mfm_conv_parameters(in_channels: int, out_channels: int, kernel: int) -> int:
    """A convolution to 2·out channels (weights and biases) ahead of the max-feature-map."""
    return in_channels * 2 * out_channels * kernel**2 + 2 * out_channels


def blstm_parameters(width: int, layers: int = 2) -> int:
    """`layers` BLSTM layers of width (2 directions × width/2 units) on inputs of that width."""
    units = width // 2
    return layers * 2 * (4 * units * (width + units) + 8 * units)


def test_parameter_count_at_the_reference_defaults():
    """The baseline on 60 LFCC values: nine MFM convolutions, BatchNorms without parameters, two BLSTMs of
    width (60 // 16) · 32 = 96; the reference's output layer is Linear(96, 1), the pipeline's Linear(96, 2)."""
    processor = LCNN(n_layers=1, dim=60)
    convolutions = [
        (1, 32, 5), (32, 32, 1), (32, 48, 3), (48, 48, 1), (48, 64, 3), (64, 64, 1), (64, 32, 3), (32, 32, 1), (32, 32, 3)
    ]
    expected = sum(mfm_conv_parameters(*sizes) for sizes in convolutions) + blstm_parameters(96)
    count = sum(p.numel() for p in processor.parameters())
    assert processor.out_dim == 96
    assert count == expected == 269_632
    assert count + 96 * 1 + 1 == 269_729  # the reference model, with its Linear(96, 1)
    assert count + 96 * 2 + 2 == 269_826  # ours, with the Linear(96, 2) classifier


@pytest.mark.parametrize("dim, channels", [(16, 4), (DIM, 4), (60, 6), (257, 2)])
@pytest.mark.parametrize("n_layers", [1, 3])
def test_output_is_batch_by_frequency_rows_times_channels(dim, channels, n_layers):
    torch.manual_seed(0)
    processor = LCNN(n_layers=n_layers, dim=dim, channels=channels)
    output = processor(stack(40, n_layers=n_layers, dim=dim), torch.tensor([40, 33]))
    assert processor.out_dim == (dim // 16) * channels
    assert output.shape == (2, processor.out_dim)
    assert torch.isfinite(output).all()


def test_time_is_the_image_height_and_the_pools_floor_the_lengths():
    processor = LCNN(n_layers=1, dim=DIM, **TINY).eval()
    frame_lengths = torch.tensor([1, 15, 16, 31, 32, 47, 70])
    features, lengths = processor.feature_map(stack(70, batch=7), frame_lengths)
    assert features.shape == (7, 70 // 16, processor.out_dim)
    assert lengths.tolist() == [max(n, 16) // 16 for n in frame_lengths.tolist()]


def test_output_is_the_mean_over_valid_pooled_frames_of_the_features_plus_their_blstm():
    torch.manual_seed(0)
    processor = LCNN(n_layers=1, dim=DIM, **TINY).eval()
    hidden, frame_lengths = stack(70), torch.tensor([70, 37])
    with torch.no_grad():
        features, lengths = processor.feature_map(hidden, frame_lengths)
        expected = torch.stack(
            [
                (features[b, :n] + processor.blstm(features[b : b + 1, :n])[0][0]).mean(dim=0)
                for b, n in enumerate(lengths.tolist())
            ]
        )
        output = processor(hidden, frame_lengths)
    assert lengths.tolist() == [4, 2]
    torch.testing.assert_close(output, expected)
    assert not torch.allclose(output, torch.stack([features[b, :n].mean(dim=0) for b, n in enumerate(lengths.tolist())]))


def test_only_the_last_layer_of_the_stack_is_read():
    torch.manual_seed(0)
    processor = LCNN(n_layers=3, dim=DIM, **TINY).eval()
    hidden, frame_lengths = stack(40, n_layers=3), torch.tensor([40, 29])
    changed = hidden.clone()
    changed[:, :2] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(processor(changed, frame_lengths), processor(hidden, frame_lengths))
        changed[:, 2] += 1.0
        assert not torch.allclose(processor(changed, frame_lengths), processor(hidden, frame_lengths))


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_padding_content_and_amount_do_not_change_the_output(train):
    """Training mode too: the BatchNorm statistics are taken over valid frames (no dropout here)."""
    torch.manual_seed(0)
    processor = LCNN(n_layers=1, dim=DIM, channels=4, cnn_dropout=0.0).train(train)
    hidden, frame_lengths = stack(50), torch.tensor([50, 37])
    garbage = hidden.clone()
    garbage[1, :, 37:] = float("nan")
    with torch.no_grad():
        reference = processor(hidden, frame_lengths)
        padded = processor(pad_with(garbage, 30, float("inf")), frame_lengths)
        assert not torch.allclose(processor(hidden, torch.tensor([50, 45])), reference)
    torch.testing.assert_close(padded, reference, rtol=0, atol=1e-5)


@pytest.mark.parametrize("length", [5, 37, 63])
def test_an_utterance_alone_equals_it_in_a_padded_batch(length):
    torch.manual_seed(0)
    processor = LCNN(n_layers=1, dim=DIM, **TINY).eval()
    hidden, frame_lengths = stack(80), torch.tensor([80, length])
    with torch.no_grad():
        in_batch = processor(hidden, frame_lengths)[1]
        alone = processor(hidden[1:, :, :length], frame_lengths[1:])[0]
    torch.testing.assert_close(alone, in_batch, rtol=0, atol=1e-5)


def test_padding_gets_no_gradient_and_no_nan():
    torch.manual_seed(0)
    processor = LCNN(n_layers=2, dim=DIM, **TINY).train()
    hidden = pad_with(stack(40, n_layers=2), 12, float("nan")).requires_grad_()
    processor(hidden, torch.tensor([40, 23])).sum().backward()
    assert torch.isfinite(hidden.grad).all()
    assert hidden.grad[:, :, 40:].abs().sum() == 0 and hidden.grad[1, :, 23:].abs().sum() == 0
    assert hidden.grad[1, 1, :23].abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in processor.parameters())


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    processor = LCNN(n_layers=1, dim=DIM, **TINY).train()
    processor(stack(48), torch.tensor([48, 35])).square().sum().backward()
    without_gradient = [name for name, p in processor.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert without_gradient == []
    assert len(list(processor.parameters())) == 9 * 2 + 2 * 2 * 4  # conv weights and biases, 4 tensors per LSTM direction


@pytest.mark.parametrize("n_frames", [1, 2, 5, 15, 16, 17])
def test_short_utterances_work_in_training_and_eval_mode(n_frames):
    torch.manual_seed(0)
    processor = LCNN(n_layers=1, dim=DIM, **TINY)
    for train in (True, False):
        processor.train(train)
        output = processor(stack(n_frames, batch=1), torch.tensor([n_frames]))
        assert output.shape == (1, processor.out_dim)
        assert torch.isfinite(output).all()


def test_sizes_the_pools_cannot_take_are_refused():
    with pytest.raises(UsageError, match="at least 16"):
        LCNN(n_layers=1, dim=15)
    with pytest.raises(UsageError, match="--channels 5 must be even"):
        LCNN(n_layers=1, dim=DIM, channels=5)


def test_dropout_is_the_reference_rate_and_acts_only_in_training():
    torch.manual_seed(0)
    assert LCNN(n_layers=1, dim=60).dropout.p == 0.7
    hidden, frame_lengths = stack(48), torch.tensor([48, 40])
    with torch.no_grad():
        processor = LCNN(n_layers=1, dim=DIM, **TINY).eval()
        torch.testing.assert_close(processor(hidden, frame_lengths), processor(hidden, frame_lengths), rtol=0, atol=0)
        processor.train()
        assert not torch.equal(processor(hidden, frame_lengths), processor(hidden, frame_lengths))
        without_dropout = LCNN(n_layers=1, dim=DIM, channels=4, cnn_dropout=0.0).train()
        torch.testing.assert_close(without_dropout(hidden, frame_lengths), without_dropout(hidden, frame_lengths))
