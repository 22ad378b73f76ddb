"""Optimizers and learning-rate schedules.

The schedule is a factor on each parameter group's base learning rate (--lr for the model and the
loss, --extractor_lr for a fine-tuned extractor), so every group follows the same shape. It is
set before every optimizer step s = 0, 1, ...; with W warm-up steps and S steps in all:

    warm-up (s < W)    (s + 1) / W                      a linear ramp to 1
    then, p = (s - W) / (S - W) in [0, 1):
    constant           1
    cosine             m + (1 - m) (1 + cos(pi p)) / 2   from 1 down towards m
    exponential        m ** p                            from 1 down towards m, geometrically
    step               max(m, decay_factor ** (epoch // step_epochs))
    plateau            max(m, decay_factor ** n), n = the reductions so far: one each time the
                       selection metric has not improved for plateau_patience epochs

where m = min_lr / lr (the floor, as a share of the base rate) and epoch counts from 0.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import torch

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("constant", "cosine", "exponential", "step", "plateau")


def build_optimizer(
    name: str, groups: list[dict], lr: float, weight_decay: float, momentum: float, nesterov: bool
) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (with `momentum`, optionally Nesterov) over `groups` (each may set its own "lr")."""
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov)
    raise ValueError(f"unknown optimizer {name!r}; one of {', '.join(OPTIMIZERS)}")


class LearningRateSchedule:
    """Sets the learning rate of every group of `optimizer` to its base rate times the factor of the
    module docstring. Call `before_step()` before each optimizer step and `end_epoch(improved)` after
    each epoch; `state_dict()` holds all it needs to continue exactly after a resume."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        kind: str,
        total_steps: int,
        steps_per_epoch: int,
        warmup_steps: int = 0,
        floor: float = 0.0,
        decay_factor: float = 0.1,
        step_epochs: int = 1,
        plateau_patience: int = 2,
    ) -> None:
        if kind not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {kind!r}; one of {', '.join(SCHEDULERS)}")
        self.optimizer, self.kind = optimizer, kind
        self.total_steps, self.steps_per_epoch, self.warmup_steps = total_steps, max(1, steps_per_epoch), warmup_steps
        self.floor, self.decay_factor, self.step_epochs, self.plateau_patience = floor, decay_factor, step_epochs, plateau_patience
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.step = 0  # optimizer steps taken
        self.reductions = 0  # plateau: times the rate was cut
        self.epochs_without_improvement = 0

    def factor(self, step: int) -> float:
        """The factor on the base rates at optimizer step `step` (0-based)."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        if self.kind == "cosine":
            return self.floor + (1 - self.floor) * (1 + math.cos(math.pi * progress)) / 2
        if self.kind == "exponential":
            return self.floor**progress
        if self.kind == "step":
            return max(self.floor, self.decay_factor ** ((step // self.steps_per_epoch) // self.step_epochs))
        if self.kind == "plateau":
            return max(self.floor, self.decay_factor**self.reductions)
        return 1.0

    def before_step(self) -> None:
        """Set the rates of the coming optimizer step, and count it."""
        factor = self.factor(self.step)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor
        self.step += 1

    def end_epoch(self, improved: bool) -> None:
        """After an epoch's validation: a plateau schedule counts the epochs without improvement."""
        self.epochs_without_improvement = 0 if improved else self.epochs_without_improvement + 1
        if self.kind == "plateau" and self.epochs_without_improvement >= self.plateau_patience:
            self.reductions += 1
            self.epochs_without_improvement = 0

    @property
    def learning_rates(self) -> list[float]:
        """The rate of each group at the last step taken (before any: the first step's)."""
        factor = self.factor(max(0, self.step - 1))
        return [base * factor for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "reductions": self.reductions, "epochs_without_improvement": self.epochs_without_improvement}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step, self.reductions = int(state["step"]), int(state["reductions"])
        self.epochs_without_improvement = int(state["epochs_without_improvement"])


def parameter_groups(rest: Iterable[torch.nn.Parameter], extractor: list[torch.nn.Parameter], extractor_lr: float | None) -> list[dict]:
    """The optimizer's groups: `rest` at the optimizer's rate, a fine-tuned extractor at `extractor_lr`;
    without `extractor_lr` a trainable extractor (learnable sinc filters) is trained at the optimizer's rate."""
    if extractor_lr is None:
        return [{"params": [*rest, *extractor]}]
    return [{"params": list(rest)}, *([{"params": extractor, "lr": extractor_lr}] if extractor else [])]
