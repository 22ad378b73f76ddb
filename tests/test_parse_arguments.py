import pytest

from conventions import UsageError
from parse_arguments import build_parser, parse_arguments


def test_defaults_resolve_to_the_components_own():
    args = parse_arguments(["--loss", "AdditiveAngularMargin", "--classifier", "EmbeddingFF"])
    assert args.margin is None
    assert args.hyper_parameters["loss"] == {"AdditiveAngularMargin": {"margin": 0.5, "s": 30.0, "easy_margin": False}}
    assert args.hyper_parameters["classifier"] == {"hidden_dim": 128, "dropout": 0.0}


def test_given_flags_override_defaults_and_aliases_resolve():
    args = parse_arguments(["--loss", "ArcFace", "--classifier", "EmbeddingFF", "--margin", "0.3", "--easy_margin", "--hidden_dim", "32"])
    assert args.loss == "AdditiveAngularMargin"
    assert args.hyper_parameters["loss"] == {"AdditiveAngularMargin": {"margin": 0.3, "s": 30.0, "easy_margin": True}}
    assert args.hyper_parameters["classifier"]["hidden_dim"] == 32


def test_a_flag_of_another_component_is_refused():
    with pytest.raises(UsageError, match="--margin does not apply .* --loss AdditiveAngularMargin"):
        parse_arguments(["--margin", "0.3"])


def test_out_of_range_values_are_refused():
    with pytest.raises(UsageError, match="--margin 4.0 is outside the allowed range"):
        parse_arguments(["--loss", "ArcFace", "--classifier", "EmbeddingFF", "--margin", "4"])
    with pytest.raises(SystemExit):
        parse_arguments(["--hidden_dim", "2.5"])


def test_argparse_errors_are_one_line_with_status_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--lr", "-1"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--lr" in error and "must be greater than 0" in error


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--finetune"], "--finetune applies to the self-supervised extractors"),
        (["--extractor_path", "x"], "--extractor_path applies to the self-supervised extractors"),
        (["--extractor", "WavLM_base", "--extractor_lr", "1e-5"], "add --finetune"),
        (["--processor", "MHFA", "--group_nb", "4"], "--group_nb does not apply"),
    ],
)
def test_extractor_and_processor_flags_are_checked(arguments, message):
    with pytest.raises(UsageError, match=message):
        parse_arguments(arguments)


def test_finetune_defaults_the_extractor_learning_rate():
    args = parse_arguments(["--extractor", "HuBERT_base", "--finetune"])
    assert args.extractor_lr == 1e-6 and args.hyper_parameters["extractor"] == {"path": None, "finetune": True}


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--lr", "nan"], "not a finite number"),
        (["--max_len", "inf"], "not a finite number"),
        (["-a", "noise", "--snr_max", "nan"], "--snr_max nan"),
        (["--max_len", "0.02"], "too short"),
        (["--asv_protocol", "keys.txt"], "add --asv_scores"),
        (["--asv_scores", "/nonexistent/scores.txt"], "is not a file"),
        (["-a", "speed", "--speed_factors", "5000"], "between 0.5 and 2"),
    ],
)
def test_non_finite_and_out_of_range_values_are_refused(arguments, message, capsys):
    with pytest.raises((UsageError, SystemExit)) as raised:
        parse_arguments(arguments)
    text = capsys.readouterr().err if raised.type is SystemExit else str(raised.value)
    assert message in text


def test_lengths_in_seconds_or_samples():
    args = parse_arguments(["--max_len", "64600samples", "--eval_max_len", "4.0375", "--crop", "first"])
    assert args.max_len == args.eval_max_len == 4.0375 and round(args.max_len * 16000) == 64600


def test_training_defaults_depend_on_the_optimizer_and_schedule():
    args = parse_arguments([])
    assert (args.optimizer, args.momentum, args.scheduler, args.min_lr, args.precision, args.bucket) == ("adam", 0.9, "constant", 0.0, "fp32", True)
    args = parse_arguments(["--optimizer", "sgd", "--nesterov", "--scheduler", "exponential", "--lr", "0.1", "--min_lr", "5e-4", "--warmup_epochs", "2"])
    assert args.nesterov and args.momentum == 0.9 and args.warmup_epochs == 2 and args.warmup_steps == 0


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--momentum", "0.5"], "--momentum applies to --optimizer sgd, not adam"),
        (["--nesterov", "--optimizer", "adamw"], "--nesterov applies to --optimizer sgd"),
        (["--optimizer", "sgd", "--nesterov", "--momentum", "0"], "--nesterov needs a momentum"),
        (["--step_epochs", "3"], "--step_epochs applies to --scheduler step, not constant"),
        (["--min_lr", "1e-5"], "--min_lr applies to --scheduler cosine or exponential or step or plateau"),
        (["--scheduler", "cosine", "--min_lr", "0.01"], "--min_lr 0.01 must be below --lr 0.001"),
        (["--scheduler", "exponential"], "decays to --min_lr: give it"),
        (["--scheduler", "plateau", "--decay_factor", "2"], "--decay_factor 2 must be below 1"),
        (["--warmup_epochs", "1", "--warmup_steps", "10"], "not both"),
        (["--warmup_epochs", "20"], "longer than the training"),
        (["--crop", "first"], "add --max_len"),
        (["--average", "best"], "--average 'best' is not best:K or last:K"),
        (["--average", "last:20"], "averages more epochs than --num_epochs 10"),
        (["--max_len", "64600"], "give seconds (4.0375) or samples (64600samples)"),
        (["--eval_max_len", "4s"], "neither seconds (4.0375) nor samples"),
    ],
)
def test_training_flags_that_do_not_fit_together_are_refused(arguments, message, capsys):
    with pytest.raises((UsageError, SystemExit)) as raised:
        parse_arguments(arguments)
    text = capsys.readouterr().err if raised.type is SystemExit else str(raised.value)
    assert message in text
