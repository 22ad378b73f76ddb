"""End-to-end runs of train_and_eval.py on the built-in Synthetic corpus."""
import csv
import json

import pytest

from reporting.results_csv import RESULTS_COLUMNS
from train_and_eval import main

SMOKE = ["--limit", "150", "-ep", "2", "--seed", "3"]


def results_rows(tmp_path):
    with open(tmp_path / "results.csv", newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        return header, [dict(zip(header, values)) for values in reader]


def only_run_dir(tmp_path):
    (run_dir,) = (tmp_path / "runs").iterdir()
    return run_dir


def test_default_run_writes_everything(run_cli, tmp_path):
    done = run_cli(*SMOKE)
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(tmp_path)
    for name in ("config.json", "train.log", "checkpoints/best.pt", "checkpoints/last.pt", "scores/dev.txt",
                 "scores/eval.txt", "metrics.json", "det_eval.png", "score_histogram_eval.png"):
        assert (run_dir / name).is_file(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"eer", "min_dcf", "act_dcf", "cllr", "accuracy"} <= set(metrics["eval"])
    assert 1 <= metrics["best_epoch"] <= 2
    header, rows = results_rows(tmp_path)
    assert tuple(header) == RESULTS_COLUMNS and len(rows) == 1
    assert rows[0]["dataset"] == "Synthetic" and rows[0]["loss"] == "CrossEntropy" and rows[0]["extractor"] == "LFCC"
    assert float(rows[0]["eval_eer_percent"]) == pytest.approx(100 * metrics["eval"]["eer"], abs=1e-4)
    lines = (run_dir / "scores" / "eval.txt").read_text().splitlines()
    assert len(lines) == 150
    assert all(line.split()[2] in ("bonafide", "spoof") for line in lines)
    assert "EER %" in done.stdout + done.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["arguments"]["limit"] == 150 and "torch" in config["versions"]


def test_design_card_command_with_additive_angular_margin(run_cli, tmp_path):
    done = run_cli("--local", "--loss", "AdditiveAngularMargin", "--classifier", "EmbeddingFF", "--margin", "0.3", *SMOKE)
    assert done.returncode == 0, done.stderr
    _, rows = results_rows(tmp_path)
    assert rows[0]["loss"] == "AdditiveAngularMargin"
    assert rows[0]["loss_parameters"] == "margin=0.3;s=30.0;easy_margin=False"


def test_same_seed_gives_the_same_scores_and_metrics(run_cli, tmp_path):
    outputs = []
    for name in ("first", "second"):
        done = run_cli(*SMOKE, "--output_dir", name)
        assert done.returncode == 0, done.stderr
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        metrics.pop("wall_seconds")
        outputs.append((metrics, (tmp_path / name / "scores" / "eval.txt").read_text()))
    assert outputs[0] == outputs[1]


def test_the_refused_combination_exits_2_with_one_line_from_the_command_line(run_cli, tmp_path):
    done = run_cli("--loss", "AdditiveAngularMargin", "--classifier", "FF")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "use --classifier EmbeddingFF" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results.csv").exists()


@pytest.mark.parametrize(
    "arguments,message",
    [
        (["--lr", "fast"], "--lr"),
        (["--loss", "NoSuchLoss"], "--loss"),
        (["--margin", "0.3"], "--margin does not apply"),
        (["--loss", "ArcFace", "--classifier", "EmbeddingFF", "--s", "0"], "--s 0.0 is outside the allowed range (0, inf)"),
        (["--loss", "CosFace+ArcFace", "--classifier", "EmbeddingFF", "--margin", "0.3"], "--CosFace.margin VALUE --AdditiveAngularMargin.margin VALUE"),
        (["-ep", "0"], "must be greater than 0"),
    ],
)
def test_user_mistakes_exit_2_with_one_line_and_write_nothing(tmp_path, monkeypatch, capsys, arguments, message):
    """In-process (the subprocess test above covers the real command line): argparse's own errors
    leave through SystemExit, ours through main's return value."""
    monkeypatch.chdir(tmp_path)
    try:
        code = main(arguments)
    except SystemExit as exit:
        code = exit.code
    error = capsys.readouterr().err
    assert code == 2
    assert error.count("\n") == 1 and message in error and "Traceback" not in error
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results.csv").exists()


def test_list_prints_every_component(run_cli):
    done = run_cli("--list")
    assert done.returncode == 0
    headings = [line for line in done.stdout.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings[:6] == ["extractors:", "processors:", "classifiers:", "losses:", "miners:", "augmentations:"]
    assert "AdditiveAngularMargin" in done.stdout and "margin (float, radians, default 0.5, range [0, pi))" in done.stdout


def test_wandb_offline_logs_the_run(run_cli, tmp_path):
    done = run_cli("--limit", "60", "-ep", "1", "--wandb", "--output_dir", "run")
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "run" / "wandb").glob("offline-run-*"))


def test_the_default_command_learns(run_cli, tmp_path):
    """`python train_and_eval.py` with no argument: eval EER below 10% and one results row."""
    done = run_cli()
    assert done.returncode == 0, done.stderr
    _, rows = results_rows(tmp_path)
    assert len(rows) == 1
    metrics = json.loads((only_run_dir(tmp_path) / "metrics.json").read_text())
    assert metrics["eval"]["eer"] < 0.10
    assert metrics["eval"]["n_bonafide"] > 0


def test_each_term_of_a_sum_takes_its_own_value_from_the_command_line(data_root, tmp_path, capsys):
    """The scoped values are what config.json, the checkpoint and the results row record, and
    --eval_only rebuilds the same model from the checkpoint."""
    run_dir = tmp_path / "run"
    code = main(
        ["--loss", "CosFace+AdditiveAngularMargin", "--classifier", "EmbeddingFF", "--CosFace.margin", "0.2",
         "--AdditiveAngularMargin.margin", "0.3", "--limit", "60", "-ep", "1", "--data_root", str(data_root),
         "--output_dir", str(run_dir), "--results_csv", str(tmp_path / "results.csv")]
    )
    assert code == 0, capsys.readouterr().err
    settings = json.loads((run_dir / "config.json").read_text())["arguments"]["hyper_parameters"]["loss"]
    assert settings["CosFace"]["margin"] == 0.2 and settings["AdditiveAngularMargin"]["margin"] == 0.3
    _, rows = results_rows(tmp_path)
    assert rows[0]["loss_parameters"].startswith("weights=1.0,1.0;CosFace.margin=0.2;CosFace.s=30.0;AdditiveAngularMargin.margin=0.3;")
    code = main(["--eval_only", "--checkpoint", str(run_dir / "checkpoints" / "best.pt"), "--limit", "60", "--data_root",
                 str(data_root), "--output_dir", str(tmp_path / "again"), "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "again" / "scores" / "eval.txt").read_text() == (run_dir / "scores" / "eval.txt").read_text()



@pytest.mark.parametrize("extractor, kept", [("LFCC", True), ("SincAASIST", False)])
def test_frozen_extractor_outputs_are_kept_only_when_worth_it(extractor, kept):
    """A sinc front-end's output is 70 values per sample: keeping it would cost 70x the audio for a cheap convolution."""
    import argparse

    from common import CLASSIFIERS, EXTRACTORS, PROCESSORS
    from model import Countermeasure
    from train_and_eval import feature_caches
    from training.feature_cache import FeatureCache

    class Log:
        def info(self, message: str) -> None:
            pass

    front_end = EXTRACTORS[extractor]()
    model = Countermeasure(front_end, PROCESSORS["Mean"](1, front_end.dim), CLASSIFIERS["Linear"](front_end.dim, 2))
    caches = feature_caches(argparse.Namespace(feature_cache_gb=1.0), model, Log(), varying_train=False)
    assert all(isinstance(cache, FeatureCache) == kept for cache in caches.values())
