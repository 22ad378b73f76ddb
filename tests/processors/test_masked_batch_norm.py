import pytest
import torch
from torch import nn

from processors.masked_batch_norm import MaskedBatchNorm


def valid_frames_side_by_side(x: torch.Tensor, frame_lengths: list[int]) -> torch.Tensor:
    """[1, C, sum(lengths), ...]: each utterance's valid frames of x [B, C, T', ...] laid end to end."""
    return torch.cat([x[b, :, :n] for b, n in enumerate(frame_lengths)], dim=1).unsqueeze(0)


@pytest.mark.parametrize("trailing", [(), (3,)], ids=["[B, C, T]", "[B, C, T, F]"])
@pytest.mark.parametrize("affine", [True, False])
def test_training_is_batch_norm_over_the_valid_frames_alone_and_padding_comes_out_zero(trailing, affine):
    torch.manual_seed(0)
    frame_lengths = [9, 4, 1]
    x = torch.randn(3, 5, 9, *trailing) * 2 + 3
    x[1, :, 4:] = float("nan")
    x[2, :, 1:] = float("inf")
    valid = torch.arange(9) < torch.tensor(frame_lengths)[:, None]
    masked, plain = MaskedBatchNorm(5, affine=affine), (nn.BatchNorm2d if trailing else nn.BatchNorm1d)(5, affine=affine)
    if affine:
        with torch.no_grad():
            masked.weight.uniform_(0.5, 2.0)
            masked.bias.uniform_(-1.0, 1.0)
    plain.load_state_dict(masked.state_dict())
    output = masked(x, valid)
    torch.testing.assert_close(valid_frames_side_by_side(output, frame_lengths), plain(valid_frames_side_by_side(x, frame_lengths)))
    assert (output[1, :, 4:] == 0).all() and (output[2, :, 1:] == 0).all()
    for name, value in plain.state_dict().items():
        torch.testing.assert_close(masked.state_dict()[name], value, msg=name)
    masked.eval(), plain.eval()
    torch.testing.assert_close(masked(x, valid)[:1], plain(x[:1]))
    assert (masked(x, valid)[1, :, 4:] == 0).all()


def test_without_a_mask_it_is_batch_norm_with_its_names_in_training_and_eval():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 7)
    masked, plain = MaskedBatchNorm(3, momentum=None), nn.BatchNorm1d(3, momentum=None)
    for _ in range(3):  # momentum None: the cumulative average of the batches
        torch.testing.assert_close(masked(x * 2 + 1), plain(x * 2 + 1))
    assert masked.state_dict().keys() == plain.state_dict().keys()
    for name, value in plain.state_dict().items():
        torch.testing.assert_close(masked.state_dict()[name], value, msg=name)
    masked.eval(), plain.eval()
    torch.testing.assert_close(masked(x), plain(x))


def test_one_channel_over_channel_last_tokens_pools_every_value_of_the_valid_tokens():
    """[B, 1, N, E] with valid [B, N]: one mean and variance over all values of the valid tokens."""
    x = torch.randn(2, 1, 6, 4, dtype=torch.float64)
    valid = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    norm = MaskedBatchNorm(1).double()
    values = x[:, 0][valid]  # [10, 4]
    output = norm(x, valid)
    expected = (values - values.mean()) / torch.sqrt(values.var(unbiased=False) + norm.eps)
    torch.testing.assert_close(output[:, 0][valid], expected)
    torch.testing.assert_close(norm.running_var, 0.9 + 0.1 * values.var(unbiased=True).reshape(1))


def test_a_single_value_per_channel_trains_to_the_bias():
    norm = MaskedBatchNorm(2)
    with torch.no_grad():
        norm.bias.copy_(torch.tensor([0.5, -1.0]))
    output = norm(torch.randn(1, 2, 3), torch.tensor([[True, False, False]]))
    torch.testing.assert_close(output[0, :, 0], norm.bias.detach())


@pytest.mark.parametrize("offset", [0.0, 300.0])
def test_half_precision_inputs_are_normalised_as_precisely_as_batch_norm(offset):
    """bf16 in, bf16 out, no further from the float64 normalisation than torch's BatchNorm on the
    valid frames (which computes in float32 inside)."""
    torch.manual_seed(0)
    x = (torch.randn(2, 3, 512) + offset).to(torch.bfloat16)
    valid = torch.ones(2, 512, dtype=torch.bool)
    valid[1, 300:] = False
    output = MaskedBatchNorm(3).to(torch.bfloat16)(x, valid)
    assert output.dtype == torch.bfloat16
    frames = valid_frames_side_by_side(x, [512, 300]).double()
    reference = (frames - frames.mean(dim=(0, 2), keepdim=True)) / frames.var(dim=(0, 2), unbiased=False, keepdim=True).add(1e-5).sqrt()
    torch_error = (nn.BatchNorm1d(3).to(torch.bfloat16)(frames.to(torch.bfloat16)).double() - reference).abs().max()
    ours_error = (valid_frames_side_by_side(output, [512, 300]).double() - reference).abs().max()
    assert ours_error <= torch_error + 1e-3, (ours_error, torch_error)
