"""The batches of training (class-balanced or shuffled, length-bucketed, sharded across ranks) and of scoring.

Every epoch's training order is a function of (seed, epoch) only, so a resumed run, every
DataLoader worker and every rank of a distributed run see the same draw.
"""
from __future__ import annotations

import signal
from typing import Callable, Iterator

import numpy as np
from torch.utils.data import DataLoader, Sampler

from datasets.base import AudioDataset, collate_batch


SAMPLINGS = ("balanced", "shuffle")


def class_balanced_draw(labels: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """len(labels) utterance indices drawn with replacement, every class equally likely."""
    counts = np.bincount(labels)
    weights = 1.0 / counts[labels]
    return np.random.default_rng([seed, epoch]).choice(len(labels), size=len(labels), replace=True, p=weights / weights.sum())


def epoch_draw(labels: np.ndarray, seed: int, epoch: int, sampling: str = "balanced") -> np.ndarray:
    """The epoch's utterance indices: class_balanced_draw ("balanced"), or every utterance once in a
    random order ("shuffle", as the published systems' DataLoader(shuffle=True) draws)."""
    if sampling == "shuffle":
        return np.random.default_rng([seed, epoch]).permutation(len(labels))
    return class_balanced_draw(labels, seed, epoch)


def training_batches(
    labels: np.ndarray,
    lengths: np.ndarray | None,
    batch_size: int,
    seed: int,
    epoch: int,
    rank: int = 0,
    world_size: int = 1,
    sampling: str = "balanced",
) -> list[np.ndarray]:
    """The epoch's batches of utterance indices for `rank` of `world_size`.

    The epoch's draw (epoch_draw: class-balanced, or shuffled) is cut into batches of `batch_size` (the draws beyond the last whole
    batch are dropped, unless the split holds less than one batch). With `lengths` (bucketing)
    the draw is first sorted by length, so that a batch holds utterances of similar length, and the
    batches are shuffled. Ranks take every world_size-th batch, each the same number of them.
    """
    order = epoch_draw(labels, seed, epoch, sampling)
    if len(order) > batch_size:
        order = order[: len(order) // batch_size * batch_size]
    if lengths is not None:
        order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if lengths is not None:
        permutation = np.random.default_rng([seed, epoch, 1]).permutation(len(batches))
        batches = [batches[index] for index in permutation]
    shared = len(batches) // world_size * world_size
    return batches[rank:shared:world_size]


def scoring_batches(lengths: np.ndarray | None, n_utterances: int, batch_size: int, rank: int = 0, world_size: int = 1) -> list[np.ndarray]:
    """`rank`'s share of a split (every world_size-th utterance) in batches: sorted by `lengths`
    when given (bucketing), else in corpus order."""
    indices = np.arange(rank, n_utterances, world_size)
    if lengths is not None:
        indices = indices[np.argsort(lengths[indices], kind="stable")]
    return [indices[start : start + batch_size] for start in range(0, len(indices), batch_size)]


class BatchList(Sampler):
    """A DataLoader batch sampler over a list of batches, made anew by `make(epoch)` each epoch."""

    def __init__(self, make: Callable[[int], list[np.ndarray]], epoch: int = 0) -> None:
        self.make = make
        self.batches = make(epoch)

    def set_epoch(self, epoch: int) -> None:
        self.batches = self.make(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        return iter([batch.tolist() for batch in self.batches])

    def __len__(self) -> int:
        return len(self.batches)


def ignore_interrupts(worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the main process, which stops them and reports one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def loader(dataset: AudioDataset, batches: BatchList, num_workers: int) -> DataLoader:
    """A DataLoader of `batches` of `dataset`'s items, collated by collate_batch."""
    return DataLoader(
        dataset, batch_sampler=batches, collate_fn=collate_batch, num_workers=num_workers,
        worker_init_fn=ignore_interrupts if num_workers else None,
    )
