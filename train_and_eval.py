"""Train a spoofing countermeasure, pick the best epoch on dev, evaluate on eval, log the results.

    python train_and_eval.py --extractor LFCC --processor Mean --classifier EmbeddingFF \
        --loss AdditiveAngularMargin --margin 0.3

args -> data -> model -> train -> evaluate -> results; see `--help` and `--list`.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

import torch
from tqdm import trange

from common import DATASETS, UsageError
from datasets.base import AudioDataset
from losses.base import BaseLoss
from metrics import compute_eer, compute_metrics
from model import Countermeasure, build_model
from parse_arguments import component_list, parse_arguments
from plots import plot_det_curve, plot_score_histogram
from results import (
    append_result,
    check_output_dir,
    check_results_csv,
    create_run_dir,
    format_loss_parameters,
    format_parameters,
    setup_logger,
    write_config,
)
from training import ScoreTable, score_dataset, scoring_loader, seed_everything, train_one_epoch, training_loader

SPLITS = ("train", "dev", "eval")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def load_splits(args: argparse.Namespace) -> dict[str, AudioDataset]:
    """train/dev/eval of --dataset, each capped by --limit."""
    splits = {}
    for split in SPLITS:
        try:
            dataset = DATASETS[args.dataset](split, Path(args.data_root))
        except OSError as error:
            raise UsageError(f"--dataset {args.dataset}: cannot prepare the {split} split under --data_root {args.data_root}: {error}") from None
        if args.limit is not None:
            dataset.limit(args.limit, args.seed)
        if len(set(dataset.labels.tolist())) < 2:
            raise UsageError(f"the {split} split of {args.dataset} has only one class; raise --limit")
        splits[split] = dataset
    return splits


def train(
    args: argparse.Namespace,
    model: Countermeasure,
    loss: BaseLoss,
    splits: dict[str, AudioDataset],
    device: torch.device,
    run_dir: Path,
    logger: logging.Logger,
    wandb_run,
) -> int:
    """Train for --num_epochs, validating on dev; leaves the best-on-dev state in model and loss.

    Returns the best epoch (lowest dev EER, the earliest on ties).
    """
    optimizer = torch.optim.Adam([*model.parameters(), *loss.parameters()], lr=args.lr, weight_decay=args.weight_decay)
    train_loader = training_loader(splits["train"], args.batch_size, args.seed, args.num_workers)
    dev_loader = scoring_loader(splits["dev"], args.batch_size, args.num_workers)
    checkpoints = run_dir / "checkpoints"
    checkpoints.mkdir()
    best_epoch, best_eer, best_state = 0, float("inf"), None
    for epoch in trange(1, args.num_epochs + 1, desc="epochs", dynamic_ncols=True, disable=None):
        train_losses = train_one_epoch(model, loss, train_loader, optimizer, device, description=f"epoch {epoch}")
        dev = score_dataset(model, loss, dev_loader, device, description="dev")
        dev_eer, _ = compute_eer(dev.bonafide_scores, dev.spoof_scores)
        losses = ", ".join(f"Loss/{name} {value:.4f}" for name, value in train_losses.items())
        logger.info(f"epoch {epoch}/{args.num_epochs}: {losses}, dev EER {100 * dev_eer:.2f}%")
        if wandb_run is not None:
            wandb_run.log({**{f"Loss/{name}": value for name, value in train_losses.items()}, "dev/eer": dev_eer}, step=epoch)
        state = {
            "epoch": epoch,
            "dev_eer": dev_eer,
            "model": model.state_dict(),
            "loss": loss.state_dict(),
            "optimizer": optimizer.state_dict(),
            "arguments": vars(args),
        }
        torch.save(state, checkpoints / "last.pt")
        if dev_eer < best_eer:
            best_epoch, best_eer, best_state = epoch, dev_eer, copy.deepcopy(state)
            torch.save(state, checkpoints / "best.pt")
    model.load_state_dict(best_state["model"])
    loss.load_state_dict(best_state["loss"])
    logger.info(f"best epoch on dev: {best_epoch} (dev EER {100 * best_eer:.2f}%)")
    return best_epoch


def evaluate(
    args: argparse.Namespace,
    model: Countermeasure,
    loss: BaseLoss,
    splits: dict[str, AudioDataset],
    device: torch.device,
    run_dir: Path,
) -> tuple[dict, dict[str, ScoreTable]]:
    """Scores dev and eval, writes their score files, and returns the metrics per split.

    Accuracy on both splits uses the dev EER threshold (eval never tunes its own threshold).
    """
    tables = {
        split: score_dataset(model, loss, scoring_loader(splits[split], args.batch_size, args.num_workers), device, description=split)
        for split in ("dev", "eval")
    }
    (run_dir / "scores").mkdir()
    for split, table in tables.items():
        table.write(run_dir / "scores" / f"{split}.txt")
    _, dev_threshold = compute_eer(tables["dev"].bonafide_scores, tables["dev"].spoof_scores)
    metrics = {
        split: compute_metrics(table.bonafide_scores, table.spoof_scores, decision_threshold=dev_threshold)
        for split, table in tables.items()
    }
    return metrics, tables


def results_table(metrics: dict) -> str:
    """The metrics of each split as a small text table, EER in %."""
    lines = [f"{'':6}{'EER %':>8}{'minDCF':>9}{'actDCF':>9}{'Cllr':>9}{'accuracy':>10}"]
    for split, values in metrics.items():
        lines.append(
            f"{split:6}{100 * values['eer']:8.2f}{values['min_dcf']:9.4f}{values['act_dcf']:9.4f}"
            f"{values['cllr']:9.4f}{values['accuracy']:10.4f}"
        )
    return "\n".join(lines)


def start_wandb(args: argparse.Namespace, run_dir: Path, config: dict):
    """A Weights & Biases run in <run_dir>/wandb (WANDB_MODE=offline works without an account)."""
    import wandb

    try:
        return wandb.init(project=args.wandb_project, name=run_dir.name, dir=str(run_dir), config=config)
    except Exception as error:  # wandb reports login and network problems with many exception types
        raise UsageError(f"--wandb: Weights & Biases did not start ({error}); run `wandb login` or set WANDB_MODE=offline") from None


def run(args: argparse.Namespace, run_dir: Path, started: float) -> dict:
    """Everything after the checks, inside the new run directory; returns the results row."""
    logger = setup_logger(run_dir)
    config = write_config(run_dir, args)
    device = resolve_device(args.device)
    splits = load_splits(args)
    logger.info(
        f"run {run_dir}: {args.dataset} ({', '.join(f'{s} {len(d)}' for s, d in splits.items())} utterances), "
        f"{args.extractor} -> {args.processor} -> {args.classifier} -> {args.loss}, device {device}"
    )
    seed_everything(args.seed)
    model, loss = build_model(args)
    model.to(device)
    loss.to(device)
    wandb_run = start_wandb(args, run_dir, config) if args.wandb else None

    best_epoch = train(args, model, loss, splits, device, run_dir, logger, wandb_run)
    metrics, tables = evaluate(args, model, loss, splits, device, run_dir)
    wall_seconds = time.time() - started
    summary = {**metrics, "best_epoch": best_epoch, "wall_seconds": wall_seconds}
    (run_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    evaluation = tables["eval"]
    plot_det_curve(run_dir / "det_eval.png", evaluation.bonafide_scores, evaluation.spoof_scores, title=run_dir.name)
    plot_score_histogram(
        run_dir / "score_histogram_eval.png", evaluation.bonafide_scores, evaluation.spoof_scores, title=run_dir.name
    )
    if wandb_run is not None:
        import wandb

        wandb_run.log(
            {
                **{f"{split}/{name}": value for split, values in metrics.items() for name, value in values.items()},
                "eval/det_curve": wandb.Image(str(run_dir / "det_eval.png")),
                "eval/score_histogram": wandb.Image(str(run_dir / "score_histogram_eval.png")),
            }
        )
        wandb_run.finish()
    logger.info("results (accuracy at the dev EER threshold):\n" + results_table(metrics))
    parameters = args.hyper_parameters
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "run_dir": str(run_dir),
        "dataset": args.dataset,
        "extractor": args.extractor,
        "processor": args.processor,
        "classifier": args.classifier,
        "loss": args.loss,
        "loss_parameters": format_loss_parameters(args.hyper_parameters["loss"], args.loss_weights),
        "other_parameters": format_parameters(
            {
                **parameters["extractor"],
                **parameters["processor"],
                **parameters["classifier"],
                **({"miner": args.miner, **parameters["miner"]} if args.miner else {}),
            }
        ),
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


def main(argv: Sequence[str] | None = None) -> int:
    started = time.time()
    run_dir = None
    try:
        args = parse_arguments(argv)
        if args.list:
            print(component_list())
            return 0
        results_csv = Path(args.results_csv)
        check_results_csv(results_csv)
        check_output_dir(args)
        run_dir = create_run_dir(args)
        row = run(args, run_dir, started)
    except UsageError as error:
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
        print(f"train_and_eval.py: error: {error}", file=sys.stderr)
        return 2
    append_result(results_csv, row)
    print(f"run directory: {run_dir}\nresults row appended to {results_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
