"""One epoch of training, and scoring a dataset, for any countermeasure and loss."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler
from tqdm import tqdm

from common import BONAFIDE, LABEL_NAMES, UsageError
from datasets.base import AudioDataset, Batch, collate_batch
from feature_cache import FeatureCache
from losses.base import BaseLoss
from model import Countermeasure


class TrainingDiverged(Exception):
    """The loss or the scores stopped being finite; the run stops with this message."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, so that a CPU run is repeatable."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def class_balanced_sampler(labels: np.ndarray, seed: int) -> WeightedRandomSampler:
    """Draws len(labels) utterances with replacement, every class equally likely."""
    counts = np.bincount(labels)
    weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.double)
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True, generator=torch.Generator().manual_seed(seed))


def training_loader(dataset: AudioDataset, batch_size: int, seed: int, num_workers: int) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=class_balanced_sampler(dataset.labels, seed),
        collate_fn=collate_batch,
        num_workers=num_workers,
        drop_last=len(dataset) > batch_size,
    )


def scoring_loader(dataset: AudioDataset, batch_size: int, num_workers: int) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_batch, num_workers=num_workers)


def model_output(model: Countermeasure, batch: Batch, cache: FeatureCache | None):
    """What the classifier returns for the batch, with the extractor's part from `cache` when given."""
    if cache is None:
        return model(batch.wave, batch.lengths, batch.ref_wave, batch.ref_lengths)
    reference = cache.features(batch.ref_utt_ids, batch.ref_wave, batch.ref_lengths) if model.uses_reference else None
    return model.head(*cache.features(batch.utt_ids, batch.wave, batch.lengths), reference)


def train_one_epoch(
    model: Countermeasure,
    loss: BaseLoss,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    cache: FeatureCache | None = None,
    description: str = "train",
    skipped: set[str] | None = None,
) -> dict[str, float]:
    """One pass over `loader`; returns the mean training loss as "Total" and of each named term.

    The utt_ids of skipped bad audio files are added to `skipped`. Raises TrainingDiverged when
    the loss stops being finite.
    """
    model.train()
    loss.train()
    totals: dict[str, float] = {}
    batches = 0
    progress = tqdm(loader, desc=description, leave=False, dynamic_ncols=True, disable=None)
    for batch in progress:
        if skipped is not None:
            skipped.update(batch.skipped)
        if not batch.utt_ids:
            continue
        batch.to(device)
        value = loss(model_output(model, batch, cache), batch.labels)
        if not torch.isfinite(value):
            raise TrainingDiverged(
                f"the training loss became {value.item()} at batch {batches + 1} ({description}); "
                "lower --lr or change the loss parameters"
            )
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        batches += 1
        for name, term in {"Total": value, **loss.last_terms}.items():
            totals[name] = totals.get(name, 0.0) + term.item()
        progress.set_postfix(loss=f"{totals['Total'] / batches:.4f}")
    return {name: total / max(batches, 1) for name, total in totals.items()}


@dataclass
class ScoreTable:
    """One score per trial (higher = more bona fide) with its metadata."""

    utt_ids: list[str]
    attacks: list[str | None]
    labels: np.ndarray
    scores: np.ndarray

    @property
    def attack_names(self) -> list[str]:
        """The attack of each trial as written in score files: `-` for bona fide, `spoof` for a
        spoof trial without an attack id."""
        return [attack or ("-" if label == BONAFIDE else "spoof") for attack, label in zip(self.attacks, self.labels)]

    @property
    def bonafide_scores(self) -> np.ndarray:
        return self.scores[self.labels == BONAFIDE]

    @property
    def spoof_scores(self) -> np.ndarray:
        return self.scores[self.labels != BONAFIDE]

    def write_submission(self, path: Path, challenge: str) -> None:
        """The scores in a challenge's submission format: "2021" (`utt_id score` lines) or
        "asvspoof5" (a header `filename<TAB>cm-score`, then one line per trial)."""
        header, separator = {"2021": ("", " "), "asvspoof5": ("filename\tcm-score\n", "\t")}[challenge]
        with open(path, "w") as file:
            file.write(header)
            file.writelines(f"{utt_id}{separator}{float(score)!r}\n" for utt_id, score in zip(self.utt_ids, self.scores))

    def write(self, path: Path) -> None:
        """Lines `utt_id attack label score`; attack `-` for bona fide, label bonafide/spoof (the
        ASVspoof 2019 CM score file, which its evaluation package reads)."""
        with open(path, "w") as file:
            for utt_id, attack, label, score in zip(self.utt_ids, self.attack_names, self.labels, self.scores):
                file.write(f"{utt_id} {attack} {LABEL_NAMES[int(label)]} {float(score)!r}\n")


@torch.no_grad()
def score_dataset(
    model: Countermeasure,
    loss: BaseLoss,
    loader: DataLoader,
    device: torch.device,
    cache: FeatureCache | None = None,
    description: str = "score",
    skipped: set[str] | None = None,
) -> ScoreTable:
    """Scores every trial of `loader` with the loss's scoring rule, model in eval mode; the
    utt_ids of skipped bad audio files are added to `skipped`."""
    model.eval()
    loss.eval()
    utt_ids, attacks, labels, scores = [], [], [], []
    for batch in tqdm(loader, desc=description, leave=False, dynamic_ncols=True, disable=None):
        if skipped is not None:
            skipped.update(batch.skipped)
        if not batch.utt_ids:
            continue
        batch.to(device)
        scores.append(loss.score(model_output(model, batch, cache)).double().cpu())
        labels.append(batch.labels.cpu())
        utt_ids.extend(batch.utt_ids)
        attacks.extend(batch.attacks)
    if not scores:
        raise UsageError(f"{description}: every utterance was skipped as bad audio; check the corpus")
    table = ScoreTable(utt_ids, attacks, torch.cat(labels).numpy(), torch.cat(scores).numpy())
    if not np.isfinite(table.scores).all():
        raise TrainingDiverged(f"{description}: {np.count_nonzero(~np.isfinite(table.scores))} scores are not finite")
    return table
