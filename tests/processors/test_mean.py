import torch

from common import PROCESSORS


def test_mean_is_the_mean_over_valid_frames_and_layers():
    hidden = torch.randn(2, 3, 10, 4)
    frame_lengths = torch.tensor([10, 6])
    pooled = PROCESSORS["Mean"](n_layers=3, dim=4)(hidden, frame_lengths)
    assert pooled.shape == (2, 4)
    torch.testing.assert_close(pooled[0], hidden[0].reshape(-1, 4).mean(0))
    torch.testing.assert_close(pooled[1], hidden[1, :, :6].reshape(-1, 4).mean(0))


def test_mean_ignores_padding_even_when_it_is_not_finite():
    hidden = torch.randn(1, 2, 5, 3)
    padded = torch.cat([hidden, torch.full((1, 2, 4, 3), float("inf"))], dim=2)
    processor = PROCESSORS["Mean"](n_layers=2, dim=3)
    torch.testing.assert_close(processor(padded, torch.tensor([5])), processor(hidden, torch.tensor([5])))
    assert processor.out_dim == 3
