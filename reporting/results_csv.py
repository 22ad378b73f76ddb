"""The results CSV: one row per finished run, a fixed header, appended under a lock."""
from __future__ import annotations

import argparse
import csv
import fcntl
import time
from pathlib import Path

from conventions import UsageError

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


def has_row(path: Path, run_dir: Path) -> bool:
    """Whether the results CSV at `path` holds a row of the run in `run_dir`."""
    if not path.is_file():
        return False
    with open(path, newline="") as file:
        return any(Path(row.get("run_dir") or "").resolve() == run_dir.resolve() for row in csv.DictReader(file))


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
    """`{"margin": 0.3, "s": 30.0, "class_weights": None}` -> "margin=0.3;s=30.0": settings left at
    None (derived by the component, or off) are left out."""
    return ";".join(f"{name}={value}" for name, value in parameters.items() if value is not None)


def format_loss_parameters(terms: list[str], sections: dict[str, dict], weights: list[float]) -> str:
    """The losses' settings as flags would set them. One loss: its own settings bare, the loss it
    names scoped ("lambda_combined=0.5;proxy_type=ProxyAnchor;ProxyAnchor.proxy_alpha=32.0;...");
    a sum: the weights, then every loss's settings scoped ("weights=1.0,0.5;CosFace.margin=0.35;...")."""
    single = terms[0] if len(terms) == 1 else None
    entries = {} if single else {"weights": ",".join(map(str, weights))}
    for name, values in sections.items():
        entries.update({(setting if name == single else f"{name}.{setting}"): value for setting, value in values.items()})
    return format_parameters(entries)


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
        "loss_parameters": format_loss_parameters(args.losses, parameters["loss"], args.loss_weights),
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
