import pytest
import torch
import torchaudio

from common import EXTRACTORS
from conventions import SAMPLE_RATE
from extractors.spectral import HOP_LENGTH, N_FFT, deltas, valid_frames


def waves_and_lengths(lengths, seed=0):
    generator = torch.Generator().manual_seed(seed)
    wave = torch.zeros(len(lengths), max(lengths))
    for row, length in enumerate(lengths):
        wave[row, :length] = 0.1 * torch.randn(length, generator=generator)
    return wave, torch.tensor(lengths)


@pytest.mark.parametrize("name,dim", [("LFCC", 60), ("MFCC", 60), ("LogSpec", 257)])
def test_layer_stack_shape_and_frame_lengths(name, dim):
    extractor = EXTRACTORS[name]()
    wave, lengths = waves_and_lengths([16000, 8000, 12345])
    hidden, frame_lengths = extractor(wave, lengths)
    assert extractor.n_layers == 1 and extractor.dim == dim
    assert hidden.shape == (3, 1, (16000 - N_FFT) // HOP_LENGTH + 1, dim)
    assert frame_lengths.tolist() == [(n - N_FFT) // HOP_LENGTH + 1 for n in (16000, 8000, 12345)]
    assert torch.isfinite(hidden).all()


def test_valid_frames_lie_inside_the_utterance():
    lengths = torch.tensor([N_FFT - 1, N_FFT, N_FFT + HOP_LENGTH - 1, N_FFT + HOP_LENGTH, 16000])
    frames = valid_frames(lengths)
    assert frames.tolist() == [0, 1, 1, 2, 97]
    # the last valid frame ends inside the utterance, the next one would not
    assert ((frames - 1) * HOP_LENGTH + N_FFT <= lengths).all()
    assert (frames * HOP_LENGTH + N_FFT > lengths).all()


@pytest.mark.parametrize("name", ["LFCC", "MFCC", "LogSpec"])
def test_padding_never_changes_valid_frames(name):
    extractor = EXTRACTORS[name]()
    wave, lengths = waves_and_lengths([16000, 7000])
    batched, frame_lengths = extractor(wave, lengths)
    for row in range(2):
        alone, alone_frames = extractor(wave[row : row + 1, : lengths[row]], lengths[row : row + 1])
        assert alone_frames.item() == frame_lengths[row].item()
        valid = frame_lengths[row]
        torch.testing.assert_close(batched[row, :, :valid], alone[0], rtol=1e-4, atol=1e-4)


def test_deltas_equal_torchaudio_on_an_unpadded_utterance():
    features = torch.randn(1, 50, 7)
    expected = torchaudio.functional.compute_deltas(features.transpose(1, 2), win_length=5).transpose(1, 2)
    torch.testing.assert_close(deltas(features, torch.tensor([50])), expected)


def test_deltas_ignore_padding_frames():
    features = torch.randn(1, 30, 4)
    padded = torch.cat([features, 1000 * torch.randn(1, 10, 4)], dim=1)
    torch.testing.assert_close(deltas(padded, torch.tensor([30]))[:, :30], deltas(features, torch.tensor([30])))


def test_lfcc_is_the_baseline_recipe_written_out():
    """Pre-emphasis 0.97, |STFT|² with a 320-sample Hann window in 512 points, hop 160,
    20 linear triangular filters, natural log, orthonormal DCT-II to 20 cepstra; then Δ, ΔΔ."""
    wave, lengths = waves_and_lengths([8000])
    emphasised = torch.cat([wave[:, :1], wave[:, 1:] - 0.97 * wave[:, :-1]], dim=1)
    window = torch.zeros(N_FFT)
    window[(N_FFT - 320) // 2 : (N_FFT - 320) // 2 + 320] = torch.hann_window(320)
    frames = emphasised[0].unfold(0, N_FFT, HOP_LENGTH) * window
    power = torch.fft.rfft(frames).abs() ** 2
    filters = torchaudio.functional.linear_fbanks(N_FFT // 2 + 1, 0.0, SAMPLE_RATE / 2, 20, SAMPLE_RATE)
    log_energies = torch.log(power @ filters + 1e-6)
    n = torch.arange(20.0)
    dct = torch.cos(torch.pi / 20 * (n[None, :] + 0.5) * n[:, None]) * (2 / 20) ** 0.5
    dct[0] /= 2**0.5
    cepstra = log_energies @ dct.T
    hidden, _ = EXTRACTORS["LFCC"]()(wave, lengths)
    torch.testing.assert_close(hidden[0, 0, :, :20], cepstra, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", ["LFCC", "MFCC", "LogSpec"])
def test_a_batch_shorter_than_one_frame_has_no_valid_frame(name):
    hidden, frame_lengths = EXTRACTORS[name]()(*waves_and_lengths([300, 100]))
    assert frame_lengths.tolist() == [0, 0] and hidden.shape[2] == 1
