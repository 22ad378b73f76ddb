"""The built-in Synthetic corpus: composition, waves, protocol, trivial cues, caching and generation."""
from __future__ import annotations

import multiprocessing
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.synthetic import eer, trivial_cues
from conventions import BONAFIDE, SAMPLE_RATE, SPOOF
from datasets import synthetic
from datasets.synthetic import ATTACKS, SIZES, SPLITS, SyntheticDataset, corpus_directory, generate_corpus

SMALL = {"train": 12, "dev": 8, "eval": 15}  # utterances per split of the corpora generated here


@pytest.fixture(scope="module")
def corpus(data_root: Path) -> dict[str, SyntheticDataset]:
    """The default corpus, generated once per session under the shared data root."""
    return {split: SyntheticDataset(split, data_root) for split in SPLITS}


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def test_splits_have_their_sizes_speakers_and_attacks(corpus):
    speakers = {}
    for split, dataset in corpus.items():
        assert len(dataset) == SIZES[split]
        assert 0.1 <= np.mean(dataset.labels == BONAFIDE) <= 0.3
        attacks = {u.attack for u in dataset.utterances if u.label == SPOOF}
        assert attacks == {attack for attack, about in ATTACKS.items() if split in about["splits"]}
        assert all(u.attack is None for u in dataset.utterances if u.label == BONAFIDE)
        speakers[split] = {u.speaker for u in dataset.utterances}
    assert not speakers["train"] & speakers["dev"] and not speakers["train"] & speakers["eval"]
    assert not speakers["dev"] & speakers["eval"]
    seen = {u.attack for split in ("train", "dev") for u in corpus[split].utterances}
    assert {u.attack for u in corpus["eval"].utterances} - seen, "eval needs an attack unseen in train and dev"


def test_waves_are_1_to_4_seconds_of_16_bit_audio(corpus):
    for dataset in corpus.values():
        samples = np.array([end - start for start, end in (u.source for u in dataset.utterances)])
        assert samples.min() >= 1 * SAMPLE_RATE and samples.max() <= 4 * SAMPLE_RATE
    dataset = corpus["eval"]
    for utterance in dataset.utterances[:50]:
        wave = dataset.read_wave(utterance)
        assert wave.dtype == np.float32 and wave.ndim == 1
        assert -1 <= wave.min() and wave.max() < 1 and np.abs(wave).max() > 0.05
        assert np.array_equal(wave * 32768, np.round(wave * 32768))


def test_items_follow_the_dataset_contract(corpus):
    dataset = corpus["eval"]
    for index in (0, len(dataset) - 1):
        item = dataset[index]
        assert set(item) == {"utt_id", "wave", "label", "speaker", "attack"}
        assert isinstance(item["utt_id"], str) and isinstance(item["speaker"], str)
        assert isinstance(item["wave"], torch.Tensor) and item["wave"].dtype == torch.float32 and item["wave"].ndim == 1
        assert isinstance(item["label"], int) and item["label"] in (BONAFIDE, SPOOF)
        assert (item["attack"] is None) == (item["label"] == BONAFIDE)
        assert item["attack"] is None or item["attack"] in ATTACKS


def test_protocol_is_asvspoof_style(corpus):
    for split, dataset in corpus.items():
        lines = (dataset.directory / synthetic.PROTOCOL).read_text().splitlines()
        letter = split[0].upper()
        assert [line.split()[1] for line in lines] == [f"SYN_{letter}_{i:07d}" for i in range(1, len(lines) + 1)]
        for line in lines:
            assert re.fullmatch(r"SYN_\d{4} SYN_[TDE]_\d{7} - (-|A\d\d) (bonafide|spoof)", line)
            assert (line.split()[3] == "-") == line.endswith(" bonafide")


def test_trivial_cues_do_not_give_the_label_away(corpus):
    for split, dataset in corpus.items():
        for name, values in trivial_cues(dataset).items():
            assert 0.35 <= eer(values, dataset.labels) <= 0.65, (split, name)


def test_an_invalid_split_names_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="train, dev, eval"):
        SyntheticDataset("test", tmp_path)


def test_a_cached_corpus_is_reused(corpus, data_root, monkeypatch):
    audio = corpus["train"].directory / synthetic.AUDIO
    modified = audio.stat().st_mtime_ns

    def no_generation(*arguments):
        raise AssertionError("the cached corpus was generated again")

    monkeypatch.setattr(synthetic, "_write_corpus", no_generation)
    assert len(SyntheticDataset("train", data_root)) == SIZES["train"]
    assert audio.stat().st_mtime_ns == modified


def test_generation_is_deterministic_and_sized(tmp_path):
    first, second = generate_corpus(tmp_path / "a", SMALL), generate_corpus(tmp_path / "b", SMALL)
    assert first.name != synthetic.VERSION  # a smaller corpus never stands in for the default one
    assert files_of(first) == files_of(second)
    assert [len(synthetic.read_protocol(first / split)) for split in SPLITS] == list(SMALL.values())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_concurrent_generations_publish_one_complete_corpus(tmp_path):
    published = corpus_directory(tmp_path, SMALL)
    stale = published.parent / f".{published.name}-crashed"
    stale.mkdir(parents=True)  # left behind by a crashed run: ignored
    fork = multiprocessing.get_context("fork")
    runs = [fork.Process(target=generate_corpus, args=(tmp_path, SMALL)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    assert [run.exitcode for run in runs] == [0, 0]
    assert files_of(published) == files_of(generate_corpus(tmp_path / "reference", SMALL))
    assert sorted(path.name for path in published.parent.iterdir()) == sorted([stale.name, published.name])


def test_a_generation_that_loses_the_race_keeps_the_winner(tmp_path, monkeypatch):
    target = corpus_directory(tmp_path, SMALL)
    write_corpus = synthetic._write_corpus

    def racing(directory, sizes):
        write_corpus(directory, sizes)
        shutil.copytree(directory, target)  # another process publishes first
        (target / "winner").touch()

    monkeypatch.setattr(synthetic, "_write_corpus", racing)
    assert generate_corpus(tmp_path, SMALL) == target
    assert (target / "winner").exists()
    assert [path.name for path in target.parent.iterdir()] == [target.name]
