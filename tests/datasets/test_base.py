import numpy as np
import torch

from conventions import BONAFIDE, SPOOF
from datasets.base import AudioDataset, Utterance, collate_batch


class InMemory(AudioDataset):
    def read_wave(self, utterance):
        return np.full(utterance.source, 0.5, dtype=np.float32)


def corpus(n_bonafide, n_spoof):
    utterances = [Utterance(f"b{i}", BONAFIDE, "S1", None, 10 + i) for i in range(n_bonafide)]
    utterances += [Utterance(f"s{i}", SPOOF, "S1", "A01", 5 + i) for i in range(n_spoof)]
    return InMemory(utterances)


def test_items_follow_the_contract():
    item = corpus(1, 1)[1]
    assert set(item) == {"utt_id", "wave", "label", "speaker", "attack"}
    assert item["wave"].dtype == torch.float32 and item["wave"].shape == (5,)
    assert (item["utt_id"], item["label"], item["speaker"], item["attack"]) == ("s0", SPOOF, "S1", "A01")


def test_collate_pads_with_zeros_and_keeps_lengths():
    dataset = corpus(2, 1)
    batch = collate_batch([dataset[0], dataset[2]])
    assert batch.wave.shape == (2, 10) and batch.lengths.tolist() == [10, 5]
    assert batch.wave[1, 5:].abs().sum() == 0 and batch.wave[1, :5].eq(0.5).all()
    assert batch.labels.tolist() == [BONAFIDE, SPOOF] and batch.attacks == [None, "A01"]


def test_limit_keeps_both_classes_in_proportion_and_order():
    dataset = corpus(10, 90)
    dataset.limit(20, seed=0)
    labels = dataset.labels
    assert len(labels) == 20 and (labels == BONAFIDE).sum() == 2
    positions = [int(u.utt_id[1:]) + (0 if u.label == BONAFIDE else 1000) for u in dataset.utterances]
    assert positions == sorted(positions)


def test_limit_keeps_a_rare_class():
    dataset = corpus(1, 99)
    dataset.limit(10, seed=1)
    assert (dataset.labels == BONAFIDE).sum() == 1 and len(dataset) == 10
