"""Train a spoofing countermeasure, pick the best epoch on dev, evaluate on eval, log the results.

    python train_and_eval.py --extractor LFCC --processor Mean --classifier EmbeddingFF \
        --loss AdditiveAngularMargin --margin 0.3
    torchrun --nproc_per_node 2 train_and_eval.py ...        (distributed data parallel)

parse -> build -> fit -> evaluate -> report; see `--help` and `--list`.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from augmentation.compose import Compose
from common import AUGMENTATIONS, DATASETS
from conventions import LABEL_NAMES, SAMPLE_RATE, SPLITS, UsageError, one_line
from datasets.audio import BadAudioError
from datasets.base import AudioDataset
from datasets.corpus import FileDataset
from datasets.folder import FolderDataset
from evaluation import evaluate
from inference import load_model_file, restore
from losses.base import BaseLoss
from model import Countermeasure, build_model
from parse_arguments import adopt_checkpoint, parse_arguments, recorded_arguments
from reporting.report import results_table, write_report
from reporting.results_csv import append_result, check_results_csv, has_row, results_row
from reporting.run_directory import create_run_dir, setup_logger, write_config
from reporting.run_log import RunLog
from reporting.score_files import write_folder_scores
from settings import component_list
from training import distributed
from training.checkpoints import load_checkpoint
from training.distributed import Ranks, environment_ranks
from training.feature_cache import FeatureCache
from training.scoring import TrainingDiverged
from training.trainer import FitResult, Trainer, TrainingSettings, seed_everything

RESUME_STATE = {"optimizer", "schedule", "scaler", "selection", "random", "skipped"}  # what last.pt holds to resume


def resolve_device(name: str, ranks: Ranks) -> torch.device:
    """--device: cuda when asked or ("auto") available, under torchrun the local rank's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device("cuda", ranks.local_rank) if name == "cuda" and ranks.distributed else torch.device(name)


def samples(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * SAMPLE_RATE)


def load_splits(args: argparse.Namespace, min_length: int, splits_wanted: Sequence[str] = SPLITS) -> dict[str, AudioDataset]:
    """The splits of --dataset, each capped by --limit; dev and eval scored on their first
    --eval_max_len seconds when it is given; a wave shorter than `min_length` samples is bad audio.
    Audio paths outside --data_root are refused unless --allow_outside_data_root."""
    splits = {}
    for split in splits_wanted:
        try:
            dataset = DATASETS[args.dataset](split, Path(args.data_root))
        except OSError as error:
            raise UsageError(
                f"--dataset {args.dataset}: cannot prepare the {split} split under --data_root {args.data_root}: {error}"
            ) from None
        outside = dataset.sources_outside(Path(args.data_root)) if isinstance(dataset, FileDataset) else []
        if outside and not args.allow_outside_data_root:
            raise UsageError(
                f"the {split} split of {args.dataset} names {len(outside)} audio file(s) outside --data_root {args.data_root} "
                f"(the first: {outside[0]}); move them in, or pass --allow_outside_data_root if that is meant"
            )
        dataset.on_bad_audio = args.on_bad_audio
        dataset.min_length = min_length
        if args.limit is not None:
            dataset.limit(args.limit, args.seed)
        classes = set(dataset.labels.tolist())
        if not classes:
            raise UsageError(f"the {split} split of {args.dataset} holds no utterance; check its protocol under --data_root {args.data_root}")
        if len(classes) < 2:
            fix = "raise --limit" if args.limit is not None else "a split needs both bona fide and spoof trials; check its protocol"
            raise UsageError(f"the {split} split of {args.dataset} holds only {LABEL_NAMES[classes.pop()]} utterances; {fix}")
        if split != "train" and args.eval_max_len is not None:
            dataset.configure_scoring(samples(args.eval_max_len))
        splits[split] = dataset
    return splits


def configure_training(args: argparse.Namespace, train_split: AudioDataset) -> bool:
    """Crops (--max_len, --crop) and augmentation (--augment) of the training split; whether its
    waves change from epoch to epoch."""
    if args.max_len is None and not args.augmentations:
        return False
    augmentation = [AUGMENTATIONS[name](**args.hyper_parameters["augmentation"][name]) for name in args.augmentations]
    train_split.configure_training(samples(args.max_len), Compose(augmentation) if augmentation else None, args.seed, args.crop)
    return bool(augmentation) or args.crop == "random"


def feature_caches(args: argparse.Namespace, model: Countermeasure, log: RunLog, varying_train: bool) -> dict[str, FeatureCache | None]:
    """A FeatureCache per split when the extractor is frozen, its outputs are worth keeping
    (`cache_outputs`) and --feature_cache_gb > 0, else None; none for the training split when its
    waves change from epoch to epoch (`varying_train`)."""
    if args.feature_cache_gb == 0 or not model.extractor_is_frozen or not model.extractor.cache_outputs:
        return {split: None for split in SPLITS}
    log.info(f"frozen extractor: its outputs are kept in memory (up to {args.feature_cache_gb} GB per split)")
    return {
        split: None if split == "train" and varying_train else FeatureCache(model.extractor, int(args.feature_cache_gb * 2**30))
        for split in SPLITS
    }


def score_folder(args: argparse.Namespace, trainer: Trainer, run_dir: Path) -> None:
    """Scores every audio file under --score_folder into scores/folder.txt (`path<TAB>score` lines)."""
    folder = FolderDataset(args.score_folder)
    if folder.outside_links:
        trainer.log.info(
            f"not scored: {len(folder.outside_links)} link(s) to files outside {args.score_folder}: {' '.join(folder.outside_links)}"
        )
    folder.on_bad_audio = args.on_bad_audio
    folder.min_length = trainer.model.extractor.min_samples
    if args.eval_max_len is not None:
        folder.configure_scoring(samples(args.eval_max_len))
    table = trainer.score(folder, None, "folder")
    if not trainer.ranks.is_main:
        return
    scores = run_dir / "scores" / "folder.txt"
    scores.parent.mkdir()
    write_folder_scores(scores, table)
    skipped = trainer.skipped["folder"]
    trainer.log.info(
        f"scored {len(table.utt_ids)} files of {args.score_folder} into {scores}"
        + (f"; skipped as bad audio: {' '.join(sorted(skipped))}" if skipped else "")
    )


def run(
    args: argparse.Namespace,
    run_dir: Path,
    started: float,
    device: torch.device,
    ranks: Ranks,
    checkpoint: dict | None = None,
    resume: dict | None = None,
    adopted: Sequence[str] = (),
) -> dict | None:
    """Everything after the checks, inside the run directory; returns the results row (rank 0).

    With a `checkpoint` (--eval_only) the model is restored from it instead of trained (`adopted`:
    the scoring flags taken from it, for the log); with --score_folder too, the folder is scored and
    there is no results row (None). With `resume` (the run's last.pt, --resume) training continues
    after its last completed epoch.
    """
    log = RunLog(setup_logger(run_dir) if ranks.is_main else None)
    arguments = recorded_arguments(args)
    config = {"arguments": arguments}
    if args.resume is not None:  # the run's own config.json stays as its first start wrote it
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    elif ranks.is_main:
        config = write_config(run_dir, arguments)
    seed_everything(args.seed)
    model, loss = build_model(args)
    if checkpoint is not None:
        restore(model, loss, checkpoint, f"--checkpoint {args.checkpoint}")
        as_run = ", ".join(f"--{flag} {getattr(args, flag)}" for flag in adopted)
        weights = f"the released weights of {checkpoint['published']}" if "published" in checkpoint else f"epoch {checkpoint['epoch']}"
        log.info(f"evaluation only, with {args.checkpoint} ({weights})" + (f"; as the run scored: {as_run}" if as_run else ""))
    elif args.init_from is not None and resume is None:
        initialise_from(args, model, loss, log)
    model.to(device)
    loss.to(device)
    trainer = Trainer(model, loss, TrainingSettings.from_arguments(args), device, log, ranks=ranks)
    if args.score_folder is not None:
        score_folder(args, trainer, run_dir)
        return None
    splits = load_splits(args, model.extractor.min_samples, SPLITS if checkpoint is None else ("dev", "eval"))
    log.info(
        f"run {run_dir}: {args.dataset} ({', '.join(f'{s} {len(d)}' for s, d in splits.items())} utterances), "
        f"{args.extractor} -> {args.processor} -> {args.classifier} -> {args.loss}, device {device}"
        + (f", {ranks.world_size} processes" if ranks.distributed else "")
    )
    for split, dataset in splits.items():
        if dataset.pairs:
            log.info(f"{split} references: {dataset.pair_summary()}")
    varying_train = checkpoint is None and configure_training(args, splits["train"])
    caches = feature_caches(args, model, log, varying_train)
    if args.wandb and ranks.is_main:
        log.start_wandb(args, run_dir, config)

    if checkpoint is None:
        fitted = trainer.fit(splits["train"], splits["dev"], run_dir / "checkpoints", arguments, caches, resume)
    else:
        fitted = FitResult(checkpoint["epoch"], checkpoint.get("averaged_epochs", [checkpoint["epoch"]]), checkpoint["epoch"])
    tables = {split: trainer.score(splits[split], caches[split], split) for split in ("dev", "eval")}
    if not ranks.is_main:
        return None
    metrics = evaluate(args, splits, tables, log)

    wall_seconds = time.time() - started
    skipped = {split: sorted(ids) for split, ids in trainer.skipped.items() if ids}
    for split, ids in skipped.items():
        log.info(f"{split}: {len(ids)} bad audio files skipped: {' '.join(ids)}")
    summary: dict[str, Any] = {"best_epoch": fitted.best_epoch}
    if (args.average is not None) if checkpoint is None else "averaged_epochs" in checkpoint:
        summary["averaged_epochs"] = fitted.epochs
    if checkpoint is None and fitted.last_epoch < args.num_epochs:
        summary["stopped_after_epoch"] = fitted.last_epoch
    summary.update({"wall_seconds": wall_seconds, "skipped_bad_audio": {split: len(ids) for split, ids in skipped.items()}})
    figures = write_report(run_dir, tables, metrics, summary, splits["eval"].submission_format)
    log.finish(metrics, figures)
    log.info("results (accuracy at the dev EER threshold):\n" + results_table(metrics))
    return results_row(args, run_dir, metrics, fitted.best_epoch, wall_seconds)


def initialise_from(args: argparse.Namespace, model: Countermeasure, loss: BaseLoss, log: RunLog) -> None:
    """--init_from: the model's weights (and the loss's state, when the losses are the same) from a
    checkpoint of a run of the same model, or from released weights of this reference model."""
    checkpoint = load_model_file(args.init_from, "--init_from")
    saved = checkpoint["arguments"]
    stages = ("extractor", "processor", "classifier")
    theirs, ours = [saved.get(stage) for stage in stages], [getattr(args, stage) for stage in stages]
    if theirs != ours:
        what = f"the released weights of {checkpoint['published']}" if "published" in checkpoint else "a model"
        raise UsageError(
            f"--init_from {args.init_from} holds {what} of --extractor {theirs[0]} --processor {theirs[1]} --classifier "
            f"{theirs[2]}; give those stages (and their settings) to start from it"
        )
    same_loss = checkpoint["loss"] is not None and saved.get("losses") == args.losses
    restore(model, loss, checkpoint if same_loss else {**checkpoint, "loss": None}, f"--init_from {args.init_from}")
    log.info(f"initialised from {args.init_from} (the model" + (" and the loss's state)" if same_loss else "; the loss starts anew)"))


def open_run_dir(args: argparse.Namespace) -> tuple[list[str], bool]:
    """Rank 0's checks and run directory: a new one, or --resume's (refused when its row is already
    in the results CSV); returns the folders created for it (the run directory last; --resume's
    alone when it existed) and whether it holds a last.pt to resume from."""
    results_csv = Path(args.results_csv)
    check_results_csv(results_csv)
    if args.resume is None:
        return [str(folder) for folder in create_run_dir(args)], False
    run_dir = Path(args.resume)
    if has_row(results_csv, run_dir):
        raise UsageError(f"--resume {run_dir}: the run has finished (its row is in {results_csv}); nothing to resume")
    return [str(run_dir)], (run_dir / "checkpoints" / "last.pt").is_file()


def on_rank_zero(function: Callable[[], Any], ranks: Ranks) -> Any:
    """`function()` on rank 0, its result on every rank; a UsageError there is raised on every rank."""
    outcome: tuple[str, Any] = ("", None)
    if ranks.is_main:
        try:
            outcome = ("ok", function())
        except UsageError as error:
            outcome = ("error", str(error))
    outcome = distributed.broadcast_object(outcome)
    if outcome[0] == "error":
        raise UsageError(outcome[1])
    return outcome[1]


def discard_run_dir(created: list[str], args: argparse.Namespace | None) -> str:
    """Removes a new run directory left by a mistake (and the folders made for it, when empty),
    unless training already saved checkpoints there; returns what to add to the error message."""
    if not created or args is None or args.resume is not None:
        return ""
    run_dir = Path(created[-1])
    if any((run_dir / "checkpoints").glob("*.pt")):
        return f" (the checkpoints of the training are kept in {run_dir / 'checkpoints'}: score them with --eval_only)"
    shutil.rmtree(run_dir, ignore_errors=True)
    for folder in reversed(created[:-1]):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()  # only when empty
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    started = time.time()
    ranks = environment_ranks()
    args, run_dir, row, created = None, None, None, []
    try:
        args = parse_arguments(argv)
        if args.list:
            print(component_list())
            return 0
        device = resolve_device(args.device, ranks)
        distributed.start(ranks, device)
        checkpoint = load_model_file(args.checkpoint) if args.eval_only else None
        adopted = adopt_checkpoint(args, checkpoint["arguments"]) if checkpoint is not None else []
        created, resumable = on_rank_zero(lambda: open_run_dir(args), ranks)
        run_dir = Path(created[-1])
        resume = load_checkpoint(str(run_dir / "checkpoints" / "last.pt"), "--resume") if resumable else None
        if resume is not None and not RESUME_STATE <= resume.keys():
            raise UsageError(
                f"--resume {run_dir}: its last.pt was written by a version without exact resume (no optimizer and "
                "random-generator state); score its best.pt with --eval_only, or train it anew"
            )
        row = run(args, run_dir, started, device, ranks, checkpoint, resume, adopted)
        distributed.stop(together=True)
    except (UsageError, BadAudioError) as error:
        fix = "; fix or remove the file, or pass --on_bad_audio skip" if isinstance(error, BadAudioError) else ""
        if ranks.is_main:
            print(f"train_and_eval.py: error: {one_line(error)}{fix}{discard_run_dir(created, args)}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        if ranks.is_main:
            print(f"train_and_eval.py: training diverged: {one_line(error)} (the log is in {run_dir}; no results row)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if ranks.is_main:
            print(f"train_and_eval.py: interrupted; {interrupted(run_dir, args, ranks)}", file=sys.stderr)
        return 130
    finally:
        distributed.stop()
    if row is not None:
        append_result(Path(args.results_csv), row)
    if ranks.is_main:
        print(f"run directory: {run_dir}" + (f"\nresults row appended to {args.results_csv}" if row is not None else ""))
    return 0


def interrupted(run_dir: Path | None, args: argparse.Namespace | None, ranks: Ranks) -> str:
    """What an interrupted run leaves: a training run resumes; anything else is removed."""
    if run_dir is not None and args is not None and not args.eval_only:
        launcher = f"torchrun --nproc_per_node {ranks.world_size}" if ranks.distributed else "python"
        return f"continue it with: {launcher} train_and_eval.py --resume {run_dir}"
    if run_dir is not None and args is not None:
        shutil.rmtree(run_dir, ignore_errors=True)
    return "nothing was kept"


if __name__ == "__main__":
    sys.exit(main())
