"""The run directory: created atomically, with the resolved configuration (config.json) and the log."""
from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from conventions import UsageError
from reporting.files import atomic_write_text, make_directory

PACKAGES = ("torch", "torchaudio", "transformers", "numpy", "scikit-learn", "pytorch-metric-learning", "soundfile")
REPOSITORY = Path(__file__).resolve().parent.parent


def default_run_name(args: argparse.Namespace) -> str:
    return f"{args.dataset}_{args.extractor}_{args.processor}_{args.classifier}_{args.loss}_seed{args.seed}"


def create_run_dir(args: argparse.Namespace) -> list[Path]:
    """The run directory, newly created at once (no other run can get it): --output_dir, which must
    not exist, or <runs_dir>/<time>_<run name>[_<n>]; UsageError when it cannot be created. Returns
    the folders created, the run directory last (what removing a failed run removes)."""
    if args.output_dir is not None:
        return make_directory(Path(args.output_dir), "--output_dir")
    stem = Path(args.runs_dir) / f"{time.strftime('%Y%m%d-%H%M%S')}_{args.run_name or default_run_name(args)}"
    for attempt in range(1000):
        run_dir = stem.with_name(stem.name + (f"_{attempt}" if attempt else ""))
        try:
            return make_directory(run_dir, "--runs_dir")
        except UsageError:
            if not run_dir.exists():
                raise
    raise UsageError(f"--runs_dir {args.runs_dir}: could not create a new run directory next to {stem}")


def git_state() -> dict:
    """The commit of this code and whether the working tree differs from it."""
    def git(*command: str) -> str | None:
        try:
            done = subprocess.run(["git", *command], cwd=REPOSITORY, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": None if status is None else bool(status)}


def write_config(run_dir: Path, arguments: dict[str, Any]) -> dict:
    """config.json: the run's `arguments` (resolved settings included), the command, package
    versions, the git commit and whether the working tree differed from it."""
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    config = {"arguments": arguments, "command": sys.argv, "versions": versions, **git_state()}
    atomic_write_text(run_dir / "config.json", json.dumps(config, indent=2, default=str) + "\n")
    return config


class TqdmHandler(logging.Handler):
    """Logs through tqdm.write, so that messages do not break the progress bars."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record))


def setup_logger(run_dir: Path) -> logging.Logger:
    """The run's logger: to <run_dir>/train.log and to the terminal."""
    logger = logging.getLogger("ca_mhfa")
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")
    for handler in (logging.FileHandler(run_dir / "train.log"), TqdmHandler()):
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.propagate = False
    return logger
