import numpy as np
import pytest
import torch

from extractors.sinc import SincAASIST, SincRawNet2

pytestmark = pytest.mark.usefixtures("one_thread")


def reference_filters(n_filters: int, n_taps: int, sample_rate: int = 16000) -> np.ndarray:
    """The mel-spaced Hamming-windowed sinc band-pass bank written out with NumPy."""
    mel = lambda hz: 2595 * np.log10(1 + hz / 700)
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = hz(np.linspace(mel(0.0), mel(sample_rate / 2), n_filters + 1))
    n = np.arange(n_taps) - (n_taps - 1) / 2
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        ideal = 2 * high / sample_rate * np.sinc(2 * high * n / sample_rate) - 2 * low / sample_rate * np.sinc(2 * low * n / sample_rate)
        rows.append(np.hamming(n_taps) * ideal)
    return np.stack(rows)


@pytest.mark.parametrize("front_end, n_filters, n_taps", [(SincAASIST, 70, 129), (SincRawNet2, 20, 1025)])
def test_published_filter_banks_are_the_mel_spaced_windowed_sinc_formula(front_end, n_filters, n_taps):
    extractor = front_end()
    filters = extractor.current_filters()
    assert filters.shape == (n_filters, 1, n_taps)
    assert (extractor.dim, extractor.n_layers, extractor.min_samples) == (n_filters, 1, n_taps)
    np.testing.assert_allclose(filters[:, 0].numpy(), reference_filters(n_filters, n_taps), atol=1e-7)
    assert sum(p.numel() for p in extractor.parameters()) == 0
    assert extractor.state_dict() == {}  # nothing to save: the bank is rebuilt from its settings


def test_output_is_the_convolution_at_every_sample_with_the_filter_inside_the_utterance():
    extractor = SincAASIST()
    wave = torch.randn(1, 400)
    hidden, frame_lengths = extractor(wave, torch.tensor([400]))
    assert hidden.shape == (1, 1, 400 - 128, 70)
    assert frame_lengths.tolist() == [272]
    taps = extractor.current_filters()[5, 0]
    expected = torch.stack([(wave[0, t : t + 129] * taps).sum() for t in (0, 100, 271)])
    torch.testing.assert_close(hidden[0, 0, [0, 100, 271], 5], expected, atol=1e-5, rtol=1e-5)


def test_a_tone_comes_out_of_the_filter_whose_band_holds_it():
    extractor = SincAASIST()
    edges = np.linspace(0, 2595 * np.log10(1 + 8000 / 700), 71)
    centre = 700 * (10 ** (((edges[40] + edges[41]) / 2) / 2595) - 1)
    tone = torch.sin(2 * torch.pi * centre * torch.arange(16000) / 16000).unsqueeze(0)
    hidden, _ = extractor(tone, torch.tensor([16000]))
    energy = hidden[0, 0].square().mean(dim=0)
    assert energy.argmax().item() == 40
    assert energy[40] > 10 * energy[[38, 42]].max()


def test_padding_never_reaches_a_valid_frame():
    extractor = SincRawNet2()
    wave = torch.randn(1, 3000)
    alone, alone_lengths = extractor(wave, torch.tensor([3000]))
    batch = torch.cat([torch.cat([wave, torch.full((1, 500), 1e6)], dim=1), torch.randn(1, 3500)])
    together, lengths = extractor(batch, torch.tensor([3000, 3500]))
    assert lengths.tolist() == [3000 - 1024, 3500 - 1024] and alone_lengths.tolist() == [1976]
    torch.testing.assert_close(together[:1, :, :1976], alone, atol=1e-4, rtol=1e-5)


def test_shorter_than_one_filter_gives_no_valid_frame():
    hidden, frame_lengths = SincAASIST()(torch.randn(2, 50), torch.tensor([50, 20]))
    assert frame_lengths.tolist() == [0, 0]
    assert hidden.shape[:2] == (2, 1) and hidden.shape[3] == 70


def test_learnable_filters_start_at_the_mel_bank_and_learn_their_band_edges():
    fixed, learnable = SincAASIST(), SincAASIST(learnable_filters=True)
    assert [p.numel() for p in learnable.parameters()] == [70]  # one width per band
    torch.testing.assert_close(learnable.current_filters(), fixed.current_filters(), atol=1e-6, rtol=1e-4)
    hidden, _ = learnable(torch.randn(2, 1000), torch.tensor([1000, 800]))
    hidden.square().mean().backward()
    assert learnable.log_width_scales.grad.abs().min() > 0
