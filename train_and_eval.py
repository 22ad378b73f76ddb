"""Train a spoofing countermeasure, pick the best epoch on dev, evaluate on eval, log the results.

    python train_and_eval.py --extractor LFCC --processor Mean --classifier EmbeddingFF \
        --loss AdditiveAngularMargin --margin 0.3

parse -> build -> fit -> evaluate -> report; see `--help` and `--list`.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

from augmentation.compose import Compose
from common import AUGMENTATIONS, DATASETS
from conventions import SAMPLE_RATE, SPLITS, UsageError
from datasets.audio import BadAudioError
from datasets.base import AudioDataset
from datasets.folder import FolderDataset
from evaluation import evaluate
from model import Countermeasure, build_model
from parse_arguments import adopt_checkpoint, parse_arguments, recorded_arguments
from reporting.report import results_table, write_report
from reporting.results_csv import append_result, check_results_csv, results_row
from reporting.run_directory import check_output_dir, create_run_dir, setup_logger, write_config
from reporting.run_log import RunLog
from reporting.score_files import write_folder_scores
from settings import component_list
from training.checkpoints import load_checkpoint
from training.feature_cache import FeatureCache
from training.scoring import TrainingDiverged
from training.trainer import Trainer, TrainingSettings, seed_everything


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


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


def configure_training(args: argparse.Namespace, train_split: AudioDataset) -> bool:
    """Random crops (--max_len) and augmentation (--augment) of the training split; whether any."""
    if args.max_len is None and not args.augmentations:
        return False
    augmentation = [AUGMENTATIONS[name](**args.hyper_parameters["augmentation"][name]) for name in args.augmentations]
    max_len = None if args.max_len is None else round(args.max_len * SAMPLE_RATE)
    train_split.configure_training(max_len, Compose(augmentation) if augmentation else None, args.seed)
    return True


def feature_caches(args: argparse.Namespace, model: Countermeasure, log: RunLog, varying_train: bool) -> dict[str, FeatureCache | None]:
    """A FeatureCache per split when the extractor is frozen and --feature_cache_gb > 0, else None;
    none for the training split when its waves change from epoch to epoch (`varying_train`)."""
    if args.feature_cache_gb == 0 or not model.extractor_is_frozen:
        return {split: None for split in SPLITS}
    log.info(f"frozen extractor: its outputs are kept in memory (up to {args.feature_cache_gb} GB per split)")
    return {
        split: None if split == "train" and varying_train else FeatureCache(model.extractor, int(args.feature_cache_gb * 2**30))
        for split in SPLITS
    }


def score_folder(args: argparse.Namespace, trainer: Trainer, run_dir: Path) -> None:
    """Scores every audio file under --score_folder into scores/folder.txt (`path<TAB>score` lines)."""
    folder = FolderDataset(args.score_folder)
    folder.on_bad_audio = args.on_bad_audio
    table = trainer.score(folder, None, "folder")
    scores = run_dir / "scores" / "folder.txt"
    scores.parent.mkdir()
    write_folder_scores(scores, table)
    skipped = trainer.skipped["folder"]
    trainer.log.info(
        f"scored {len(table.utt_ids)} files of {args.score_folder} into {scores}"
        + (f"; skipped as bad audio: {' '.join(sorted(skipped))}" if skipped else "")
    )


def run(args: argparse.Namespace, run_dir: Path, started: float, checkpoint: dict | None = None) -> dict | None:
    """Everything after the checks, inside the new run directory; returns the results row.

    With a `checkpoint` (--eval_only) the model is restored from it instead of trained; with
    --score_folder too, the folder is scored and there is no results row (None).
    """
    log = RunLog(setup_logger(run_dir))
    arguments = recorded_arguments(args)
    config = write_config(run_dir, arguments)
    device = resolve_device(args.device)
    seed_everything(args.seed)
    model, loss = build_model(args)
    if checkpoint is not None:
        model.load_trainable_state_dict(checkpoint["model"])
        loss.load_state_dict(checkpoint["loss"])
        log.info(f"evaluation only, with {args.checkpoint} (epoch {checkpoint['epoch']})")
    model.to(device)
    loss.to(device)
    trainer = Trainer(model, loss, TrainingSettings.from_arguments(args), device, log)
    if args.score_folder is not None:
        score_folder(args, trainer, run_dir)
        return None
    splits = load_splits(args, SPLITS if checkpoint is None else ("dev", "eval"))
    log.info(
        f"run {run_dir}: {args.dataset} ({', '.join(f'{s} {len(d)}' for s, d in splits.items())} utterances), "
        f"{args.extractor} -> {args.processor} -> {args.classifier} -> {args.loss}, device {device}"
    )
    for split, dataset in splits.items():
        if dataset.pairs:
            log.info(f"{split} references: {dataset.pair_summary()}")
    varying_train = checkpoint is None and configure_training(args, splits["train"])
    caches = feature_caches(args, model, log, varying_train)
    if args.wandb:
        log.start_wandb(args, run_dir, config)

    if checkpoint is None:
        best_epoch = trainer.fit(splits["train"], splits["dev"], run_dir / "checkpoints", arguments, caches)
    else:
        best_epoch = checkpoint["epoch"]
    tables = {split: trainer.score(splits[split], caches[split], split) for split in ("dev", "eval")}
    metrics = evaluate(args, splits, tables, log)

    wall_seconds = time.time() - started
    skipped = {split: sorted(ids) for split, ids in trainer.skipped.items() if ids}
    for split, ids in skipped.items():
        log.info(f"{split}: {len(ids)} bad audio files skipped: {' '.join(ids)}")
    summary = {
        "best_epoch": best_epoch,
        "wall_seconds": wall_seconds,
        "skipped_bad_audio": {split: len(ids) for split, ids in skipped.items()},
    }
    figures = write_report(run_dir, tables, metrics, summary, splits["eval"].submission_format)
    log.finish(metrics, figures)
    log.info("results (accuracy at the dev EER threshold):\n" + results_table(metrics))
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
            adopt_checkpoint(args, checkpoint["arguments"])
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
