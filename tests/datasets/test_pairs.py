"""PairDataset: a bona fide reference of the same speaker per utterance, its fallbacks, its
determinism, limit(), and the reference waves in items and batches."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from conventions import BONAFIDE, SPOOF, UsageError
from datasets.base import AudioDataset, PairDataset, Utterance, collate_batch


class InMemory(AudioDataset):
    """Wave of `source` samples, all equal to the utterance's number."""

    def read_wave(self, utterance):
        return np.full(utterance.source, float(utterance.utt_id.split("_")[-1]), dtype=np.float32)


class InMemoryPairs(PairDataset, InMemory):
    pass


def corpus() -> list[Utterance]:
    """Speaker A: 4 bona fide and 4 spoof; B: 1 bona fide and 2 spoof; C: spoof only; one speakerless spoof."""
    rows = [("A", BONAFIDE)] * 4 + [("A", SPOOF)] * 4 + [("B", BONAFIDE)] + [("B", SPOOF)] * 2
    rows += [("C", SPOOF)] * 2 + [(None, SPOOF)]
    return [
        Utterance(f"u_{i}", label, speaker, None if label == BONAFIDE else "A01", 100 + 10 * i)
        for i, (speaker, label) in enumerate(rows)
    ]


def references(dataset) -> dict[str, Utterance]:
    return {u.utt_id: r for u, r in zip(dataset.utterances, dataset.references)}


def test_references_are_bona_fide_utterances_of_the_same_speaker_never_itself():
    dataset = InMemoryPairs(corpus())
    for utterance, reference in zip(dataset.utterances, dataset.references):
        assert reference.label == BONAFIDE and reference.utt_id != utterance.utt_id
        if utterance.speaker == "A" or (utterance.speaker == "B" and utterance.label == SPOOF):
            assert reference.speaker == utterance.speaker
    chosen = {r.utt_id for u, r in zip(dataset.utterances, dataset.references) if u.speaker == "A"}
    assert len(chosen) > 1  # not always the same one


def test_a_speakers_only_bona_fide_utterance_gets_another_speakers_not_itself():
    dataset = InMemoryPairs(corpus())
    assert references(dataset)["u_8"].speaker == "A"  # B's only bona fide utterance: compared with itself
    assert dataset.pair_self_references == 0  # it would show a zero difference, giving its label away


def test_the_splits_only_bona_fide_utterance_is_its_own_reference():
    only = Utterance("u_0", BONAFIDE, "A", None, 100)
    dataset = InMemoryPairs([only, Utterance("u_1", SPOOF, "A", "A01", 100)])
    assert [r.utt_id for r in dataset.references] == ["u_0", "u_0"] and dataset.pair_self_references == 1


def test_speakers_without_bona_fide_fall_back_to_the_whole_split_and_are_counted():
    dataset = InMemoryPairs(corpus())
    bonafide = {u.utt_id for u in dataset.utterances if u.label == BONAFIDE}
    for utt_id in ("u_11", "u_12", "u_13"):  # speaker C (no bona fide) and the speakerless one
        assert references(dataset)[utt_id].utt_id in bonafide
    assert dataset.pair_fallbacks == 4  # and B's only bona fide utterance
    assert "4 with one from the whole split" in dataset.pair_summary()


def test_the_choice_is_a_function_of_seed_and_utt_id():
    first = references(InMemoryPairs(corpus()))
    shuffled = corpus()
    random.Random(0).shuffle(shuffled)
    assert references(InMemoryPairs(shuffled)) == first  # not of the order of the utterances
    seeds = [references(InMemoryPairs(corpus(), pair_seed=seed)) for seed in range(1, 6)]
    assert any(other != first for other in seeds)  # the seed matters
    dataset = InMemoryPairs(corpus(), pair_seed=3)
    dataset.choose_references(seed=0)
    assert references(dataset) == first


def test_references_are_the_same_in_every_epoch():
    dataset = InMemoryPairs(corpus())
    dataset.configure_training(50, None, seed=1)
    before = [dataset[i]["ref_utt_id"] for i in range(len(dataset))]
    dataset.set_epoch(5)
    assert [dataset[i]["ref_utt_id"] for i in range(len(dataset))] == before


def test_limit_keeps_references_among_the_kept_utterances():
    rows = [Utterance(f"u_{i}", BONAFIDE if i % 4 == 0 else SPOOF, f"S{i % 3}", None if i % 4 == 0 else "A01", 50) for i in range(120)]
    dataset = InMemoryPairs(rows)
    dataset.limit(30, seed=2)
    kept = {u.utt_id for u in dataset.utterances}
    assert len(dataset.references) == len(dataset) == 30
    for utterance, reference in zip(dataset.utterances, dataset.references):
        assert reference.utt_id in kept and reference.label == BONAFIDE
    by_speaker = {}
    for u in dataset.utterances:
        if u.label == BONAFIDE:
            by_speaker.setdefault(u.speaker, []).append(u.utt_id)
    for utterance, reference in zip(dataset.utterances, dataset.references):
        others = [b for b in by_speaker.get(utterance.speaker, []) if b != utterance.utt_id]
        if others:
            assert reference.speaker == utterance.speaker and reference.utt_id != utterance.utt_id


def test_a_split_without_bona_fide_cannot_be_paired():
    with pytest.raises(UsageError, match="no bona fide"):
        InMemoryPairs([Utterance("u_1", SPOOF, "A", "A01", 10)])


def test_items_and_batches_carry_the_reference():
    dataset = InMemoryPairs(corpus())
    item = dataset[4]  # a spoof of A
    reference = dataset.references[4]
    assert set(item) == {"utt_id", "wave", "label", "speaker", "attack", "ref_wave", "ref_utt_id"}
    assert item["ref_wave"].dtype == torch.float32 and item["ref_wave"].numel() == reference.source
    assert float(item["ref_wave"][0]) == float(reference.utt_id.split("_")[1])
    batch = collate_batch([dataset[i] for i in (0, 4, 9)])
    lengths = [dataset.references[i].source for i in (0, 4, 9)]
    assert batch.ref_wave.shape == (3, max(lengths)) and batch.ref_lengths.tolist() == lengths
    assert batch.ref_utt_ids == [dataset.references[i].utt_id for i in (0, 4, 9)]
    assert lengths[0] < lengths[2] == 180  # u_9's reference is u_8, B's only bona fide utterance
    assert batch.ref_wave[0, lengths[0] :].abs().sum() == 0 and batch.ref_wave[0, : lengths[0]].abs().min() > 0
    assert batch.to("cpu").ref_wave is batch.ref_wave


def test_single_batches_have_no_reference():
    assert InMemoryPairs.pairs and not InMemory.pairs  # readable on the class, before construction
    dataset = InMemory(corpus())
    batch = collate_batch([dataset[0], dataset[1]])
    assert batch.ref_wave is None and batch.ref_lengths is None and batch.ref_utt_ids is None


def test_the_reference_is_cropped_like_the_test_wave_but_not_augmented():
    dataset = InMemoryPairs(corpus())

    def add_thousand(wave, rng):
        return wave + 1000

    dataset.configure_training(120, add_thousand, seed=0)
    item = dataset[4]
    assert item["wave"].numel() == item["ref_wave"].numel() == 120
    assert float(item["wave"].min()) >= 1000  # augmented
    assert float(item["ref_wave"].max()) < 1000  # not augmented
    batches = list(DataLoader(dataset, batch_size=4, collate_fn=collate_batch, num_workers=2))
    assert all(b.ref_wave.shape[1] == 120 for b in batches)
    torch.testing.assert_close(batches[1].ref_wave[0], item["ref_wave"])


def test_synthetic_pair(data_root):
    from common import DATASETS as CORPUS_DATASETS

    dataset = CORPUS_DATASETS["Synthetic_pair"]("dev", data_root)
    assert dataset.pair_fallbacks == 0
    for utterance, reference in zip(dataset.utterances, dataset.references):
        assert reference.label == BONAFIDE and reference.speaker == utterance.speaker and reference.utt_id != utterance.utt_id
    item = dataset[0]
    assert item["ref_wave"].numel() == reference_length(dataset, 0)


def reference_length(dataset, index: int) -> int:
    start, end = dataset.references[index].source
    return end - start
