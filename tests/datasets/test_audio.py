"""read_audio (16 kHz mono float32, BadAudioError), on_bad_audio through a DataLoader, and the
training-time crop/pad/augmentation of configure_training."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile
import torch
from torch.utils.data import DataLoader

from conventions import BONAFIDE, SAMPLE_RATE, SPOOF
from datasets.audio import BadAudioError, read_audio
from datasets.base import AudioDataset, SkippedItem, Utterance, collate_batch
from datasets.corpus import FileDataset


def sine(frequency: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def peak_frequency(wave: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1 / rate)[np.argmax(spectrum)])


# ----- read_audio -----


def test_a_16k_mono_flac_is_read_as_it_is(tmp_path):
    wave = sine(440, 0.5, SAMPLE_RATE)
    soundfile.write(tmp_path / "a.flac", wave, SAMPLE_RATE)
    read = read_audio(tmp_path / "a.flac")
    assert read.dtype == np.float32 and read.shape == wave.shape
    np.testing.assert_allclose(read, wave, atol=1e-4)


@pytest.mark.parametrize("rate", [22050, 8000, 44100])
def test_other_rates_are_resampled_to_16k(tmp_path, rate):
    soundfile.write(tmp_path / "a.flac", sine(1000, 1.0, rate), rate)
    read = read_audio(tmp_path / "a.flac")
    assert read.dtype == np.float32 and read.ndim == 1
    assert abs(len(read) - SAMPLE_RATE) <= 1  # one second at 16 kHz
    assert abs(peak_frequency(read, SAMPLE_RATE) - 1000) < 3  # unresampled, 1 kHz would read as 1000 * 16000 / rate


def test_channels_are_averaged(tmp_path):
    left, right = sine(300, 0.25, SAMPLE_RATE), sine(700, 0.25, SAMPLE_RATE) * 0.5
    soundfile.write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), SAMPLE_RATE, subtype="FLOAT")
    read = read_audio(tmp_path / "stereo.wav")
    assert read.shape == left.shape
    np.testing.assert_allclose(read, (left + right) / 2, atol=1e-6)


def test_stereo_at_22k_is_mixed_down_and_resampled(tmp_path):
    stereo = np.stack([sine(500, 1.0, 22050), sine(500, 1.0, 22050)], axis=1)
    soundfile.write(tmp_path / "a.flac", stereo, 22050)
    read = read_audio(tmp_path / "a.flac")
    assert read.ndim == 1 and abs(len(read) - SAMPLE_RATE) <= 1
    assert abs(peak_frequency(read, SAMPLE_RATE) - 500) < 3


def test_a_corrupt_file_is_a_bad_audio_error_naming_it(tmp_path):
    path = tmp_path / "corrupt.flac"
    path.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    with pytest.raises(BadAudioError, match="corrupt") as caught:
        read_audio(path)
    assert str(path) in str(caught.value) and caught.value.path == str(path)
    assert "\n" not in str(caught.value)


def test_a_truncated_flac_is_a_bad_audio_error(tmp_path):
    soundfile.write(tmp_path / "whole.flac", sine(440, 1.0, SAMPLE_RATE), SAMPLE_RATE)
    data = (tmp_path / "whole.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[:30])  # inside the header
    with pytest.raises(BadAudioError, match="cut.flac"):
        read_audio(tmp_path / "cut.flac")


def test_an_empty_file_is_a_bad_audio_error(tmp_path):
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(BadAudioError, match="empty"):
        read_audio(tmp_path / "empty.wav")


def test_non_finite_samples_are_a_bad_audio_error(tmp_path):
    wave = sine(440, 0.1, SAMPLE_RATE)
    wave[10] = np.nan
    soundfile.write(tmp_path / "nan.wav", wave, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(BadAudioError, match="non-finite"):
        read_audio(tmp_path / "nan.wav")


def test_a_missing_file_is_a_bad_audio_error(tmp_path):
    with pytest.raises(BadAudioError, match="missing"):
        read_audio(tmp_path / "nowhere.flac")


def test_bad_audio_error_survives_pickling_and_one_argument_construction():
    error = pickle.loads(pickle.dumps(BadAudioError("/x/a.flac", "empty (no samples)")))
    assert (error.path, error.reason, str(error)) == ("/x/a.flac", "empty (no samples)", "bad audio file /x/a.flac: empty (no samples)")
    assert str(BadAudioError("a whole message")) == "a whole message"


# ----- on_bad_audio through a DataLoader -----


@pytest.fixture
def files_with_a_bad_one(tmp_path):
    utterances = []
    for i in range(5):
        path = tmp_path / f"u{i}.flac"
        if i == 2:
            path.write_bytes(b"not audio at all")
        else:
            soundfile.write(path, sine(200 + 50 * i, 0.1 + 0.05 * i, SAMPLE_RATE), SAMPLE_RATE)
        utterances.append(Utterance(f"u{i}", BONAFIDE if i % 2 else SPOOF, "S", None if i % 2 else "A01", str(path)))
    return FileDataset(utterances, tmp_path / "protocol.txt")


def test_bad_audio_raises_by_default(files_with_a_bad_one):
    assert files_with_a_bad_one.on_bad_audio == "error"
    with pytest.raises(BadAudioError, match="u2.flac"):
        list(DataLoader(files_with_a_bad_one, batch_size=2, collate_fn=collate_batch))


def test_bad_audio_raises_from_a_worker_as_bad_audio_error(files_with_a_bad_one):
    with pytest.raises(BadAudioError, match="u2.flac"):
        list(DataLoader(files_with_a_bad_one, batch_size=2, collate_fn=collate_batch, num_workers=1))


@pytest.mark.parametrize("workers", [0, 2])
def test_skipped_items_are_dropped_and_listed(files_with_a_bad_one, workers):
    files_with_a_bad_one.on_bad_audio = "skip"
    assert isinstance(files_with_a_bad_one[2], SkippedItem)
    batches = list(DataLoader(files_with_a_bad_one, batch_size=2, collate_fn=collate_batch, num_workers=workers))
    assert [b.utt_ids for b in batches] == [["u0", "u1"], ["u3"], ["u4"]]
    assert [b.skipped for b in batches] == [[], ["u2"], []]
    second = batches[1]
    assert second.wave.shape == (1, int(0.25 * SAMPLE_RATE)) and second.labels.tolist() == [BONAFIDE]


def test_a_batch_of_skipped_items_only_has_zero_rows(files_with_a_bad_one):
    files_with_a_bad_one.on_bad_audio = "skip"
    batch = collate_batch([files_with_a_bad_one[2]])
    assert batch.wave.shape == (0, 0) and batch.lengths.shape == (0,) and batch.labels.shape == (0,)
    assert batch.utt_ids == [] and batch.skipped == ["u2"] and batch.ref_wave is None
    batch.to("cpu")


def test_on_bad_audio_refuses_other_modes(files_with_a_bad_one):
    with pytest.raises(ValueError, match="skip"):
        files_with_a_bad_one.on_bad_audio = "ignore"


# ----- configure_training: crops, repeat-padding, augmentation -----


class Ramp(AudioDataset):
    """Waves 0, 1, 2, ... of `source` samples: a crop's first sample is its start."""

    def read_wave(self, utterance):
        return np.arange(utterance.source, dtype=np.float32)


def ramps(*lengths: int) -> Ramp:
    return Ramp([Utterance(f"r{i}", BONAFIDE, "S", None, n) for i, n in enumerate(lengths)])


def add_one(wave, rng):
    return wave + 1


def first_samples(dataset: AudioDataset) -> list[float]:
    return [float(dataset[i]["wave"][0]) for i in range(len(dataset))]


def test_without_configure_training_waves_keep_their_length():
    dataset = ramps(1000, 10)
    assert [dataset[i]["wave"].numel() for i in range(2)] == [1000, 10]


def test_crops_repeat_under_seed_epoch_and_index():
    a, b = ramps(*[5000] * 8), ramps(*[5000] * 8)
    a.configure_training(100, None, seed=7)
    b.configure_training(100, None, seed=7)
    assert all(a[i]["wave"].numel() == 100 for i in range(8))
    assert first_samples(a) == first_samples(b)  # same seed, epoch and index
    assert first_samples(pickle.loads(pickle.dumps(a))) == first_samples(a)
    crops = first_samples(a)
    assert len(set(crops)) > 1  # indices of identical waves get different crops
    np.testing.assert_array_equal(a[3]["wave"].numpy(), np.arange(crops[3], crops[3] + 100))
    a.set_epoch(1)
    assert first_samples(a) != crops  # another epoch, other crops
    a.set_epoch(0)
    assert first_samples(a) == crops
    b.configure_training(100, None, seed=8)
    assert first_samples(b) != crops  # another seed, other crops


def test_short_waves_are_repeat_padded():
    dataset = ramps(3, 8)
    dataset.configure_training(8, None, seed=0)
    assert dataset[0]["wave"].tolist() == [0, 1, 2, 0, 1, 2, 0, 1]
    assert dataset[1]["wave"].tolist() == list(range(8))


def test_first_crops_take_the_start_of_every_wave_in_every_epoch():
    dataset = ramps(5000, 3000, 40)
    dataset.configure_training(100, None, seed=7, crop="first")
    for epoch in (0, 1):
        dataset.set_epoch(epoch)
        assert first_samples(dataset) == [0.0, 0.0, 0.0] and dataset[2]["wave"].tolist() == [*range(40), *range(40), *range(20)]
    assert dataset.fixed_length == 100


def test_scoring_uses_the_first_max_len_samples_repeat_padded():
    dataset = ramps(70000, 30)
    assert dataset.fixed_length is None
    dataset.configure_scoring(64600)
    assert [dataset[i]["wave"].numel() for i in range(2)] == [64600, 64600]
    np.testing.assert_array_equal(dataset[0]["wave"].numpy(), np.arange(64600))
    assert dataset[1]["wave"][:60].tolist() == [*range(30), *range(30)]


def test_lengths_come_without_changing_the_items():
    dataset = ramps(300, 12, 7000)
    assert dataset.lengths().tolist() == [300, 12, 7000]


def test_the_transform_runs_before_the_crop_with_the_item_rng():
    seen = []

    def double(wave, rng):
        seen.append(rng.random())
        return np.concatenate([wave, wave])

    dataset = ramps(60)
    dataset.configure_training(100, double, seed=3)
    wave = dataset[0]["wave"]
    assert wave.numel() == 100 and float(wave.max()) == 59  # cropped from the doubled 120 samples
    dataset[0]
    assert seen[0] == seen[1] == np.random.default_rng([3, 0, 0]).random()
    dataset.configure_training(None, add_one, seed=3)
    assert dataset[0]["wave"].tolist() == list(range(1, 61))  # no max_len: full length, transformed


def test_crops_are_the_same_in_dataloader_workers():
    dataset = ramps(*[3000] * 6)
    dataset.configure_training(50, add_one, seed=11)
    dataset.set_epoch(4)
    here = collate_batch([dataset[i] for i in range(6)])
    there = torch.cat([b.wave for b in DataLoader(dataset, batch_size=3, collate_fn=collate_batch, num_workers=2)])
    torch.testing.assert_close(here.wave, there)
