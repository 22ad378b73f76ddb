"""Which epoch wins: the best epoch by a dev metric, early stopping, and the epochs to average."""
from __future__ import annotations

from typing import Any

import torch

SELECTION_METRICS = ("dev_eer", "dev_loss", "dev_min_dcf")  # all: lower is better


def parse_average(text: str | None) -> tuple[str, int] | None:
    """"best:K" or "last:K" -> ("best", K) / ("last", K); None stays None. ValueError otherwise."""
    if text is None:
        return None
    kind, _, count = text.partition(":")
    if kind not in ("best", "last") or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{text!r} is not best:K or last:K with K >= 1")
    return kind, int(count)


class Selection:
    """The dev metric of every epoch so far; the best epoch (lowest value, the earliest on ties);
    whether `patience` epochs in a row went without improvement; and the epochs whose parameters
    an average "best:K" or "last:K" keeps."""

    def __init__(self, metric: str, patience: int | None = None, average: tuple[str, int] | None = None) -> None:
        if metric not in SELECTION_METRICS:
            raise ValueError(f"unknown selection metric {metric!r}; one of {', '.join(SELECTION_METRICS)}")
        self.metric, self.patience, self.average = metric, patience, average
        self.history: list[tuple[int, float]] = []  # (epoch, value)

    def update(self, epoch: int, value: float) -> bool:
        """Record `epoch`'s value; whether it is a new best."""
        improved = not self.history or value < self.best_value
        self.history.append((epoch, float(value)))
        return improved

    @property
    def best_epoch(self) -> int:
        return min(self.history, key=lambda entry: (entry[1], entry[0]))[0]

    @property
    def best_value(self) -> float:
        return min(value for _, value in self.history)

    @property
    def epochs_without_improvement(self) -> int:
        return self.history[-1][0] - self.best_epoch if self.history else 0

    def should_stop(self) -> bool:
        return self.patience is not None and self.epochs_without_improvement >= self.patience

    def kept_epochs(self) -> list[int]:
        """The epochs an average keeps (in epoch order); the best epoch alone without one."""
        if self.average is None:
            return [self.best_epoch]
        kind, count = self.average
        if kind == "last":
            return [epoch for epoch, _ in self.history[-count:]]
        best = sorted(self.history, key=lambda entry: (entry[1], entry[0]))[:count]
        return sorted(epoch for epoch, _ in best)

    def state_dict(self) -> dict[str, Any]:
        return {"history": [list(entry) for entry in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = [(int(epoch), float(value)) for epoch, value in state["history"]]


def average_states(states: list[dict[str, Any]], reference: int = -1) -> dict[str, Any]:
    """The element-wise mean of the floating-point tensors of `states` (state dicts with the same
    keys); everything else (counters, flags, extra state) is taken from `states[reference]`."""
    averaged = {}
    for key, value in states[reference].items():
        if isinstance(value, torch.Tensor) and torch.is_floating_point(value):
            averaged[key] = torch.stack([state[key].to(torch.float64) for state in states]).mean(dim=0).to(value.dtype)
        else:
            averaged[key] = value.clone() if isinstance(value, torch.Tensor) else value
    return averaged
