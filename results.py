"""What a run leaves behind: its run directory (config, log) and its row in the results CSV."""
from __future__ import annotations

import argparse
import csv
import fcntl
import json
import logging
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from tqdm import tqdm

from common import UsageError

RESULTS_COLUMNS = (
    "time",
    "run_dir",
    "dataset",
    "extractor",
    "processor",
    "classifier",
    "loss",
    "loss_parameters",
    "other_parameters",
    "seed",
    "epochs",
    "best_epoch",
    "dev_eer_percent",
    "eval_eer_percent",
    "eval_min_dcf",
    "eval_act_dcf",
    "eval_cllr",
    "eval_accuracy",
    "wall_seconds",
)
PACKAGES = ("torch", "torchaudio", "transformers", "numpy", "scikit-learn", "pytorch-metric-learning", "soundfile")
REPOSITORY = Path(__file__).resolve().parent


def check_results_csv(path: Path) -> None:
    """Refuse, before any work, a results CSV that cannot take our rows."""
    if path.is_dir():
        raise UsageError(f"--results_csv {path} is a directory; give a file path")
    if path.exists() and path.stat().st_size > 0:
        with open(path, newline="") as file:
            header = next(csv.reader(file), [])
        if tuple(header) != RESULTS_COLUMNS:
            raise UsageError(
                f"--results_csv {path} has another header (written by another version?); "
                "give a new file or move the old one away"
            )


def append_result(path: Path, row: dict) -> None:
    """Append one row under an exclusive lock, writing the header first into an empty file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            writer = csv.DictWriter(file, fieldnames=RESULTS_COLUMNS)
            if file.tell() == 0:
                writer.writeheader()
            writer.writerow(row)
            file.flush()
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def format_parameters(parameters: dict) -> str:
    """`{"margin": 0.3, "s": 30.0}` -> "margin=0.3;s=30.0"."""
    return ";".join(f"{name}={value}" for name, value in parameters.items())


def format_loss_parameters(losses: dict[str, dict], weights: list[float]) -> str:
    """One loss: "margin=0.3;s=30.0"; a sum: "weights=1.0,0.5;AdditiveAngularMargin.margin=0.3;..."."""
    if len(losses) == 1:
        return format_parameters(next(iter(losses.values())))
    qualified = {f"{name}.{parameter}": value for name, values in losses.items() for parameter, value in values.items()}
    return format_parameters({"weights": ",".join(map(str, weights)), **qualified})


def results_row(args: argparse.Namespace, run_dir: Path, metrics: dict, best_epoch: int, wall_seconds: float) -> dict:
    """The run's row of the results CSV (RESULTS_COLUMNS)."""
    parameters = args.hyper_parameters
    other_parameters = {
        **parameters["extractor"],
        **parameters["processor"],
        **parameters["classifier"],
        **({"miner": args.miner, **parameters["miner"]} if args.miner else {}),
        **({"augment": "+".join(parameters["augmentation"])} if parameters.get("augmentation") else {}),
        **({"max_len": args.max_len} if args.max_len else {}),
    }
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "run_dir": str(run_dir),
        "dataset": args.dataset,
        "extractor": args.extractor,
        "processor": args.processor,
        "classifier": args.classifier,
        "loss": args.loss,
        "loss_parameters": format_loss_parameters(parameters["loss"], args.loss_weights),
        "other_parameters": format_parameters(other_parameters),
        "seed": args.seed,
        "epochs": args.num_epochs,
        "best_epoch": best_epoch,
        "dev_eer_percent": f"{100 * metrics['dev']['eer']:.4f}",
        "eval_eer_percent": f"{100 * metrics['eval']['eer']:.4f}",
        "eval_min_dcf": f"{metrics['eval']['min_dcf']:.6f}",
        "eval_act_dcf": f"{metrics['eval']['act_dcf']:.6f}",
        "eval_cllr": f"{metrics['eval']['cllr']:.6f}",
        "eval_accuracy": f"{metrics['eval']['accuracy']:.6f}",
        "wall_seconds": f"{wall_seconds:.1f}",
    }


def default_run_name(args: argparse.Namespace) -> str:
    return f"{args.dataset}_{args.extractor}_{args.processor}_{args.classifier}_{args.loss}_seed{args.seed}"


def check_output_dir(args: argparse.Namespace) -> None:
    if args.output_dir is not None and Path(args.output_dir).exists():
        raise UsageError(f"--output_dir {args.output_dir} already exists; give a new directory or remove it")


def create_run_dir(args: argparse.Namespace) -> Path:
    """The run directory, newly created: --output_dir, or <runs_dir>/<time>_<run name>[_<n>]."""
    if args.output_dir is not None:
        run_dir = Path(args.output_dir)
        run_dir.mkdir(parents=True)
        return run_dir
    stem = Path(args.runs_dir) / f"{time.strftime('%Y%m%d-%H%M%S')}_{args.run_name or default_run_name(args)}"
    for attempt in range(1000):
        run_dir = stem.with_name(stem.name + (f"_{attempt}" if attempt else ""))
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            continue
    raise UsageError(f"could not create a new run directory next to {stem}")


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


def write_config(run_dir: Path, args: argparse.Namespace) -> dict:
    """config.json: every argument, the command, package versions and the git commit."""
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    config = {"arguments": vars(args), "command": sys.argv, "versions": versions, **git_state()}
    (run_dir / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
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
