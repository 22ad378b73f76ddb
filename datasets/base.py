"""The dataset contract: utterance records, item dicts and the batch a model consumes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass(frozen=True)
class Utterance:
    """One trial of a corpus. `source` is whatever the dataset needs to read the wave."""

    utt_id: str
    label: int
    speaker: str | None = None
    attack: str | None = None
    source: Any = None


class AudioDataset(Dataset):
    """A split of a corpus: a list of utterances and a way to read each wave.

    Items are dicts `{utt_id, wave: FloatTensor[T] (16 kHz mono), label, speaker, attack}`.
    """

    def __init__(self, utterances: Sequence[Utterance]) -> None:
        self.utterances = list(utterances)

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        """The utterance's samples: float32 [T], mono at common.SAMPLE_RATE."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> dict:
        utterance = self.utterances[index]
        return {
            "utt_id": utterance.utt_id,
            "wave": torch.as_tensor(self.read_wave(utterance), dtype=torch.float32),
            "label": utterance.label,
            "speaker": utterance.speaker,
            "attack": utterance.attack,
        }

    @property
    def labels(self) -> np.ndarray:
        return np.array([u.label for u in self.utterances], dtype=np.int64)

    def limit(self, max_utterances: int, seed: int) -> None:
        """Keep a class-stratified random subset of at most `max_utterances` utterances, in corpus order."""
        if max_utterances >= len(self.utterances):
            return
        rng = np.random.default_rng(seed)
        labels = self.labels
        keep: list[int] = []
        classes = np.unique(labels)
        for position, label in enumerate(classes):
            members = np.flatnonzero(labels == label)
            share = round(max_utterances * len(members) / len(labels))
            # every class keeps at least one utterance; the last class takes what is left
            if position == len(classes) - 1:
                share = max_utterances - len(keep)
            share = min(len(members), max(1, share))
            keep.extend(rng.choice(members, size=share, replace=False).tolist())
        self.utterances = [self.utterances[i] for i in sorted(keep)]


@dataclass
class Batch:
    """Padded waves `wave [B, T]` with their `lengths [B]` (samples) and the trial metadata."""

    wave: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    utt_ids: list[str]
    speakers: list[str | None]
    attacks: list[str | None]

    def to(self, device: torch.device | str) -> "Batch":
        self.wave = self.wave.to(device)
        self.lengths = self.lengths.to(device)
        self.labels = self.labels.to(device)
        return self


def collate_batch(items: Sequence[dict]) -> Batch:
    """Zero-pad the items' waves to the longest one."""
    lengths = torch.tensor([item["wave"].numel() for item in items], dtype=torch.long)
    wave = torch.zeros(len(items), int(lengths.max()), dtype=torch.float32)
    for row, item in enumerate(items):
        wave[row, : lengths[row]] = item["wave"]
    return Batch(
        wave=wave,
        lengths=lengths,
        labels=torch.tensor([item["label"] for item in items], dtype=torch.long),
        utt_ids=[item["utt_id"] for item in items],
        speakers=[item["speaker"] for item in items],
        attacks=[item["attack"] for item in items],
    )
