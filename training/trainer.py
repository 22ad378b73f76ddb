"""The Trainer: the one object that owns fitting a countermeasure and its loss.

Epochs, the batch loop, the optimizer, the checkpoints, the choice of the best epoch on dev, the
divergence checks and the training log all live here; the entry script only builds the parts,
calls `fit`, and scores the result with `score`.
"""
from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm, trange

from datasets.base import AudioDataset
from losses.base import BaseLoss
from metrics import compute_eer
from model import Countermeasure
from training.checkpoints import save_checkpoint
from training.feature_cache import FeatureCache
from training.loaders import scoring_loader, training_loader
from training.scoring import ScoreTable, TrainingDiverged, model_output, score_dataset


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, so that a CPU run is repeatable."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class TrainingLog(Protocol):
    """Where the Trainer reports: a line for the log, and per-epoch values (W&B and the like)."""

    def info(self, message: str) -> None: ...

    def metrics(self, values: dict[str, float], step: int) -> None: ...


@dataclass(frozen=True)
class TrainingSettings:
    """The training section of a run's settings (the command line's training flags)."""

    num_epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3  # Adam's learning rate of everything but a fine-tuned extractor
    weight_decay: float = 0.0
    extractor_lr: float | None = None  # a fine-tuned extractor's learning rate (None: frozen)
    seed: int = 0  # of the class-balanced sampling order
    num_workers: int = 0  # DataLoader worker processes

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> TrainingSettings:
        return cls(**{field.name: getattr(args, field.name) for field in fields(cls)})


class Trainer:
    """Fits `model` and `loss` (whose learnable state trains with the model) on a training split,
    choosing the epoch with the lowest dev EER (the earliest on ties).

    Each epoch: one class-balanced pass over the training split (Adam), the dev split scored, the
    mean training losses and dev EER logged, `checkpoints/last.pt` written, and `best.pt` at each
    new best. A training loss or a dev score that is not finite raises TrainingDiverged.
    `skipped` collects, per split, the utt_ids of bad audio files that were skipped.
    """

    def __init__(
        self,
        model: Countermeasure,
        loss: BaseLoss,
        settings: TrainingSettings,
        device: torch.device,
        log: TrainingLog,
        skipped: dict[str, set[str]] | None = None,
    ) -> None:
        self.model, self.loss, self.settings, self.device, self.log = model, loss, settings, device, log
        self.skipped = skipped if skipped is not None else {}

    def optimizer(self) -> torch.optim.Optimizer:
        """Adam over the processor, classifier and loss at `lr`, and a fine-tuned extractor at `extractor_lr`."""
        extractor = [parameter for parameter in self.model.extractor.parameters() if parameter.requires_grad]
        rest = [*self.model.processor.parameters(), *self.model.classifier.parameters(), *self.loss.parameters()]
        groups = [{"params": rest}, *([{"params": extractor, "lr": self.settings.extractor_lr}] if extractor else [])]
        return torch.optim.Adam(groups, lr=self.settings.lr, weight_decay=self.settings.weight_decay)

    def fit(
        self,
        train: AudioDataset,
        dev: AudioDataset,
        checkpoint_dir: Path,
        arguments: dict[str, Any],
        caches: dict[str, FeatureCache | None] | None = None,
    ) -> int:
        """Train for num_epochs; leaves the best-on-dev state in model and loss and returns its epoch.

        Checkpoints go to `checkpoint_dir` (created) and carry `arguments`, the run's resolved
        arguments, so that --eval_only can rebuild the model.
        """
        caches = caches or {}
        optimizer = self.optimizer()
        train_loader = training_loader(train, self.settings.batch_size, self.settings.seed, self.settings.num_workers)
        checkpoint_dir.mkdir()
        best_epoch, best_eer, best_state = 0, float("inf"), None
        for epoch in trange(1, self.settings.num_epochs + 1, desc="epochs", dynamic_ncols=True, disable=None):
            train.set_epoch(epoch)
            train_losses = self.train_one_epoch(train_loader, optimizer, caches.get("train"), f"epoch {epoch}")
            dev_table = self.score(dev, caches.get("dev"), "dev")
            dev_eer, _ = compute_eer(dev_table.bonafide_scores, dev_table.spoof_scores)
            losses = ", ".join(f"Loss/{name} {value:.4f}" for name, value in train_losses.items())
            self.log.info(f"epoch {epoch}/{self.settings.num_epochs}: {losses}, dev EER {100 * dev_eer:.2f}%")
            self.log.metrics({**{f"Loss/{name}": value for name, value in train_losses.items()}, "dev/eer": dev_eer}, step=epoch)
            state = {
                "epoch": epoch,
                "dev_eer": dev_eer,
                "model": self.model.trainable_state_dict(),
                "loss": self.loss.state_dict(),
                "optimizer": optimizer.state_dict(),
                "arguments": arguments,
            }
            save_checkpoint(checkpoint_dir / "last.pt", state)
            if dev_eer < best_eer:
                best_epoch, best_eer = epoch, dev_eer
                best_state = {part: {key: value.detach().cpu().clone() for key, value in state[part].items()} for part in ("model", "loss")}
                save_checkpoint(checkpoint_dir / "best.pt", state)
        self.model.load_trainable_state_dict(best_state["model"])
        self.loss.load_state_dict(best_state["loss"])
        self.log.info(f"best epoch on dev: {best_epoch} (dev EER {100 * best_eer:.2f}%)")
        return best_epoch

    def train_one_epoch(
        self, loader: DataLoader, optimizer: torch.optim.Optimizer, cache: FeatureCache | None = None, description: str = "train"
    ) -> dict[str, float]:
        """One pass over `loader`; returns the mean training loss as "Total" and of each named term.

        Raises TrainingDiverged when the loss stops being finite.
        """
        self.model.train()
        self.loss.train()
        skipped = self.skipped.setdefault("train", set())
        totals: dict[str, float] = {}
        batches = 0
        progress = tqdm(loader, desc=description, leave=False, dynamic_ncols=True, disable=None)
        for batch in progress:
            skipped.update(batch.skipped)
            if not batch.utt_ids:
                continue
            batch.to(self.device)
            value = self.loss(model_output(self.model, batch, cache), batch.labels)
            if not torch.isfinite(value):
                raise TrainingDiverged(
                    f"the training loss became {value.item()} at batch {batches + 1} ({description}); "
                    "lower --lr or change the loss parameters"
                )
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            batches += 1
            for name, term in {"Total": value, **self.loss.last_terms}.items():
                totals[name] = totals.get(name, 0.0) + term.item()
            progress.set_postfix(loss=f"{totals['Total'] / batches:.4f}")
        return {name: total / max(batches, 1) for name, total in totals.items()}

    def score(self, dataset: AudioDataset, cache: FeatureCache | None, split: str) -> ScoreTable:
        """Every trial of `dataset` scored with the loss's scoring rule, in corpus order."""
        loader = scoring_loader(dataset, self.settings.batch_size, self.settings.num_workers)
        return score_dataset(self.model, self.loss, loader, self.device, cache, split, self.skipped.setdefault(split, set()))
