"""The DataLoaders of training (class-balanced sampling) and of scoring (corpus order)."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from datasets.base import AudioDataset, collate_batch


def class_balanced_sampler(labels: np.ndarray, seed: int) -> WeightedRandomSampler:
    """Draws len(labels) utterances with replacement, every class equally likely."""
    counts = np.bincount(labels)
    weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.double)
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True, generator=torch.Generator().manual_seed(seed))


def training_loader(dataset: AudioDataset, batch_size: int, seed: int, num_workers: int) -> DataLoader:
    """Batches of `batch_size` utterances drawn class-balanced; the last partial batch is dropped
    unless the split is smaller than one batch."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=class_balanced_sampler(dataset.labels, seed),
        collate_fn=collate_batch,
        num_workers=num_workers,
        drop_last=len(dataset) > batch_size,
    )


def scoring_loader(dataset: AudioDataset, batch_size: int, num_workers: int) -> DataLoader:
    """Every utterance once, in corpus order."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_batch, num_workers=num_workers)
