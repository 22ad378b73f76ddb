"""The results CSV: one row per finished run, a fixed header, appended under a lock."""
from __future__ import annotations

import argparse
import csv
import fcntl
import io
import os
import time
from pathlib import Path

from conventions import UsageError
from reporting.files import check_writable_location

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
    """Refuse, before any work, a results CSV that cannot take our rows: a folder, a place that
    cannot be written, a file that is not UTF-8, has another header, or a row of another width."""
    if path.is_dir():
        raise UsageError(f"--results_csv {path} is a directory; give a file path")
    if not path.exists():
        check_writable_location(path, "--results_csv")
        return
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--results_csv {path} is not UTF-8 text, as a results CSV is; give a new file or move it away") from None
    except OSError as error:
        raise UsageError(f"--results_csv {path} cannot be read ({error.strerror})") from None
    if not os.access(path, os.W_OK):
        raise UsageError(f"--results_csv {path} cannot be written; give a file you can write to")
    rows = list(csv.reader(io.StringIO(text)))
    if rows and tuple(rows[0]) != RESULTS_COLUMNS:
        raise UsageError(
            f"--results_csv {path} has another header (written by another version?); give a new file or move the old one away"
        )
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(RESULTS_COLUMNS):
            raise UsageError(
                f"--results_csv {path}, row {number}: {len(row)} fields where {len(RESULTS_COLUMNS)} belong; mend or remove that row"
            )


def has_row(path: Path, run_dir: Path) -> bool:
    """Whether the results CSV at `path` holds a row of the run in `run_dir`."""
    if not path.is_file():
        return False
    with open(path, newline="", encoding="utf-8") as file:
        return any(Path(row.get("run_dir") or "").resolve() == run_dir.resolve() for row in csv.DictReader(file))


def append_result(path: Path, row: dict) -> None:
    """Append one whole row under an exclusive lock: the header first when the file is empty (as
    the lock finds it, so that runs finishing at once write it once), and a line break first when
    the last line lacks one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    csv.DictWriter(text, fieldnames=RESULTS_COLUMNS, lineterminator="\n").writerow(row)
    with open(path, "ab+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            size = file.seek(0, os.SEEK_END)
            prefix = b""
            if size == 0:
                prefix = (",".join(RESULTS_COLUMNS) + "\n").encode()
            else:
                file.seek(size - 1)
                prefix = b"" if file.read(1) == b"\n" else b"\n"
            file.write(prefix + text.getvalue().encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
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
