"""Train a spoofing countermeasure, pick the best epoch on dev, evaluate on eval, log the results.

    python train_and_eval.py --extractor LFCC --processor Mean --classifier EmbeddingFF \
        --loss AdditiveAngularMargin --margin 0.3

args -> data -> model -> train -> evaluate -> results; see `--help` and `--list`.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from tqdm import trange

from augmentation.compose import Compose
from common import AUGMENTATIONS, CLASSIFIERS, DATASETS, SAMPLE_RATE, SPLITS, UsageError, check_combination
from datasets.audio import BadAudioError
from datasets.base import AsvScores, AudioDataset
from datasets.folder import FolderDataset
from feature_cache import FeatureCache
from losses.base import BaseLoss
from metrics import compute_eer, compute_eer_per_attack, compute_metrics, compute_min_tdcf, read_asv_scores
from model import Countermeasure, build_model
from parse_arguments import DEFAULT_DATASET, MODEL_FLAGS, TRAINING_FLAGS, build_parser, component_list, parse_arguments
from plots import plot_det_curve, plot_score_histogram
from results import (
    append_result,
    check_output_dir,
    check_results_csv,
    create_run_dir,
    results_row,
    setup_logger,
    write_config,
)
from training import (
    ScoreTable,
    TrainingDiverged,
    score_dataset,
    scoring_loader,
    seed_everything,
    train_one_epoch,
    training_loader,
)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def load_checkpoint(path: str) -> dict:
    """A checkpoint written by `train`; UsageError when the file is missing or not one."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise UsageError(f"--checkpoint {path} does not exist; give runs/<run>/checkpoints/best.pt of a finished run") from None
    except Exception as error:  # torch.load raises many types for a file that is not a checkpoint
        raise UsageError(f"--checkpoint {path} is not a checkpoint of this tool ({type(error).__name__}: {error})") from None
    if not isinstance(checkpoint, dict) or not {"model", "loss", "arguments", "epoch"} <= checkpoint.keys():
        raise UsageError(f"--checkpoint {path} is not a checkpoint of this tool (no model, loss and arguments in it)")
    return checkpoint


def adopt_checkpoint(args: argparse.Namespace, checkpoint: dict) -> None:
    """Takes the model's and the training's arguments from the checkpoint (and its dataset, unless
    --dataset is given); a flag newer than the checkpoint takes its default."""
    saved = checkpoint["arguments"]
    defaults = build_parser()
    try:
        for flag in (*MODEL_FLAGS, *TRAINING_FLAGS):
            setattr(args, flag, saved.get(flag, defaults.get_default(flag)))
        args.losses, args.hyper_parameters = saved["losses"], {"miner": {}, "augmentation": {}, **saved["hyper_parameters"]}
    except (KeyError, TypeError) as error:
        raise UsageError(f"--checkpoint {args.checkpoint} lacks the run's arguments ({error}); was it written by this tool?") from None
    args.augmentations = list(args.hyper_parameters["augmentation"])
    args.dataset = args.dataset or saved.get("dataset", DEFAULT_DATASET)
    check_combination(args.extractor, args.processor, args.classifier, args.losses, args.miner, args.dataset)
    if args.score_folder is not None and getattr(CLASSIFIERS[args.classifier], "pair_input", False):
        raise UsageError(
            f"--score_folder: the checkpoint's --classifier {args.classifier} needs a bona fide reference for each "
            "trial, which a folder of recordings does not have"
        )


def score_folder(
    args: argparse.Namespace, model: Countermeasure, loss: BaseLoss, device: torch.device, run_dir: Path, logger: logging.Logger
) -> None:
    """Scores every audio file under --score_folder into scores/folder.txt (`path<TAB>score` lines)."""
    folder = FolderDataset(args.score_folder)
    folder.on_bad_audio = args.on_bad_audio
    skipped: set[str] = set()
    loader = scoring_loader(folder, args.batch_size, args.num_workers)
    table = score_dataset(model, loss, loader, device, None, "folder", skipped)
    scores = run_dir / "scores" / "folder.txt"
    scores.parent.mkdir()
    with open(scores, "w") as file:
        file.writelines(f"{utt_id}\t{float(score)!r}\n" for utt_id, score in zip(table.utt_ids, table.scores))
    logger.info(
        f"scored {len(table.utt_ids)} files of {args.score_folder} into {scores}"
        + (f"; skipped as bad audio: {' '.join(sorted(skipped))}" if skipped else "")
    )


def load_splits(args: argparse.Namespace, splits_wanted: Sequence[str] = SPLITS) -> dict[str, AudioDataset]:
    """The splits of --dataset, each capped by --limit."""
    splits = {}
    for split in splits_wanted:
        try:
            dataset = DATASETS[args.dataset](split, Path(args.data_root))
        except OSError as error:
            raise UsageError(
                f"--dataset {args.dataset}: cannot prepare the {split} split under --data_root {args.data_root}: {error}"
            ) from None
        dataset.on_bad_audio = args.on_bad_audio
        if args.limit is not None:
            dataset.limit(args.limit, args.seed)
        if len(set(dataset.labels.tolist())) < 2:
            raise UsageError(f"the {split} split of {args.dataset} has only one class; raise --limit")
        splits[split] = dataset
    return splits


@dataclass
class Experiment:
    """What one run works with, from the checked arguments to the W&B run."""

    args: argparse.Namespace
    run_dir: Path
    logger: logging.Logger
    device: torch.device
    splits: dict[str, AudioDataset]
    model: Countermeasure
    loss: BaseLoss
    caches: dict[str, FeatureCache | None]
    wandb_run: object | None
    skipped: dict[str, set[str]] = field(default_factory=lambda: {split: set() for split in SPLITS})


def configure_training(args: argparse.Namespace, train_split: AudioDataset) -> bool:
    """Random crops (--max_len) and augmentation (--augment) of the training split; whether any."""
    if args.max_len is None and not args.augmentations:
        return False
    augmentation = [AUGMENTATIONS[name](**args.hyper_parameters["augmentation"][name]) for name in args.augmentations]
    max_len = None if args.max_len is None else round(args.max_len * SAMPLE_RATE)
    train_split.configure_training(max_len, Compose(augmentation) if augmentation else None, args.seed)
    return True


def feature_caches(
    args: argparse.Namespace, model: Countermeasure, logger: logging.Logger, varying_train: bool
) -> dict[str, FeatureCache | None]:
    """A FeatureCache per split when the extractor is frozen and --feature_cache_gb > 0, else None;
    none for the training split when its waves change from epoch to epoch (`varying_train`)."""
    if args.feature_cache_gb == 0 or not model.extractor_is_frozen:
        return {split: None for split in SPLITS}
    logger.info(f"frozen extractor: its outputs are kept in memory (up to {args.feature_cache_gb} GB per split)")
    return {
        split: None if split == "train" and varying_train else FeatureCache(model.extractor, int(args.feature_cache_gb * 2**30))
        for split in SPLITS
    }


def parameter_groups(args: argparse.Namespace, model: Countermeasure, loss: BaseLoss) -> list[dict]:
    """Adam's parameter groups: everything at --lr, a fine-tuned extractor at --extractor_lr."""
    extractor = [parameter for parameter in model.extractor.parameters() if parameter.requires_grad]
    rest = [*model.processor.parameters(), *model.classifier.parameters(), *loss.parameters()]
    return [{"params": rest}, *([{"params": extractor, "lr": args.extractor_lr}] if extractor else [])]


def train(experiment: Experiment) -> int:
    """Train for --num_epochs, validating on dev; leaves the best-on-dev state in model and loss.

    Returns the best epoch (lowest dev EER, the earliest on ties).
    """
    args, model, loss, splits = experiment.args, experiment.model, experiment.loss, experiment.splits
    optimizer = torch.optim.Adam(parameter_groups(args, model, loss), lr=args.lr, weight_decay=args.weight_decay)
    train_loader = training_loader(splits["train"], args.batch_size, args.seed, args.num_workers)
    dev_loader = scoring_loader(splits["dev"], args.batch_size, args.num_workers)
    checkpoints = experiment.run_dir / "checkpoints"
    checkpoints.mkdir()
    best_epoch, best_eer, best_state = 0, float("inf"), None
    for epoch in trange(1, args.num_epochs + 1, desc="epochs", dynamic_ncols=True, disable=None):
        splits["train"].set_epoch(epoch)
        train_losses = train_one_epoch(
            model, loss, train_loader, optimizer, experiment.device, experiment.caches["train"], f"epoch {epoch}",
            experiment.skipped["train"],
        )
        dev = score_dataset(
            model, loss, dev_loader, experiment.device, experiment.caches["dev"], "dev", experiment.skipped["dev"]
        )
        dev_eer, _ = compute_eer(dev.bonafide_scores, dev.spoof_scores)
        losses = ", ".join(f"Loss/{name} {value:.4f}" for name, value in train_losses.items())
        experiment.logger.info(f"epoch {epoch}/{args.num_epochs}: {losses}, dev EER {100 * dev_eer:.2f}%")
        if experiment.wandb_run is not None:
            experiment.wandb_run.log(
                {**{f"Loss/{name}": value for name, value in train_losses.items()}, "dev/eer": dev_eer}, step=epoch
            )
        state = {
            "epoch": epoch,
            "dev_eer": dev_eer,
            "model": model.trainable_state_dict(),
            "loss": loss.state_dict(),
            "optimizer": optimizer.state_dict(),
            "arguments": vars(args),
        }
        torch.save(state, checkpoints / "last.pt")
        if dev_eer < best_eer:
            best_epoch, best_eer = epoch, dev_eer
            best_state = {part: {key: value.detach().cpu().clone() for key, value in state[part].items()} for part in ("model", "loss")}
            torch.save(state, checkpoints / "best.pt")
    model.load_trainable_state_dict(best_state["model"])
    loss.load_state_dict(best_state["loss"])
    experiment.logger.info(f"best epoch on dev: {best_epoch} (dev EER {100 * best_eer:.2f}%)")
    return best_epoch


def evaluate(experiment: Experiment) -> tuple[dict, dict[str, ScoreTable]]:
    """Scores dev and eval, writes their score files, and returns the metrics per split.

    Accuracy on both splits uses the dev EER threshold (eval never tunes its own threshold).
    """
    args = experiment.args
    tables = {
        split: score_dataset(
            experiment.model,
            experiment.loss,
            scoring_loader(experiment.splits[split], args.batch_size, args.num_workers),
            experiment.device,
            experiment.caches[split],
            split,
            experiment.skipped[split],
        )
        for split in ("dev", "eval")
    }
    (experiment.run_dir / "scores").mkdir()
    for split, table in tables.items():
        table.write(experiment.run_dir / "scores" / f"{split}.txt")
    _, dev_threshold = compute_eer(tables["dev"].bonafide_scores, tables["dev"].spoof_scores)
    metrics = {
        split: {
            **compute_metrics(table.bonafide_scores, table.spoof_scores, decision_threshold=dev_threshold),
            "eer_per_attack": compute_eer_per_attack(table.scores, table.labels, table.attack_names),
        }
        for split, table in tables.items()
    }
    for split, table in tables.items():
        tdcf = min_tdcf(args, experiment.splits[split], split, table, experiment.logger)
        if tdcf is not None:
            metrics[split]["min_tdcf"] = tdcf
    challenge = experiment.splits["eval"].submission_format
    if challenge is not None:
        tables["eval"].write_submission(experiment.run_dir / "scores" / f"eval_submission_{challenge}.txt", challenge)
    for split, values in metrics.items():
        with open(experiment.run_dir / f"eer_per_attack_{split}.csv", "w") as file:
            file.write("attack,eer_percent\n")
            file.writelines(f"{attack},{100 * eer:.4f}\n" for attack, eer in values["eer_per_attack"].items())
    return metrics, tables


def asv_scores_of(args: argparse.Namespace, dataset: AudioDataset, split: str) -> AsvScores | None:
    """Where the ASV scores of `split` are: --asv_scores for eval, else the corpus's official place."""
    official = dataset.asv_scores.get(split)
    if split == "eval" and args.asv_scores is not None:
        variant = official.variant if official is not None else "2019"
        return AsvScores(args.asv_scores, args.asv_protocol, "eval" if args.asv_protocol else None, variant)
    if official is None:
        return None
    root = Path(args.data_root)
    return official._replace(
        scores=str(root / official.scores), protocol=official.protocol and str(root / official.protocol)
    )


def min_tdcf(args: argparse.Namespace, dataset: AudioDataset, split: str, table: ScoreTable, logger: logging.Logger) -> float | None:
    """The min t-DCF of the split's scores with the organisers' ASV scores, when there are any."""
    asv = asv_scores_of(args, dataset, split)
    if asv is None:
        return None
    if not Path(asv.scores).is_file():
        if split == "eval" and args.asv_scores is not None:
            raise UsageError(f"--asv_scores {args.asv_scores} does not exist")
        logger.info(f"{split}: no ASV scores at {asv.scores}, so no t-DCF")
        return None
    try:
        target, nontarget, spoof = read_asv_scores(asv.scores, asv.protocol, asv.subset)
        tdcf, _ = compute_min_tdcf(table.bonafide_scores, table.spoof_scores, target, nontarget, spoof, asv.variant)
    except ValueError as error:
        raise UsageError(f"the t-DCF of {split} with the ASV scores {asv.scores}: {error}") from None
    logger.info(f"{split}: min t-DCF ({asv.variant}) {tdcf:.4f} with the ASV scores {asv.scores}")
    return tdcf


def results_table(metrics: dict) -> str:
    """The metrics of each split as a small text table, EER in %, then eval's EER per attack."""
    lines = [f"{'':6}{'EER %':>8}{'minDCF':>9}{'actDCF':>9}{'Cllr':>9}{'accuracy':>10}"]
    for split, values in metrics.items():
        lines.append(
            f"{split:6}{100 * values['eer']:8.2f}{values['min_dcf']:9.4f}{values['act_dcf']:9.4f}"
            f"{values['cllr']:9.4f}{values['accuracy']:10.4f}"
        )
    per_attack = metrics["eval"]["eer_per_attack"]
    lines.append("eval EER % per attack: " + ", ".join(f"{attack} {100 * eer:.2f}" for attack, eer in per_attack.items()))
    lines.extend(f"{split} min t-DCF: {values['min_tdcf']:.4f}" for split, values in metrics.items() if "min_tdcf" in values)
    return "\n".join(lines)


def start_wandb(args: argparse.Namespace, run_dir: Path, config: dict):
    """A Weights & Biases run in <run_dir>/wandb (WANDB_MODE=offline works without an account)."""
    import wandb

    try:
        return wandb.init(project=args.wandb_project, name=run_dir.name, dir=str(run_dir), config=config)
    except Exception as error:  # wandb reports login and network problems with many exception types
        raise UsageError(f"--wandb: Weights & Biases did not start ({error}); run `wandb login` or set WANDB_MODE=offline") from None


def finish_wandb(wandb_run, metrics: dict, run_dir: Path) -> None:
    """Log the final metrics and figures to W&B and close the run."""
    import wandb

    wandb_run.log(
        {
            **{f"{split}/{name}": value for split, values in metrics.items() for name, value in values.items()},
            "eval/det_curve": wandb.Image(str(run_dir / "det_eval.png")),
            "eval/score_histogram": wandb.Image(str(run_dir / "score_histogram_eval.png")),
        }
    )
    wandb_run.finish()


def run(args: argparse.Namespace, run_dir: Path, started: float, checkpoint: dict | None = None) -> dict | None:
    """Everything after the checks, inside the new run directory; returns the results row.

    With a `checkpoint` (--eval_only) the model is restored from it instead of trained; with
    --score_folder too, the folder is scored and there is no results row (None).
    """
    logger = setup_logger(run_dir)
    config = write_config(run_dir, args)
    device = resolve_device(args.device)
    seed_everything(args.seed)
    model, loss = build_model(args)
    if checkpoint is not None:
        model.load_trainable_state_dict(checkpoint["model"])
        loss.load_state_dict(checkpoint["loss"])
        logger.info(f"evaluation only, with {args.checkpoint} (epoch {checkpoint['epoch']})")
    model.to(device)
    loss.to(device)
    if args.score_folder is not None:
        score_folder(args, model, loss, device, run_dir, logger)
        return None
    splits = load_splits(args, SPLITS if checkpoint is None else ("dev", "eval"))
    logger.info(
        f"run {run_dir}: {args.dataset} ({', '.join(f'{s} {len(d)}' for s, d in splits.items())} utterances), "
        f"{args.extractor} -> {args.processor} -> {args.classifier} -> {args.loss}, device {device}"
    )
    for split, dataset in splits.items():
        if dataset.pairs:
            logger.info(f"{split} references: {dataset.pair_summary()}")
    varying_train = checkpoint is None and configure_training(args, splits["train"])
    experiment = Experiment(
        args, run_dir, logger, device, splits, model, loss,
        caches=feature_caches(args, model, logger, varying_train),
        wandb_run=start_wandb(args, run_dir, config) if args.wandb else None,
    )

    best_epoch = train(experiment) if checkpoint is None else checkpoint["epoch"]
    metrics, tables = evaluate(experiment)
    wall_seconds = time.time() - started
    skipped = {split: sorted(ids) for split, ids in experiment.skipped.items() if ids}
    for split, ids in skipped.items():
        logger.info(f"{split}: {len(ids)} bad audio files skipped: {' '.join(ids)}")
    (run_dir / "metrics.json").write_text(
        json.dumps(
            {
                **metrics,
                "best_epoch": best_epoch,
                "wall_seconds": wall_seconds,
                "skipped_bad_audio": {split: len(ids) for split, ids in skipped.items()},
            },
            indent=2,
        )
        + "\n"
    )
    evaluation = tables["eval"]
    plot_det_curve(run_dir / "det_eval.png", evaluation.bonafide_scores, evaluation.spoof_scores, title=run_dir.name)
    plot_score_histogram(
        run_dir / "score_histogram_eval.png", evaluation.bonafide_scores, evaluation.spoof_scores, title=run_dir.name
    )
    if experiment.wandb_run is not None:
        finish_wandb(experiment.wandb_run, metrics, run_dir)
    logger.info("results (accuracy at the dev EER threshold):\n" + results_table(metrics))
    return results_row(args, run_dir, metrics, best_epoch, wall_seconds)


def discard_run_dir(run_dir: Path | None) -> str:
    """Removes a run directory left by a mistake, unless training already saved checkpoints there;
    returns what to add to the error message."""
    if run_dir is None:
        return ""
    if any((run_dir / "checkpoints").glob("*.pt")):
        return f" (the checkpoints of the training are kept in {run_dir / 'checkpoints'}: score them with --eval_only)"
    shutil.rmtree(run_dir, ignore_errors=True)
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    started = time.time()
    run_dir = None
    try:
        args = parse_arguments(argv)
        if args.list:
            print(component_list())
            return 0
        checkpoint = load_checkpoint(args.checkpoint) if args.eval_only else None
        if checkpoint is not None:
            adopt_checkpoint(args, checkpoint)
        results_csv = Path(args.results_csv)
        check_results_csv(results_csv)
        check_output_dir(args)
        run_dir = create_run_dir(args)
        row = run(args, run_dir, started, checkpoint)
    except (UsageError, BadAudioError) as error:
        fix = "; fix or remove the file, or pass --on_bad_audio skip" if isinstance(error, BadAudioError) else ""
        print(f"train_and_eval.py: error: {error}{fix}{discard_run_dir(run_dir)}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"train_and_eval.py: training diverged: {error} (the log is in {run_dir}; no results row)", file=sys.stderr)
        return 1
    if row is not None:
        append_result(results_csv, row)
    print(f"run directory: {run_dir}" + (f"\nresults row appended to {results_csv}" if row is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
