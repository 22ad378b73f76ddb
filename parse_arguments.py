"""Command-line arguments: the fixed flags, plus the component settings of settings.py.

`parse_arguments` returns a fully checked namespace whose `hyper_parameters` holds the resolved
settings of each chosen component (settings.resolve_settings), or raises UsageError.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, Callable, NoReturn, Sequence

from common import AUGMENTATIONS, CLASSIFIERS, DATASETS, MINERS, REGISTRIES, check_combination, parse_loss_spec
from conventions import UsageError
from settings import add_setting_flags, given_setting_flags, resolve_settings, restore_settings, setting_flag_dests
from training.trainer import TrainingSettings

DATA_ROOT_VARIABLE = "CA_MHFA_DATA_ROOT"
DEFAULT_DATASET = "Synthetic"
# what a checkpoint fixes: with --eval_only these come from it and may not be given
MODEL_FLAGS = ("extractor", "extractor_path", "finetune", "extractor_lr", "processor", "classifier", "loss", "loss_weights", "miner")
TRAINING_FLAGS = ("lr", "weight_decay", "num_epochs", "seed", "max_len", "augment")
MIN_MAX_LEN = 0.1  # seconds: every front-end has whole frames in a crop this long
DEFAULT_EXTRACTOR_LR = 1e-6


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def number(kind: type, allow_zero: bool = False) -> Callable[[str], Any]:
    """argparse type: a `kind` number greater than zero (or at least zero with `allow_zero`)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"{text} must be {'at least 0' if allow_zero else 'greater than 0'}")
        return value

    parse.__name__ = f"{'non-negative' if allow_zero else 'positive'} {kind.__name__}"
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="train_and_eval.py",
        usage="%(prog)s [--dataset NAME] [--extractor NAME] [--processor NAME] [--classifier NAME] [--loss NAME[+NAME...]]\n"
        "       [--NAME VALUE | --COMPONENT.NAME VALUE ...] [options]",
        description="Train a spoofing countermeasure (extractor -> processor -> classifier -> loss), "
        "select the best epoch on dev, evaluate on eval, and append a row to the results CSV. "
        "--list shows every component and its settings.",
    )
    parser.add_argument("--list", action="store_true", help="print every registered component with its parameters, then exit")

    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset",
        default=None,
        choices=sorted(DATASETS),
        metavar="NAME",
        help=f"corpus: {', '.join(DATASETS)} (default: {DEFAULT_DATASET}, built in; with --eval_only the checkpoint's)",
    )
    data.add_argument(
        "--data_root",
        default=os.environ.get(DATA_ROOT_VARIABLE, "data"),
        help=f"folder holding the corpora (default: ${DATA_ROOT_VARIABLE}, else ./data); Synthetic is generated there",
    )
    data.add_argument("--local", action="store_true", help="run on this machine with corpora under --data_root (the default; kept for ca-mhfa commands)")
    data.add_argument(
        "--max_len",
        type=number(float),
        default=None,
        metavar="SECONDS",
        help="training: a random crop of this many seconds of each utterance (shorter ones repeated to it); "
        "evaluation always uses whole utterances (default: whole utterances)",
    )
    data.add_argument(
        "--on_bad_audio",
        choices=["error", "skip"],
        default="error",
        help="an unreadable, empty or non-finite audio file: stop naming it (error), or leave it out, "
        "listed in the log and counted in metrics.json (skip) (default: error)",
    )
    data.add_argument(
        "-a",
        "--augment",
        default=None,
        metavar="NAME[,NAME...]",
        help=f"training-time augmentation, applied in the order given: {', '.join(AUGMENTATIONS)} "
        "(their parameters: see --list; default: none)",
    )
    data.add_argument("--limit", type=number(int), default=None, metavar="N", help="keep at most N utterances per split (class-stratified), for smoke tests")

    model = parser.add_argument_group("model")
    model.add_argument("--extractor", default="LFCC", choices=sorted(REGISTRIES["extractor"]), help="front-end (default: LFCC)")
    model.add_argument(
        "--extractor_path",
        default=None,
        metavar="DIR",
        help="self-supervised extractors: load the weights from DIR (written by save_pretrained) "
        "instead of the Hugging Face cache; nothing is ever downloaded",
    )
    model.add_argument(
        "--finetune", action="store_true", help="self-supervised extractors: train the extractor too (default: frozen)"
    )
    model.add_argument(
        "--extractor_lr",
        type=number(float),
        default=None,
        help=f"learning rate of a fine-tuned extractor (default: {DEFAULT_EXTRACTOR_LR:g})",
    )
    model.add_argument("--processor", default="Mean", choices=sorted(REGISTRIES["processor"]), help="pooling back-end (default: Mean)")
    model.add_argument("--classifier", default="FF", choices=sorted(REGISTRIES["classifier"]), help="head (default: FF)")
    model.add_argument(
        "--loss",
        default="CrossEntropy",
        help="loss, also the scoring rule, or a sum of losses joined by + (default: CrossEntropy; see --list)",
    )
    model.add_argument(
        "--loss_weights", default=None, metavar="W1,W2,...", help="weights of the losses of a sum given to --loss (default: all 1)"
    )
    model.add_argument(
        "--miner", default=None, choices=sorted(MINERS), help="pytorch-metric-learning miner for the PML pair losses (default: none)"
    )
    add_setting_flags(parser)

    training = parser.add_argument_group("training")
    defaults = TrainingSettings()
    training.add_argument("--lr", type=number(float), default=defaults.lr, help=f"Adam learning rate (default: {defaults.lr:g})")
    training.add_argument(
        "--weight_decay", type=number(float, allow_zero=True), default=defaults.weight_decay,
        help=f"Adam weight decay (default: {defaults.weight_decay:g})",
    )
    training.add_argument(
        "--batch_size", type=number(int), default=defaults.batch_size, help=f"utterances per batch (default: {defaults.batch_size})"
    )
    training.add_argument(
        "-ep", "--num_epochs", type=number(int), default=defaults.num_epochs, help=f"training epochs (default: {defaults.num_epochs})"
    )
    training.add_argument(
        "--seed", type=number(int, allow_zero=True), default=defaults.seed,
        help=f"seed of initialisation, sampling, crops and augmentation (default: {defaults.seed})",
    )
    training.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: cuda when available (default: auto)")
    training.add_argument(
        "--num_workers", type=number(int, allow_zero=True), default=defaults.num_workers,
        help=f"data-loading worker processes (default: {defaults.num_workers})",
    )
    training.add_argument(
        "--feature_cache_gb",
        type=number(float, allow_zero=True),
        default=2.0,
        help="memory for keeping a frozen extractor's outputs, per split, so that each utterance is "
        "extracted once per run (default: 2; 0 turns the cache off)",
    )

    official = parser.add_argument_group("official evaluation")
    official.add_argument(
        "--asv_scores",
        default=None,
        metavar="FILE",
        help="the organisers' ASV scores of the eval split, for the min t-DCF (default: the corpus's own, "
        "when they lie in their official place under --data_root)",
    )
    official.add_argument(
        "--asv_protocol",
        default=None,
        metavar="FILE",
        help="the ASV protocol that keys an ASVspoof 2021 ASV score file (keys/LA/ASV/trial_metadata.txt)",
    )

    evaluation = parser.add_argument_group("evaluation only")
    evaluation.add_argument(
        "--eval_only",
        action="store_true",
        help="score the dev and eval splits of --dataset with --checkpoint's model, without training",
    )
    evaluation.add_argument(
        "--checkpoint", default=None, metavar="FILE", help="a checkpoint written by a run (runs/<run>/checkpoints/best.pt)"
    )
    evaluation.add_argument(
        "--score_folder",
        default=None,
        metavar="DIR",
        help="with --eval_only: score every audio file under DIR instead of a dataset (scores/folder.txt)",
    )

    output = parser.add_argument_group("outputs")
    output.add_argument("--output_dir", default=None, help="run directory (default: <runs_dir>/<time>_<run name>); must not exist yet")
    output.add_argument("--runs_dir", default="runs", help="parent of the default run directories (default: runs)")
    output.add_argument("--run_name", default=None, help="name of the run (default: dataset_extractor_processor_classifier_loss_seed)")
    output.add_argument("--results_csv", default="results.csv", help="results log, one row appended per finished run (default: results.csv)")
    output.add_argument("--wandb", action="store_true", help="also log to Weights & Biases (honours WANDB_MODE, e.g. offline)")
    output.add_argument("--wandb_project", default="ca-mhfa", help="Weights & Biases project (default: ca-mhfa)")
    return parser


def loss_weights(args: argparse.Namespace) -> list[float]:
    """The weight of each loss of --loss: --loss_weights, or all 1."""
    if args.loss_weights is None:
        return [1.0] * len(args.losses)
    if len(args.losses) == 1:
        raise UsageError("--loss_weights weighs the losses of a sum; give several, e.g. --loss AdditiveAngularMargin+CrossEntropy")
    try:
        weights = [float(weight) for weight in args.loss_weights.split(",")]
    except ValueError:
        raise UsageError(f"--loss_weights {args.loss_weights} is not a comma-separated list of numbers") from None
    if len(weights) != len(args.losses):
        raise UsageError(f"--loss_weights gives {len(weights)} weights for the {len(args.losses)} losses of --loss {args.loss}")
    if min(weights) < 0 or sum(weights) <= 0:
        raise UsageError(f"--loss_weights {args.loss_weights}: weights must be >= 0 and not all 0")
    return weights


def pretrained_extractor_options(args: argparse.Namespace) -> dict:
    """`path` and `finetune` for a self-supervised extractor; sets args.extractor_lr.

    Raises UsageError when these flags are given for an extractor without weights, or
    --extractor_lr without --finetune.
    """
    given = [flag for flag in ("extractor_path", "finetune", "extractor_lr") if getattr(args, flag) not in (None, False)]
    if not REGISTRIES["extractor"][args.extractor].pretrained:
        if given:
            pretrained = ", ".join(name for name, extractor in REGISTRIES["extractor"].items() if extractor.pretrained)
            raise UsageError(
                f"--{given[0]} applies to the self-supervised extractors ({pretrained}); --extractor {args.extractor} has no weights"
            )
        return {}
    if args.extractor_lr is not None and not args.finetune:
        raise UsageError("--extractor_lr is the learning rate of a fine-tuned extractor; add --finetune, or drop --extractor_lr")
    if args.finetune and args.extractor_lr is None:
        args.extractor_lr = DEFAULT_EXTRACTOR_LR
    return {"path": args.extractor_path, "finetune": args.finetune}


def augmentation_names(args: argparse.Namespace) -> list[str]:
    """The names given to --augment, in order; UsageError for an unknown one."""
    if args.augment is None:
        return []
    names = [name.strip() for name in args.augment.split(",")]
    for name in names:
        if name not in AUGMENTATIONS:
            raise UsageError(f"--augment {args.augment}: unknown augmentation {name!r}; choose from {', '.join(AUGMENTATIONS)}")
    return names


def check_asv_flags(args: argparse.Namespace) -> None:
    """--asv_scores and --asv_protocol name files; --asv_protocol keys an --asv_scores file."""
    if args.asv_protocol is not None and args.asv_scores is None:
        raise UsageError("--asv_protocol keys the file given to --asv_scores; add --asv_scores")
    for flag in ("asv_scores", "asv_protocol"):
        path = getattr(args, flag)
        if path is not None and not os.path.isfile(path):
            raise UsageError(f"--{flag} {path} is not a file")


def check_evaluation_only(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """--eval_only needs --checkpoint, and takes the model from it: no model flag may be given."""
    if args.score_folder is not None and not args.eval_only:
        raise UsageError("--score_folder scores with a trained model; add --eval_only --checkpoint runs/<run>/checkpoints/best.pt")
    if not args.eval_only:
        raise UsageError("--checkpoint is read with --eval_only (training always starts from scratch); add --eval_only")
    if args.checkpoint is None:
        raise UsageError("--eval_only scores with a trained model; give --checkpoint runs/<run>/checkpoints/best.pt")
    given = [f"--{flag}" for flag in (*MODEL_FLAGS, *TRAINING_FLAGS) if getattr(args, flag) != parser.get_default(flag)]
    given += given_setting_flags(args)
    if given:
        raise UsageError(f"{given[0]} comes from the checkpoint with --eval_only; drop it")
    check_asv_flags(args)


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and check `argv` (default: sys.argv[1:]); raises UsageError for a bad combination.

    With --eval_only the model's arguments are left for the checkpoint to fill in
    (train_and_eval.adopt_checkpoint). Otherwise adds `losses` (the registered names of the losses
    of --loss), `loss_weights` as numbers and `hyper_parameters` (settings.resolve_settings); --loss
    becomes the canonical names joined by +.
    """
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        return args
    if args.eval_only or args.checkpoint is not None or args.score_folder is not None:
        check_evaluation_only(args, parser)
        return args
    args.dataset = args.dataset or DEFAULT_DATASET
    args.losses = parse_loss_spec(args.loss)
    args.loss = "+".join(args.losses)
    args.loss_weights = loss_weights(args)
    check_combination(args.extractor, args.processor, args.classifier, args.losses, args.miner, args.dataset)
    args.augmentations = augmentation_names(args)
    if args.max_len is not None and args.max_len > 600:
        raise UsageError(f"--max_len is in seconds (for example 4); {args.max_len:g} s looks like a number of samples")
    if args.max_len is not None and args.max_len < MIN_MAX_LEN:
        raise UsageError(f"--max_len {args.max_len:g} s is too short for whole frames; give at least {MIN_MAX_LEN} s")
    check_asv_flags(args)
    args.hyper_parameters = resolve_settings(args)
    args.hyper_parameters["extractor"].update(pretrained_extractor_options(args))
    for name, values in args.hyper_parameters["augmentation"].items():
        AUGMENTATIONS[name](**values)  # their constructors refuse inconsistent values (UsageError)
    return args


def adopt_checkpoint(args: argparse.Namespace, saved: dict) -> None:
    """Takes the model's and the training's arguments from a checkpoint's `saved` arguments (and its
    dataset, unless --dataset is given); a flag or setting newer than the checkpoint takes its default."""
    defaults = build_parser()
    try:
        for flag in (*MODEL_FLAGS, *TRAINING_FLAGS):
            setattr(args, flag, saved.get(flag, defaults.get_default(flag)))
        args.losses = list(saved["losses"])
        args.augmentations = list(saved["hyper_parameters"].get("augmentation", {}))
        args.dataset = args.dataset or saved.get("dataset", DEFAULT_DATASET)
        if not all(name in REGISTRIES["loss"] for name in args.losses):
            raise KeyError(f"losses {args.losses}")
    except (KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"--checkpoint {args.checkpoint}: {_unfit(error)}") from None
    check_combination(args.extractor, args.processor, args.classifier, args.losses, args.miner, args.dataset)
    try:
        args.hyper_parameters = restore_settings(args, saved["hyper_parameters"])
    except UsageError as error:
        raise UsageError(f"--checkpoint {args.checkpoint}: its settings do not fit this version: {error}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"--checkpoint {args.checkpoint}: {_unfit(error)}") from None
    if args.score_folder is not None and getattr(CLASSIFIERS[args.classifier], "pair_input", False):
        raise UsageError(
            f"--score_folder: the checkpoint's --classifier {args.classifier} needs a bona fide reference for each "
            "trial, which a folder of recordings does not have"
        )


def recorded_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments a run records in config.json and its checkpoints: every flag but the component
    setting flags, whose resolved values `hyper_parameters` holds."""
    setting_flags = setting_flag_dests()
    return {name: value for name, value in vars(args).items() if name not in setting_flags}


def _unfit(error: Exception) -> str:
    return f"its arguments do not fit this version ({type(error).__name__}: {error}); was it written by this tool?"
