"""The Trainer: the one object that owns fitting a countermeasure and its loss.

The optimizer and its learning-rate schedule, the epochs, the batch loop (mixed precision, gradient
accumulation and clipping), the checkpoints, the choice of the best epoch on dev, early stopping,
checkpoint averaging, exact resume, the training log and distributed data parallel training all
live here; the entry script builds the parts, calls `fit`, and scores the result with `score`.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from conventions import UsageError
from datasets.base import AudioDataset
from losses.base import BaseLoss
from metrics import compute_eer, compute_metrics
from model import Countermeasure
from training import distributed
from training.checkpoints import load_checkpoint, random_state, restore_random_state, save_checkpoint
from training.distributed import Ranks
from training.feature_cache import FeatureCache
from training.loaders import BatchList, loader, scoring_batches, training_batches
from training.optimization import LearningRateSchedule, build_optimizer, parameter_groups
from training.scoring import ScoreTable, TrainingDiverged, autocast, model_output, score_dataset
from training.selection import Selection, average_states, parse_average


DIVERGENCE_GROWTH = 100  # an epoch's mean training loss this many times its first batch's: diverged


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
    """The training section of a run's settings; its defaults are the command line's."""

    num_epochs: int = 10
    batch_size: int = 32  # utterances per batch and process
    optimizer: str = "adam"  # adam, adamw or sgd
    lr: float = 1e-3  # the rate of everything but a fine-tuned extractor
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD only
    nesterov: bool = False  # SGD only
    extractor_lr: float | None = None  # a fine-tuned SSL extractor's rate (None: not fine-tuned; trainable sinc filters then train at lr)
    scheduler: str = "constant"  # training.optimization.SCHEDULERS
    warmup_epochs: float = 0.0
    warmup_steps: int = 0  # optimizer steps; wins over warmup_epochs when given
    min_lr: float = 0.0  # the floor of the decaying schedules
    decay_factor: float = 0.1  # step and plateau schedules
    step_epochs: int = 10  # step schedule: epochs between decays
    plateau_patience: int = 2  # plateau schedule: epochs without improvement before a decay
    precision: str = "fp32"  # fp32, bf16 or fp16 (autocast; a gradient scaler for fp16)
    grad_accumulation: int = 1  # batches per optimizer step
    grad_clip: float | None = None  # the largest gradient norm (None: no clipping)
    select: str = "dev_eer"  # training.selection.SELECTION_METRICS
    patience: int | None = None  # stop after this many epochs without improvement
    average: str | None = None  # "best:K" or "last:K": the final model averages K epochs
    bucket: bool = True  # batches of utterances of similar length
    sampling: str = "balanced"  # training.loaders.SAMPLINGS: class-balanced draws, or each utterance once per epoch
    seed: int = 0  # of the training order
    num_workers: int = 0  # DataLoader worker processes

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> TrainingSettings:
        return cls(**{field.name: getattr(args, field.name) for field in fields(cls)})


@dataclass(frozen=True)
class FitResult:
    """What fitting chose: the best epoch on dev, the epochs whose parameters the final model holds
    (the best one, or the averaged ones), and the last epoch trained (before num_epochs after
    early stopping)."""

    best_epoch: int
    epochs: list[int]
    last_epoch: int


class LossOfBatch(nn.Module):
    """The model and its loss as one module, batch -> training loss: what DistributedDataParallel
    wraps, so that the loss's learnable state is synchronised like the model's."""

    def __init__(self, model: Countermeasure, loss: BaseLoss) -> None:
        super().__init__()
        self.model, self.loss = model, loss

    def forward(self, batch: Any, cache: FeatureCache | None) -> torch.Tensor:
        return self.loss(model_output(self.model, batch, cache), batch.labels)


class Trainer:
    """Fits `model` and `loss` (whose learnable state trains with the model) on a training split and
    chooses what to keep by a dev metric (TrainingSettings). Each epoch: the epoch's batches
    (class-balanced, length-bucketed, this rank's share), the dev split scored, a line in the log,
    and the checkpoints: `last.pt` (everything a resume needs), `best.pt` at each new best,
    `epoch_<N>.pt` for the epochs an average keeps. A training loss or a dev score that is not
    finite raises TrainingDiverged. `skipped` collects, per split, the utt_ids of skipped bad audio.
    Under torchrun (`ranks`), gradients are synchronised, splits are scored in shards and gathered,
    and only rank 0 writes.
    """

    def __init__(
        self,
        model: Countermeasure,
        loss: BaseLoss,
        settings: TrainingSettings,
        device: torch.device,
        log: TrainingLog,
        skipped: dict[str, set[str]] | None = None,
        ranks: Ranks = Ranks(),
    ) -> None:
        self.model, self.loss, self.settings, self.device, self.log, self.ranks = model, loss, settings, device, log, ranks
        self.skipped = skipped if skipped is not None else {}
        self.step_module = LossOfBatch(model, loss)
        self.first_loss: float | None = None  # the loss of this process's first batch
        self.loss_start: float | None = None  # rank 0's, for check_growth

    # ----------------------------------------------------------------- the optimizer

    def optimizer(self) -> torch.optim.Optimizer:
        """The optimizer over the processor, classifier and loss at `lr`, and a fine-tuned extractor at `extractor_lr`."""
        settings = self.settings
        extractor = [parameter for parameter in self.model.extractor.parameters() if parameter.requires_grad]
        rest = [*self.model.processor.parameters(), *self.model.classifier.parameters(), *self.loss.parameters()]
        groups = parameter_groups(rest, extractor, settings.extractor_lr)
        return build_optimizer(settings.optimizer, groups, settings.lr, settings.weight_decay, settings.momentum, settings.nesterov)

    def schedule(self, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> LearningRateSchedule:
        settings = self.settings
        warmup = settings.warmup_steps or round(settings.warmup_epochs * steps_per_epoch)
        return LearningRateSchedule(
            optimizer, settings.scheduler, steps_per_epoch * settings.num_epochs, steps_per_epoch, warmup,
            settings.min_lr / settings.lr, settings.decay_factor, settings.step_epochs, settings.plateau_patience,
        )

    # ----------------------------------------------------------------- fitting

    def fit(
        self,
        train: AudioDataset,
        dev: AudioDataset,
        checkpoint_dir: Path,
        arguments: dict[str, Any],
        caches: dict[str, FeatureCache | None] | None = None,
        resume: dict[str, Any] | None = None,
    ) -> FitResult:
        """Train for num_epochs (or until early stopping) and leave the chosen model in `model` and
        `loss`: the best epoch on dev, or the average of the epochs --average keeps. Checkpoints go
        to `checkpoint_dir` and carry `arguments`, the run's resolved arguments. With `resume` (a
        last.pt), training continues after its epoch exactly as if it had not stopped."""
        settings, caches = self.settings, caches or {}
        lengths = None if not settings.bucket or train.fixed_length else train.lengths()
        batches = BatchList(
            lambda epoch: training_batches(
                train.labels, lengths, settings.batch_size, settings.seed, epoch, self.ranks.rank, self.ranks.world_size,
                settings.sampling,
            ),
            epoch=1,
        )
        if len(batches) == 0:
            raise UsageError(f"the training split ({len(train)} utterances) gives no batch to each of {self.ranks.world_size} processes")
        steps_per_epoch = math.ceil(len(batches) / settings.grad_accumulation)
        optimizer = self.optimizer()
        schedule = self.schedule(optimizer, steps_per_epoch)
        scaler = torch.amp.GradScaler(self.device.type, enabled=settings.precision == "fp16")
        selection = Selection(settings.select, settings.patience, parse_average(settings.average))
        network = self.step_module
        if self.ranks.distributed:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            network = DistributedDataParallel(self.step_module, device_ids=device_ids, find_unused_parameters=True)
        last_epoch = self.restore(resume, optimizer, schedule, scaler, selection) if resume is not None else 0
        if self.ranks.is_main:
            checkpoint_dir.mkdir(exist_ok=True)
        state = {"optimizer": optimizer, "schedule": schedule, "scaler": scaler, "selection": selection}
        for epoch in range(last_epoch + 1, settings.num_epochs + 1):
            if selection.should_stop():
                break
            train.set_epoch(epoch)
            batches.set_epoch(epoch)
            losses, padding = self.train_one_epoch(
                network, loader(train, batches, settings.num_workers), optimizer, schedule, scaler, caches.get("train"), f"epoch {epoch}"
            )
            learning_rate = schedule.learning_rates[0]  # the epoch's own, before a plateau cut
            self.check_growth(epoch, losses["Total"], learning_rate)
            dev_values = self.validate(dev, caches.get("dev"))
            improved = selection.update(epoch, dev_values[settings.select])
            schedule.end_epoch(improved)
            self.report_epoch(epoch, losses, padding, dev_values, learning_rate)
            self.save_epoch(checkpoint_dir, epoch, improved, dev_values, arguments, state)
            last_epoch = epoch
            if selection.should_stop():
                self.log.info(f"early stopping after epoch {epoch}: {settings.select} has not improved for {settings.patience} epochs")
        self.check_ranks_agree()
        return self.finish(checkpoint_dir, selection, arguments, last_epoch)

    def train_one_epoch(
        self,
        network: nn.Module,
        batches: torch.utils.data.DataLoader,
        optimizer: torch.optim.Optimizer,
        schedule: LearningRateSchedule,
        scaler: torch.amp.GradScaler,
        cache: FeatureCache | None = None,
        description: str = "train",
    ) -> tuple[dict[str, float], float]:
        """One pass over `batches`, one optimizer step per grad_accumulation batches (and one for the
        batches left at the end); returns the mean training losses ("Total" and each named term, over
        every rank) and the share of padding samples in the batches. A batch whose audio was all
        skipped as bad is left out (on every rank, under torchrun, when one rank's is). Raises
        TrainingDiverged when the loss stops being finite."""
        settings = self.settings
        self.model.train()
        self.loss.train()
        skipped = self.skipped.setdefault("train", set())
        totals: dict[str, float] = {}
        counted, padded, samples, pending = 0, 0, 0, 0
        optimizer.zero_grad(set_to_none=True)
        progress = tqdm(batches, desc=description, leave=False, dynamic_ncols=True, disable=None if self.ranks.is_main else True)
        for index, batch in enumerate(progress):
            skipped.update(batch.skipped)
            if distributed.sum_over_ranks([float(not batch.utt_ids)])[0] > 0:
                continue
            batch.to(self.device)
            padded += batch.wave.numel() - int(batch.lengths.sum())
            samples += batch.wave.numel()
            pending += 1
            step_now = pending == settings.grad_accumulation or index == len(batches) - 1
            synchronise = network.no_sync() if isinstance(network, DistributedDataParallel) and not step_now else contextlib.nullcontext()
            with synchronise:
                with autocast(self.device, settings.precision):
                    value = network(batch, cache)
                self.check_finite(value, counted + 1, description)
                scaler.scale(value / settings.grad_accumulation).backward()
            if step_now:
                self.optimizer_step(optimizer, schedule, scaler, pending)
                pending = 0
            counted += 1
            if self.first_loss is None:
                self.first_loss = value.item()
            for name, term in {"Total": value, **self.loss.last_terms}.items():
                totals[name] = totals.get(name, 0.0) + term.item()
            progress.set_postfix(loss=f"{totals['Total'] / counted:.4f}")
        if pending:  # the last batches were skipped as bad audio: step with what the others left
            self.optimizer_step(optimizer, schedule, scaler, pending, synchronised=False)
        names = sorted(totals)
        summed = distributed.sum_over_ranks([*(totals[name] for name in names), counted, padded, samples])
        counted_all, padded_all, samples_all = summed[-3:]
        means = {name: total / max(counted_all, 1) for name, total in zip(names, summed)}
        return {"Total": means.pop("Total", 0.0), **means}, padded_all / max(samples_all, 1)

    def check_growth(self, epoch: int, mean_loss: float, learning_rate: float) -> None:
        """TrainingDiverged when an epoch's mean training loss exceeds DIVERGENCE_GROWTH times the
        loss at the start (the run's first batch, before any step; rank 0's) by more than 1."""
        if self.loss_start is None:
            self.loss_start = distributed.broadcast_object(self.first_loss)
        start = self.loss_start
        if start is not None and mean_loss > DIVERGENCE_GROWTH * abs(start) and mean_loss - start > 1:
            raise TrainingDiverged(
                f"the training loss grew from {start:.4g} at the start to {mean_loss:.4g} in epoch {epoch} (over "
                f"{DIVERGENCE_GROWTH} times); lower --lr (it is {learning_rate:g}) or clip the gradients (--grad_clip)"
            )

    def check_finite(self, value: torch.Tensor, batch: int, description: str) -> None:
        """TrainingDiverged on every rank when the loss of any rank is not finite."""
        finite = bool(torch.isfinite(value))
        if distributed.active():
            finite = distributed.sum_over_ranks([float(not finite)])[0] == 0
        if not finite:
            raise TrainingDiverged(
                f"the training loss became {value.item()} at batch {batch} ({description}); lower --lr or change the loss parameters"
            )

    def optimizer_step(
        self,
        optimizer: torch.optim.Optimizer,
        schedule: LearningRateSchedule,
        scaler: torch.amp.GradScaler,
        batches: int,
        synchronised: bool = True,
    ) -> None:
        """A step on the gradients of `batches` batches (their mean: fewer than grad_accumulation
        at the end of an epoch are scaled up to it; averaged over the ranks here when the last
        backward pass did not synchronise them), at the schedule's learning rates, clipped to
        grad_clip after unscaling."""
        trainable = [p for p in self.step_module.parameters() if p.requires_grad]
        if not synchronised:
            distributed.average_gradients(trainable)
        if batches < self.settings.grad_accumulation:
            for parameter in trainable:
                if parameter.grad is not None:
                    parameter.grad.mul_(self.settings.grad_accumulation / batches)
        schedule.before_step()
        if self.settings.grad_clip is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(trainable, self.settings.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    def validate(self, dev: AudioDataset, cache: FeatureCache | None) -> dict[str, float]:
        """The dev EER, and the selection metric when it is another one."""
        select = self.settings.select
        table, dev_loss = self.score_with_loss(dev, cache, "dev", with_loss=select == "dev_loss")
        values = {"dev_eer": compute_eer(table.bonafide_scores, table.spoof_scores)[0]}
        if select == "dev_min_dcf":
            values["dev_min_dcf"] = compute_metrics(table.bonafide_scores, table.spoof_scores)["min_dcf"]
        if select == "dev_loss":
            values["dev_loss"] = dev_loss
        return values

    def report_epoch(self, epoch: int, losses: dict[str, float], padding: float, dev_values: dict[str, float], learning_rate: float) -> None:
        parts = [f"Loss/{name} {value:.4f}" for name, value in losses.items()]
        parts += [f"lr {learning_rate:.3g}", f"padding {100 * padding:.1f}%", f"dev EER {100 * dev_values['dev_eer']:.2f}%"]
        parts += [f"{name.replace('_', ' ')} {value:.4f}" for name, value in dev_values.items() if name != "dev_eer"]
        self.log.info(f"epoch {epoch}/{self.settings.num_epochs}: {', '.join(parts)}")
        values = {f"Loss/{name}": value for name, value in losses.items()}
        values.update({"lr": learning_rate, "padding": padding})
        values.update({name.replace("dev_", "dev/"): value for name, value in dev_values.items()})
        self.log.metrics(values, step=epoch)

    # ----------------------------------------------------------------- checkpoints

    def save_epoch(
        self, checkpoint_dir: Path, epoch: int, improved: bool, dev_values: dict[str, float], arguments: dict[str, Any], state: dict[str, Any]
    ) -> None:
        """epoch_<N>.pt when an average keeps this epoch, best.pt at a new best, then last.pt, then
        the epoch files no longer kept: whenever the process is killed, last.pt names files that exist."""
        randoms = distributed.gather_objects(random_state())
        if not self.ranks.is_main:
            return
        selection: Selection = state["selection"]
        model, loss = self.model.trainable_state_dict(), self.loss.state_dict()
        kept = selection.kept_epochs() if selection.average is not None else []
        if epoch in kept:
            save_checkpoint(checkpoint_dir / f"epoch_{epoch}.pt", {"epoch": epoch, "model": model, "loss": loss, "arguments": arguments})
        if improved:
            save_checkpoint(
                checkpoint_dir / "best.pt",
                {"epoch": epoch, "dev_eer": dev_values["dev_eer"], "dev": dev_values, "model": model, "loss": loss, "arguments": arguments},
            )
        save_checkpoint(
            checkpoint_dir / "last.pt",
            {
                "epoch": epoch,
                "dev_eer": dev_values["dev_eer"],
                "model": model,
                "loss": loss,
                "arguments": arguments,
                "optimizer": state["optimizer"].state_dict(),
                "schedule": state["schedule"].state_dict(),
                "scaler": state["scaler"].state_dict(),
                "selection": selection.state_dict(),
                "random": randoms,
                "skipped": {split: sorted(ids) for split, ids in self.skipped.items()},
                "loss_start": self.loss_start,
            },
        )
        for stale in checkpoint_dir.glob("epoch_*.pt"):
            if int(stale.stem.removeprefix("epoch_")) not in kept:
                stale.unlink()

    def restore(
        self,
        checkpoint: dict[str, Any],
        optimizer: torch.optim.Optimizer,
        schedule: LearningRateSchedule,
        scaler: torch.amp.GradScaler,
        selection: Selection,
    ) -> int:
        """Everything last.pt saved, this rank's random generators included; returns its epoch."""
        if len(checkpoint["random"]) != self.ranks.world_size:
            raise UsageError(
                f"--resume: the run trained on {len(checkpoint['random'])} process(es), this one has {self.ranks.world_size}; "
                f"resume it with as many (torchrun --nproc_per_node {len(checkpoint['random'])} ...)"
            )
        self.model.load_trainable_state_dict(checkpoint["model"])
        self.loss.load_state_dict(checkpoint["loss"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        schedule.load_state_dict(checkpoint["schedule"])
        scaler.load_state_dict(checkpoint["scaler"])
        selection.load_state_dict(checkpoint["selection"])
        self.skipped = {split: set(ids) for split, ids in checkpoint["skipped"].items()}
        self.loss_start = checkpoint.get("loss_start")
        restore_random_state(checkpoint["random"][self.ranks.rank])
        self.log.info(f"resumed after epoch {checkpoint['epoch']} of {self.settings.num_epochs}")
        return int(checkpoint["epoch"])

    def finish(self, checkpoint_dir: Path, selection: Selection, arguments: dict[str, Any], last_epoch: int) -> FitResult:
        """Put the chosen parameters in model and loss on every rank: best.pt's, or the average of
        the kept epochs (also written to average.pt, which --eval_only reads like best.pt)."""
        kept = selection.kept_epochs()
        if self.ranks.is_main:
            if selection.average is None:
                best = load_checkpoint(str(checkpoint_dir / "best.pt"))
                model, loss = best["model"], best["loss"]
            else:
                missing = [epoch for epoch in kept if not (checkpoint_dir / f"epoch_{epoch}.pt").is_file()]
                if missing:
                    raise UsageError(
                        f"{checkpoint_dir}: the checkpoints of epochs {', '.join(map(str, missing))} are gone, so the "
                        f"average of epochs {', '.join(map(str, kept))} ({self.settings.average}) cannot be made"
                    )
                states = [load_checkpoint(str(checkpoint_dir / f"epoch_{epoch}.pt")) for epoch in kept]
                reference = kept.index(selection.best_epoch) if selection.average[0] == "best" else -1
                model = average_states([state["model"] for state in states], reference)
                loss = average_states([state["loss"] for state in states], reference)
                save_checkpoint(
                    checkpoint_dir / "average.pt",
                    {"epoch": selection.best_epoch, "averaged_epochs": kept, "model": model, "loss": loss, "arguments": arguments},
                )
                self.log.info(f"the final model averages the parameters of epochs {', '.join(map(str, kept))} ({self.settings.average})")
            self.model.load_trainable_state_dict(model)
            self.loss.load_state_dict(loss)
        distributed.broadcast_module_state(self.model, self.loss)
        self.log.info(f"best epoch on dev: {selection.best_epoch} ({self.settings.select} {selection.best_value:.4f})")
        return FitResult(selection.best_epoch, kept, last_epoch)

    def check_ranks_agree(self) -> None:
        """Under torchrun: the trained parameters must be the same on every rank (DDP's promise)."""
        if not self.ranks.distributed:
            return
        digest = hashlib.sha256()
        for value in [*self.model.trainable_state_dict().values(), *self.loss.state_dict().values()]:
            if isinstance(value, torch.Tensor):
                digest.update(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        digests = distributed.gather_objects(digest.hexdigest())
        if len(set(digests)) != 1:
            raise RuntimeError(f"the ranks hold different parameters after training: {digests}")
        self.log.info(f"parameters identical on all {self.ranks.world_size} ranks (sha256 {digests[0][:16]})")

    # ----------------------------------------------------------------- scoring

    def score(self, dataset: AudioDataset, cache: FeatureCache | None, split: str) -> ScoreTable:
        """Every trial of `dataset` scored with the loss's scoring rule, in corpus order (each rank
        scores its share, length-bucketed, and every rank gets the whole table)."""
        return self.score_with_loss(dataset, cache, split)[0]

    def score_with_loss(
        self, dataset: AudioDataset, cache: FeatureCache | None, split: str, with_loss: bool = False
    ) -> tuple[ScoreTable, float]:
        """score(), and with `with_loss` the mean loss over the split's trials (else 0)."""
        settings = self.settings
        lengths = None if not settings.bucket or dataset.fixed_length else dataset.lengths()
        batches = BatchList(lambda _: scoring_batches(lengths, len(dataset), settings.batch_size, self.ranks.rank, self.ranks.world_size))
        skipped = self.skipped.setdefault(split, set())
        table, loss_sum = score_dataset(
            self.model, self.loss, loader(dataset, batches, settings.num_workers), self.device, cache, split, skipped,
            settings.precision, with_loss,
        )
        tables = [part for part in distributed.gather_objects(table) if part is not None]
        for ids in distributed.gather_objects(skipped):
            skipped.update(ids)
        if not tables:
            raise UsageError(f"{split}: every utterance was skipped as bad audio; check the corpus")
        joined = ScoreTable.joined(tables, {utterance.utt_id: position for position, utterance in enumerate(dataset.utterances)})
        loss_total = distributed.sum_over_ranks([loss_sum])[0]
        return joined, loss_total / len(joined.utt_ids)
