"""Command-line arguments: the fixed flags, plus the component settings of settings.py.

`parse_arguments` returns a fully checked namespace whose `hyper_parameters` holds the resolved
settings of each chosen component (settings.resolve_settings), or raises UsageError.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from common import AUGMENTATIONS, CLASSIFIERS, DATASETS, MINERS, REGISTRIES, check_combination, parse_loss_spec
from conventions import N_CLASSES, SAMPLE_RATE, UsageError
from datasets.base import CROPS
from settings import add_setting_flags, given_setting_flags, resolve_settings, restore_settings, setting_flag_dests
from training.loaders import SAMPLINGS
from training.optimization import OPTIMIZERS, SCHEDULERS
from training.scoring import PRECISIONS
from training.selection import SELECTION_METRICS, parse_average
from training.trainer import TrainingSettings

DATA_ROOT_VARIABLE = "CA_MHFA_DATA_ROOT"
DEFAULT_DATASET = "Synthetic"
# what a checkpoint fixes: with --eval_only these come from it and may not be given
MODEL_FLAGS = ("extractor", "extractor_path", "finetune", "extractor_lr", "processor", "classifier", "loss", "loss_weights", "miner")
TRAINING_FLAGS = (
    "lr", "weight_decay", "num_epochs", "seed", "max_len", "crop", "augment", "optimizer", "momentum", "nesterov", "scheduler",
    "warmup_epochs", "warmup_steps", "min_lr", "decay_factor", "step_epochs", "plateau_patience", "grad_accumulation",
    "grad_clip", "select", "patience", "average", "sampling",
)
# what scoring uses: with --eval_only these come from the checkpoint unless given
SCORING_FLAGS = ("limit", "eval_max_len", "precision")
# what may change when a run is resumed (it changes no result; --data_root: the corpora moved)
RESUME_FLAGS = ("resume", "device", "num_workers", "feature_cache_gb", "data_root")
MIN_MAX_LEN = 0.1  # seconds: every front-end has whole frames in a crop this long
MAX_SEED = 2**32 - 1  # NumPy's seeds
MAX_WEIGHT_DECAY = 1.0  # beyond, every weight is driven to 0 within a few steps
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]*")
MAX_MAX_LEN = 600  # seconds: beyond, a number of samples was probably meant
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


def duration(text: str) -> float:
    """argparse type: seconds ("4.0375"), or a number of samples at 16 kHz ("64600samples")."""
    count = text[: -len("samples")] if text.endswith("samples") else None
    try:
        value = int(count) / SAMPLE_RATE if count is not None else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither seconds (4.0375) nor samples (64600samples)") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    if value < MIN_MAX_LEN:
        raise argparse.ArgumentTypeError(f"{text} is too short for whole frames; give at least {MIN_MAX_LEN} s")
    if value > MAX_MAX_LEN:
        raise argparse.ArgumentTypeError(f"{text} s is over {MAX_MAX_LEN} s: give seconds (4.0375) or samples (64600samples)")
    return value


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
        type=duration,
        default=None,
        metavar="SECONDS",
        help="training: a crop of this many seconds of each utterance (shorter ones repeated to it); seconds "
        "(4.0375) or samples (64600samples) (default: whole utterances)",
    )
    data.add_argument(
        "--crop",
        choices=CROPS,
        default="random",
        help="training: where the --max_len crop starts: at random, drawn per utterance and epoch, or at the "
        "first sample (default: random)",
    )
    data.add_argument(
        "--eval_max_len",
        type=duration,
        default=None,
        metavar="SECONDS",
        help="dev and eval: score the first SECONDS of each utterance, repeated when shorter; seconds or samples "
        "(default: whole utterances; with --eval_only the checkpoint's)",
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
    data.add_argument(
        "--limit", type=number(int), default=None, metavar="N",
        help="keep at most N utterances per split (class-stratified), for smoke tests (with --eval_only: the checkpoint's)",
    )
    data.add_argument(
        "--allow_outside_data_root", action="store_true",
        help="read audio files that a protocol names outside --data_root (absolute paths, or paths whose .. climb out); "
        "refused by default",
    )

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

    add_training_flags(parser)

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
    official.add_argument(
        "--calibrate",
        action="store_true",
        help="fit logistic-regression calibration (scores to natural-log LLRs) on the dev scores: calibrated actDCF "
        "and Cllr beside the raw ones, and calibration.json in the run, from which score.py and the Python API give "
        "calibrated LLRs and probabilities",
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


def add_training_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of the training section (TrainingSettings gives their defaults), and of resuming."""
    defaults = TrainingSettings()
    training = parser.add_argument_group("training")
    training.add_argument("-ep", "--num_epochs", type=number(int), default=defaults.num_epochs, help=f"training epochs (default: {defaults.num_epochs})")
    training.add_argument(
        "--batch_size", type=number(int), default=defaults.batch_size,
        help=f"utterances per batch, per process under torchrun (default: {defaults.batch_size})",
    )
    training.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer, help=f"(default: {defaults.optimizer})")
    training.add_argument("--lr", type=number(float), default=defaults.lr, help=f"learning rate (default: {defaults.lr:g})")
    training.add_argument(
        "--weight_decay", type=number(float, allow_zero=True), default=defaults.weight_decay,
        help=f"weight decay (AdamW: decoupled) (default: {defaults.weight_decay:g})",
    )
    training.add_argument("--momentum", type=number(float, allow_zero=True), default=None, help=f"SGD momentum (default: {defaults.momentum:g})")
    training.add_argument("--nesterov", action="store_true", help="SGD: Nesterov momentum")
    training.add_argument(
        "--scheduler", choices=SCHEDULERS, default=defaults.scheduler,
        help="learning-rate schedule, stepped every optimizer step, of every parameter group alike (a fine-tuned "
        f"extractor's --extractor_lr too); see README (default: {defaults.scheduler})",
    )
    training.add_argument("--warmup_epochs", type=number(float, allow_zero=True), default=None, help="linear warm-up over this many epochs (default: 0)")
    training.add_argument("--warmup_steps", type=number(int, allow_zero=True), default=None, help="linear warm-up over this many optimizer steps (default: 0)")
    training.add_argument(
        "--min_lr", type=number(float, allow_zero=True), default=None,
        help="cosine, exponential, step, plateau: the rate decays towards this (exponential: to it) (default: 0)",
    )
    training.add_argument("--decay_factor", type=number(float), default=None, help=f"step and plateau: the factor of each decay (default: {defaults.decay_factor:g})")
    training.add_argument("--step_epochs", type=number(int), default=None, help=f"step: epochs between decays (default: {defaults.step_epochs})")
    training.add_argument(
        "--plateau_patience", type=number(int), default=None,
        help=f"plateau: epochs without improvement of --select before a decay (default: {defaults.plateau_patience})",
    )
    training.add_argument(
        "--precision", choices=tuple(PRECISIONS), default=None,
        help="fp32, or bf16 / fp16 autocast (fp16 with a gradient scaler); losses compute in fp32 (default: fp32)",
    )
    training.add_argument(
        "--grad_accumulation", type=number(int), default=defaults.grad_accumulation,
        help="batches whose gradients add up before each optimizer step (default: 1)",
    )
    training.add_argument("--grad_clip", type=number(float), default=None, metavar="MAX_NORM", help="clip the gradient norm to MAX_NORM (default: none)")
    training.add_argument(
        "--select", choices=SELECTION_METRICS, default=defaults.select,
        help=f"the dev metric that chooses the best epoch (lower is better) (default: {defaults.select})",
    )
    training.add_argument("--patience", type=number(int), default=None, help="stop after this many epochs without a better --select (default: never)")
    training.add_argument(
        "--average", default=None, metavar="best:K|last:K",
        help="the final model averages the parameters of the K best epochs by --select, or of the K last ones (default: the best epoch)",
    )
    training.add_argument(
        "--sampling", choices=SAMPLINGS, default=defaults.sampling,
        help="each epoch: as many draws as utterances, with replacement, every class equally likely (balanced), "
        "or every utterance once in a random order (shuffle, as the published recipes) (default: balanced)",
    )
    training.add_argument(
        "--bucket", action=argparse.BooleanOptionalAction, default=defaults.bucket,
        help="batches of utterances of similar length when lengths vary (less padding) (default: on)",
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
    training.add_argument(
        "--init_from", default=None, metavar="FILE",
        help="start from the weights of FILE (a checkpoint of a run of the same model, e.g. a frozen-extractor "
        "stage before fine-tuning, or the authors' released weights of a reference model); training starts at epoch 1",
    )
    training.add_argument(
        "--resume", default=None, metavar="RUN_DIR",
        help="continue a run that was stopped (killed, interrupted) after its last completed epoch, exactly "
        "as if it had not stopped; only --device, --num_workers, --feature_cache_gb and --data_root may be given with it",
    )


def check_run_options(args: argparse.Namespace) -> None:
    """Refuse values any run would choke on: a seed NumPy cannot take, an absurd weight decay, a
    --limit that cannot keep both classes, an empty --output_dir, a --run_name that is not a plain name."""
    if args.seed > MAX_SEED:
        raise UsageError(f"--seed {args.seed} is too large; give a seed from 0 to {MAX_SEED}")
    if args.weight_decay > MAX_WEIGHT_DECAY:
        raise UsageError(f"--weight_decay {args.weight_decay:g} is beyond any useful value; give at most {MAX_WEIGHT_DECAY:g}")
    if args.limit is not None and args.limit < N_CLASSES:
        raise UsageError(f"--limit {args.limit} cannot keep every class of a split; give at least {N_CLASSES}")
    if args.output_dir == "":
        raise UsageError("--output_dir is empty; give the new run directory")
    if args.run_name is not None and not RUN_NAME.fullmatch(args.run_name):
        raise UsageError(
            f"--run_name {args.run_name!r} is not a plain name; use letters, digits and . _ + = - (it becomes a folder name)"
        )


def check_training(args: argparse.Namespace) -> None:
    """Refuse training flags that do not fit together; fill in the defaults that depend on others."""
    defaults = TrainingSettings()
    if args.optimizer != "sgd" and (args.momentum is not None or args.nesterov):
        raise UsageError(f"--{'momentum' if args.momentum is not None else 'nesterov'} applies to --optimizer sgd, not {args.optimizer}")
    args.momentum = defaults.momentum if args.momentum is None else args.momentum
    if args.nesterov and args.momentum == 0:
        raise UsageError("--nesterov needs a momentum: give --momentum above 0")
    uses = {"decay_factor": ("step", "plateau"), "step_epochs": ("step",), "plateau_patience": ("plateau",), "min_lr": SCHEDULERS[1:]}
    for flag, schedulers in uses.items():
        if getattr(args, flag) is not None and args.scheduler not in schedulers:
            raise UsageError(f"--{flag} applies to --scheduler {' or '.join(schedulers)}, not {args.scheduler}")
        if getattr(args, flag) is None:
            setattr(args, flag, getattr(defaults, flag))
    if args.decay_factor >= 1:
        raise UsageError(f"--decay_factor {args.decay_factor:g} must be below 1 (it multiplies the rate at each decay)")
    if args.min_lr >= args.lr:
        raise UsageError(f"--min_lr {args.min_lr:g} must be below --lr {args.lr:g}")
    if args.scheduler == "exponential" and args.min_lr == 0:
        raise UsageError("--scheduler exponential decays to --min_lr: give it (for example --min_lr 5e-4)")
    if args.warmup_epochs is not None and args.warmup_steps is not None:
        raise UsageError("give --warmup_epochs or --warmup_steps, not both")
    args.warmup_epochs = args.warmup_epochs or 0.0
    args.warmup_steps = args.warmup_steps or 0
    if args.warmup_epochs > args.num_epochs:
        raise UsageError(f"--warmup_epochs {args.warmup_epochs:g} is longer than the training (--num_epochs {args.num_epochs})")
    if args.crop != "random" and args.max_len is None:
        raise UsageError("--crop chooses where the --max_len crop starts; add --max_len")
    try:
        average = parse_average(args.average)
    except ValueError as error:
        raise UsageError(f"--average {error}") from None
    if average is not None and average[1] > args.num_epochs:
        raise UsageError(f"--average {args.average} averages more epochs than --num_epochs {args.num_epochs}")
    args.precision = args.precision or defaults.precision


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
    if not all(math.isfinite(weight) for weight in weights):
        raise UsageError(f"--loss_weights {args.loss_weights}: every weight must be a finite number")
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
        raise UsageError("--checkpoint is read with --eval_only; add --eval_only, or start training from it with --init_from")
    if args.init_from is not None:
        raise UsageError("--init_from starts a training; with --eval_only give the weights to score as --checkpoint")
    if args.checkpoint is None:
        raise UsageError("--eval_only scores with a trained model; give --checkpoint runs/<run>/checkpoints/best.pt")
    given = [f"--{flag}" for flag in (*MODEL_FLAGS, *TRAINING_FLAGS) if getattr(args, flag) != parser.get_default(flag)]
    given += given_setting_flags(args)
    if given:
        raise UsageError(f"{given[0]} comes from the checkpoint with --eval_only; drop it")
    check_asv_flags(args)


def resumed_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The arguments of the run in --resume RUN_DIR (its config.json), with --device, --num_workers,
    --feature_cache_gb and --data_root from the command line when given; UsageError for any other flag."""
    given = [f"--{flag}" for flag, value in vars(args).items() if flag not in RESUME_FLAGS and value != parser.get_default(flag)]
    if given:
        raise UsageError(
            f"{given[0]}: a resumed run keeps its own arguments; only --device, --num_workers, --feature_cache_gb and --data_root may change"
        )
    config = Path(args.resume) / "config.json"
    if not config.is_file():
        raise UsageError(f"--resume {args.resume} is not a run directory (it holds no config.json); give runs/<run>")
    try:
        recorded = json.loads(config.read_text(encoding="utf-8"))["arguments"]
        resumed = argparse.Namespace(**{**vars(parser.parse_args([])), **recorded})
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"--resume {args.resume}: its config.json is not a run's configuration ({type(error).__name__}: {error})") from None
    for flag in RESUME_FLAGS:
        if getattr(args, flag) != parser.get_default(flag):
            setattr(resumed, flag, getattr(args, flag))
    complete_training_defaults(resumed)
    check_combination(resumed.extractor, resumed.processor, resumed.classifier, resumed.losses, resumed.miner, resumed.dataset)
    try:
        resumed.hyper_parameters = restore_settings(resumed, resumed.hyper_parameters)
    except (UsageError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"--resume {args.resume}: its settings do not fit this version ({error})") from None
    return resumed


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and check `argv` (default: sys.argv[1:]); raises UsageError for a bad combination.

    With --eval_only the model's arguments are left for the checkpoint to fill in (adopt_checkpoint);
    with --resume they are the run's own (resumed_arguments). Otherwise adds `losses` (the registered names of the losses
    of --loss), `loss_weights` as numbers and `hyper_parameters` (settings.resolve_settings); --loss
    becomes the canonical names joined by +.
    """
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        return args
    check_run_options(args)
    if args.resume is not None:
        return resumed_arguments(args, parser)
    if args.eval_only or args.checkpoint is not None or args.score_folder is not None:
        check_evaluation_only(args, parser)
        return args
    args.dataset = args.dataset or DEFAULT_DATASET
    args.losses = parse_loss_spec(args.loss)
    args.loss = "+".join(args.losses)
    args.loss_weights = loss_weights(args)
    check_combination(args.extractor, args.processor, args.classifier, args.losses, args.miner, args.dataset)
    args.augmentations = augmentation_names(args)
    check_training(args)
    check_asv_flags(args)
    args.hyper_parameters = resolve_settings(args)
    args.hyper_parameters["extractor"].update(pretrained_extractor_options(args))
    for name, values in args.hyper_parameters["augmentation"].items():
        AUGMENTATIONS[name](**values)  # their constructors refuse inconsistent values (UsageError)
    return args


def adopt_checkpoint(args: argparse.Namespace, saved: dict) -> list[str]:
    """Takes the model's and the training's arguments from a checkpoint's `saved` arguments (and its
    dataset, unless --dataset is given), and the scoring flags the user did not give, so that the
    run's own scoring is repeated; a flag or setting newer than the checkpoint takes its default.
    Returns the scoring flags taken from the checkpoint (with a value)."""
    defaults = build_parser()
    adopted = []
    try:
        for flag in (*MODEL_FLAGS, *TRAINING_FLAGS):
            setattr(args, flag, saved.get(flag, defaults.get_default(flag)))
        for flag in SCORING_FLAGS:
            if getattr(args, flag) is None and saved.get(flag) is not None:
                setattr(args, flag, saved[flag])
                adopted.append(flag)
        complete_training_defaults(args)
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
    return adopted


def complete_training_defaults(args: argparse.Namespace) -> None:
    """The training settings that arguments recorded by an older version lack (None) take their
    defaults, which are what that version did."""
    for field in fields(TrainingSettings):
        if getattr(args, field.name, None) is None:
            setattr(args, field.name, field.default)


def recorded_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments a run records in config.json and its checkpoints: every flag but the component
    setting flags, whose resolved values `hyper_parameters` holds."""
    setting_flags = setting_flag_dests()
    return {name: value for name, value in vars(args).items() if name not in setting_flags}


def _unfit(error: Exception) -> str:
    return f"its arguments do not fit this version ({type(error).__name__}: {error}); was it written by this tool?"
