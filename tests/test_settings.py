"""Component settings on the command line: bare flags, scoped flags, and what each is refused for."""
import pytest

from conventions import UsageError
from model import build_model
from parse_arguments import build_parser, parse_arguments
from settings import component_list, restore_settings

EMBEDDING = ["--classifier", "EmbeddingFF"]


def test_a_bare_flag_reaching_one_component_sets_it():
    args = parse_arguments([*EMBEDDING, "--loss", "AdditiveAngularMargin", "--margin", "0.3"])
    assert args.hyper_parameters["loss"] == {"AdditiveAngularMargin": {"margin": 0.3, "s": 30.0, "easy_margin": False}}


def test_a_bare_flag_with_two_meanings_is_refused_with_the_scoped_form():
    with pytest.raises(UsageError) as raised:
        parse_arguments([*EMBEDDING, "--loss", "CosFace+AdditiveAngularMargin", "--margin", "0.3"])
    message = str(raised.value)
    assert "\n" not in message and "radians" in message and "cosine units" in message
    assert "--CosFace.margin VALUE --AdditiveAngularMargin.margin VALUE" in message


def test_scoped_flags_give_each_term_of_a_sum_its_own_value():
    args = parse_arguments(
        [*EMBEDDING, "--loss", "CosFace+AdditiveAngularMargin", "--CosFace.margin", "0.2", "--AdditiveAngularMargin.margin", "0.3"]
    )
    assert args.hyper_parameters["loss"]["CosFace"]["margin"] == 0.2
    assert args.hyper_parameters["loss"]["AdditiveAngularMargin"]["margin"] == 0.3
    _, loss = build_model(args)
    assert (loss.terms["CosFace"].margin, loss.terms["AdditiveAngularMargin"].margin) == (0.2, 0.3)


def test_a_bare_flag_with_one_meaning_reaches_every_taker():
    args = parse_arguments([*EMBEDDING, "--loss", "AdditiveAngularMargin+SubCenterArcFace", "--margin", "0.3", "--s", "20"])
    for name in ("AdditiveAngularMargin", "SubCenterArcFace"):
        assert args.hyper_parameters["loss"][name]["margin"] == 0.3 and args.hyper_parameters["loss"][name]["s"] == 20.0


def test_a_scoped_flag_wins_and_the_bare_one_sets_the_rest():
    args = parse_arguments([*EMBEDDING, "--loss", "CosFace+AdditiveAngularMargin", "--margin", "0.3", "--CosFace.margin", "0.2"])
    assert args.hyper_parameters["loss"]["CosFace"]["margin"] == 0.2
    assert args.hyper_parameters["loss"]["AdditiveAngularMargin"]["margin"] == 0.3


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--loss", "AdditiveAngularMargin", "--CosFace.margin", "0.2"], "--CosFace.margin: the loss CosFace is not among the chosen components"),
        (["--loss", "ArcFace", "--margin", "0.3", "--AdditiveAngularMargin.margin", "0.2"], "has its own flag (--AdditiveAngularMargin.margin); drop --margin"),
        (["--loss", "CosFace", "--CosFace.margin", "5"], "--CosFace.margin 5.0 is outside the allowed range [0, 2]"),
        (["--loss", "Combined", "--Combined.proxy_type", "Focal"], "--Combined.proxy_type Focal is not one of"),
        (["--loss", "CrossEntropy", "--margin", "0.3"], "--margin does not apply to the chosen components; it is a parameter of --loss AdditiveAngularMargin"),
        (["--loss", "TripletMargin", "--TripletMargin.miner_margin", "0.3"], "--TripletMargin.miner_margin: the miner TripletMargin is not among the chosen components"),
        (["--loss", "CosFace+ASoftmax", "--margin", "2.5"], "--margin reaches components that read it differently"),
        (["--loss", "ASoftmax", "--margin", "nan"], "--margin nan is not a finite number"),
        (["--loss", "TripletMargin", "--triplets_per_anchor", "abc"], "--triplets_per_anchor 'abc' does not match all|[1-9][0-9]*"),
    ],
)
def test_refused_settings(arguments, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        parse_arguments([*EMBEDDING, *arguments])


def test_scoped_flags_reach_inner_losses_miners_augmentations_and_booleans():
    args = parse_arguments(
        [
            *EMBEDDING, "--loss", "Combined+TripletMargin", "--Combined.proxy_type", "CosFace", "--CosFace.margin", "0.1",
            "--miner", "TripletMargin", "--TripletMargin.miner_margin", "0.3", "--TripletMargin.margin", "0.2",
            "-a", "noise", "--noise.snr_min", "3", "--EmbeddingFF.hidden_dim", "16", "--no-TripletMargin.swap",
        ]
    )
    settings = args.hyper_parameters
    assert settings["loss"]["Combined"]["proxy_type"] == "CosFace" and settings["loss"]["CosFace"]["margin"] == 0.1
    assert settings["loss"]["TripletMargin"]["margin"] == 0.2 and settings["loss"]["TripletMargin"]["swap"] is False
    assert settings["miner"]["miner_margin"] == 0.3
    assert settings["augmentation"]["noise"]["snr_min"] == 3.0 and settings["classifier"]["hidden_dim"] == 16


def test_scoped_flags_have_the_declared_type():
    with pytest.raises(SystemExit):
        parse_arguments([*EMBEDDING, "--loss", "ASoftmax", "--ASoftmax.margin", "2.5"])
    with pytest.raises(UsageError, match="--margin 2.5 must be an integer for ASoftmax"):
        parse_arguments([*EMBEDDING, "--loss", "ASoftmax", "--margin", "2.5"])


def test_help_has_a_short_usage_and_explains_both_forms():
    text = build_parser().format_help()
    usage = text.split("\n\n")[0]
    assert usage.count("\n") <= 2 and "--COMPONENT.NAME VALUE" in usage
    assert "--CosFace.margin 0.2 --AdditiveAngularMargin.margin 0.3" in " ".join(text.split())
    assert "--list" in text and "--CosFace.margin " not in text.split("component settings")[1].split("\n\n", 1)[1]


def test_list_shows_settings_with_units_ranges_and_defaults():
    listing = component_list()
    assert "--COMPONENT.NAME VALUE" in listing
    assert "margin (float, radians, default 0.5, range [0, pi)): additive angular margin m" in listing
    assert "margin (float, cosine units, default 0.35, range [0, 2]): additive margin m subtracted from the target cosine" in listing
    assert "head_nb (int, default derived, range [1, inf)): attention heads (derived: round(4/3 · layers))" in listing
    assert "proxy_type (str, default ProxyAnchor): the embedding loss X (its own settings apply); one of AdditiveAngularMargin, CosFace" in listing
    assert "WavLM_base  microsoft/wavlm-base (--extractor_path" in listing and "Synthetic" in listing


def restored(saved_losses, loss="Combined"):
    args = parse_arguments([*EMBEDDING, "--loss", loss])
    return restore_settings(args, {**args.hyper_parameters, "loss": saved_losses})


def test_restored_settings_take_defaults_for_new_settings_and_split_older_flattened_sections():
    settings = restored({"Combined": {"proxy_type": "CosFace", "margin": 0.2}})
    assert settings["loss"] == {
        "Combined": {"lambda_combined": 0.5, "class_weights": None, "proxy_type": "CosFace"},
        "CosFace": {"margin": 0.2, "s": 30.0},
    }


@pytest.mark.parametrize(
    "saved, message",
    [
        ({"Combined": {"proxy_type": "Combined"}}, "Combined.proxy_type Combined is not one of"),
        ({"Combined": {}, "ProxyAnchor": {"proxy_delta": 5.0}}, "ProxyAnchor.proxy_delta 5.0 is outside the allowed range [0, 2]"),
        ({"Combined": {"lambda_combined": "half"}}, "Combined.lambda_combined 'half' is not of the type float"),
        ({"Combined": {}, "ProxyAnchor": {"alpha": 1.0}}, "ProxyAnchor has no setting alpha in this version"),
    ],
)
def test_restored_settings_are_checked(saved, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("[", r"\[").replace("(", r"\(")):
        restored(saved)

