"""The run's log: lines to train.log and the terminal, values and figures to Weights & Biases when asked."""
from __future__ import annotations

import argparse
import logging
import uuid
from pathlib import Path
from typing import Any

from conventions import UsageError


class RunLog:
    """`info(message)` to the run's logger (nothing without one: the ranks of a distributed run
    other than 0); `metrics(values, step)` and `finish(metrics, figures)` to the W&B run started by
    `start_wandb` (nothing without one)."""

    def __init__(self, logger: logging.Logger | None) -> None:
        self.logger = logger
        self.wandb_run: Any = None

    def info(self, message: str) -> None:
        if self.logger is not None:
            self.logger.info(message)

    def start_wandb(self, args: argparse.Namespace, run_dir: Path, config: dict) -> None:
        """A Weights & Biases run in <run_dir>/wandb (WANDB_MODE=offline works without an account);
        a resumed run continues the W&B run of its first start (its id is kept in <run_dir>/wandb_run_id)."""
        import wandb

        id_file = run_dir / "wandb_run_id"
        run_id = id_file.read_text().strip() if id_file.is_file() else uuid.uuid4().hex[:8]
        id_file.write_text(run_id + "\n")
        try:
            self.wandb_run = wandb.init(
                project=args.wandb_project, name=run_dir.name, dir=str(run_dir), config=config, id=run_id, resume="allow"
            )
        except Exception as error:  # wandb reports login and network problems with many exception types
            raise UsageError(f"--wandb: Weights & Biases did not start ({error}); run `wandb login` or set WANDB_MODE=offline") from None

    def metrics(self, values: dict[str, float], step: int) -> None:
        if self.wandb_run is not None:
            self.wandb_run.log(values, step=step)

    def finish(self, metrics: dict[str, dict], figures: dict[str, Path]) -> None:
        """The final metrics (`{split: {name: value}}`) and figures (`{key: png path}`) to W&B, and close it."""
        if self.wandb_run is None:
            return
        import wandb

        self.wandb_run.log(
            {
                **{f"{split}/{name}": value for split, values in metrics.items() for name, value in values.items()},
                **{key: wandb.Image(str(path)) for key, path in figures.items()},
            }
        )
        self.wandb_run.finish()
