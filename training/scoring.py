"""Scoring a dataset with a model and its loss's scoring rule, into a ScoreTable."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from conventions import BONAFIDE, UsageError
from datasets.base import Batch
from losses.base import BaseLoss, ClassifierOutput
from model import Countermeasure
from training.feature_cache import FeatureCache


class TrainingDiverged(Exception):
    """The loss or the scores stopped being finite; the run stops with this message."""


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


def model_output(model: Countermeasure, batch: Batch, cache: FeatureCache | None) -> ClassifierOutput:
    """What the classifier returns for the batch, with the extractor's part from `cache` when given."""
    if cache is None:
        return model(batch.wave, batch.lengths, batch.ref_wave, batch.ref_lengths)
    reference = cache.features(batch.ref_utt_ids, batch.ref_wave, batch.ref_lengths) if model.uses_reference else None
    return model.head(*cache.features(batch.utt_ids, batch.wave, batch.lengths), reference)


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
