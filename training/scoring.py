"""Scoring a dataset with a model and its loss's scoring rule, into a ScoreTable."""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import ContextManager

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from conventions import BONAFIDE
from datasets.base import Batch
from losses.base import BaseLoss, ClassifierOutput
from model import Countermeasure
from training.feature_cache import FeatureCache


PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class TrainingDiverged(Exception):
    """The loss or the scores stopped being finite; the run stops with this message."""


def autocast(device: torch.device, precision: str) -> ContextManager:
    """Mixed precision for "bf16" and "fp16" (torch.autocast; losses still compute in float32), none for "fp32"."""
    dtype = PRECISIONS[precision]
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


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

    @classmethod
    def joined(cls, tables: list[ScoreTable], order: dict[str, int]) -> ScoreTable:
        """The trials of `tables` together, sorted by `order` (utt_id -> position in the corpus)."""
        utt_ids = [utt_id for table in tables for utt_id in table.utt_ids]
        attacks = [attack for table in tables for attack in table.attacks]
        labels, scores = np.concatenate([table.labels for table in tables]), np.concatenate([table.scores for table in tables])
        rows = sorted(range(len(utt_ids)), key=lambda row: order[utt_ids[row]])
        return cls([utt_ids[row] for row in rows], [attacks[row] for row in rows], labels[rows], scores[rows])


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
    precision: str = "fp32",
    with_loss: bool = False,
) -> tuple[ScoreTable | None, float]:
    """Scores every trial of `loader` with the loss's scoring rule, model in eval mode, in the
    loader's order (None when it has no trial); the utt_ids of skipped bad audio files are added to
    `skipped`. With `with_loss`, also the sum over trials of the loss (each batch's mean times its
    size; the loss's state, such as a cross-batch memory, is left as it was), else 0."""
    model.eval()
    loss.eval()
    state = copy.deepcopy(loss.state_dict()) if with_loss else None
    utt_ids, attacks, labels, scores = [], [], [], []
    loss_sum = 0.0
    for batch in tqdm(loader, desc=description, leave=False, dynamic_ncols=True, disable=None):
        if skipped is not None:
            skipped.update(batch.skipped)
        if not batch.utt_ids:
            continue
        batch.to(device)
        with autocast(device, precision):
            output = model_output(model, batch, cache)
        scores.append(loss.score(output).double().cpu())
        if with_loss:
            loss_sum += float(loss(output, batch.labels)) * len(batch.utt_ids)
        labels.append(batch.labels.cpu())
        utt_ids.extend(batch.utt_ids)
        attacks.extend(batch.attacks)
    if state is not None:
        loss.load_state_dict(state)
    if not scores:
        return None, loss_sum
    table = ScoreTable(utt_ids, attacks, torch.cat(labels).numpy(), torch.cat(scores).numpy())
    if not np.isfinite(table.scores).all():
        raise TrainingDiverged(f"{description}: {np.count_nonzero(~np.isfinite(table.scores))} scores are not finite")
    return table, loss_sum
