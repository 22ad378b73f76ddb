"""The training engine through the command line: a published recipe's flags, exact resume after a
kill -9 or Ctrl-C, and what --resume refuses."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from train_and_eval import main

REPOSITORY = Path(__file__).resolve().parents[2]
# one thread in this process and in the runs it starts: a run stopped in a subprocess and resumed here
# computes with the same thread count as the uninterrupted one, whatever an earlier test left
pytestmark = pytest.mark.usefixtures("one_thread")
# every kind of state a resume must restore: optimizer moments, a cosine schedule, loss weights,
# random crops and augmentation, averaging, early stopping
RESUMABLE = [
    "--limit", "120", "-ep", "5", "--classifier", "EmbeddingFF", "--loss", "ArcFace", "--optimizer", "adamw",
    "--scheduler", "cosine", "--warmup_epochs", "1", "--average", "last:2", "--patience", "4", "--max_len", "1.5",
    "-a", "noise", "--seed", "4",
]


def run_in_process(arguments: list[str], data_root: Path, run_dir: Path, results: Path) -> int:
    return main([*arguments, "--data_root", str(data_root), "--output_dir", str(run_dir), "--results_csv", str(results)])


def outputs(run_dir: Path) -> tuple[dict, str, str]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics.pop("wall_seconds")
    return metrics, (run_dir / "scores" / "dev.txt").read_text(), (run_dir / "scores" / "eval.txt").read_text()


def start(arguments: list[str], data_root: Path, run_dir: Path, results: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPOSITORY / "train_and_eval.py"), *arguments, "--data_root", str(data_root),
         "--output_dir", str(run_dir), "--results_csv", str(results)],
        cwd=run_dir.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"},  # as one_thread: the same sums in both parts
    )


def wait_for_line(run_dir: Path, text: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = run_dir / "train.log"
        if log.is_file() and text in log.read_text():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError(f"no {text!r} in the log within {timeout} s")


@pytest.fixture(scope="module")
def uninterrupted(data_root, tmp_path_factory):
    """The outputs of the RESUMABLE run trained without a stop."""
    directory = tmp_path_factory.mktemp("uninterrupted")
    assert run_in_process(RESUMABLE, data_root, directory / "run", directory / "results.csv") == 0
    return outputs(directory / "run")


def test_a_run_killed_mid_training_resumes_to_identical_metrics_and_scores(uninterrupted, data_root, tmp_path):
    run_dir, results = tmp_path / "run", tmp_path / "results.csv"
    process = start(RESUMABLE, data_root, run_dir, results)
    wait_for_line(run_dir, "epoch 2/5", process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert not results.exists() and (run_dir / "checkpoints" / "last.pt").is_file()
    assert main(["--resume", str(run_dir)]) == 0
    assert outputs(run_dir) == uninterrupted
    assert len(results.read_text().splitlines()) == 2  # the header and this run's row
    assert "resumed after epoch" in (run_dir / "train.log").read_text()


def test_ctrl_c_stops_with_one_line_that_says_how_to_resume(uninterrupted, data_root, tmp_path):
    run_dir, results = tmp_path / "run", tmp_path / "results.csv"
    process = start(RESUMABLE, data_root, run_dir, results)
    wait_for_line(run_dir, "epoch 1/5", process)
    process.send_signal(signal.SIGINT)
    _, error = process.communicate()
    assert process.returncode == 130
    assert error.strip() == f"train_and_eval.py: interrupted; continue it with: python train_and_eval.py --resume {run_dir}"
    assert main(["--resume", str(run_dir)]) == 0
    assert outputs(run_dir) == uninterrupted


def test_resume_keeps_the_run_own_arguments_and_refuses_a_finished_run(data_root, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_in_process(["--limit", "60", "-ep", "1"], data_root, Path("run"), Path("results.csv")) == 0
    capsys.readouterr()
    assert main(["--resume", "run", "--lr", "0.1"]) == 2
    assert "--lr: a resumed run keeps its own arguments" in capsys.readouterr().err
    for spelling in ("run", str(tmp_path / "run"), "./run/"):
        assert main(["--resume", spelling]) == 2
        assert "the run has finished" in capsys.readouterr().err
    assert main(["--resume", str(tmp_path)]) == 2
    assert "is not a run directory" in capsys.readouterr().err


def test_a_run_from_before_exact_resume_is_refused_in_one_line(data_root, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert run_in_process(["--limit", "60", "-ep", "1"], data_root, run_dir, tmp_path / "results.csv") == 0
    (tmp_path / "results.csv").unlink()
    config = json.loads((run_dir / "config.json").read_text())
    for flag in ("optimizer", "scheduler", "warmup_epochs", "momentum", "precision", "select", "bucket", "crop"):
        del config["arguments"][flag]  # the flags an older version did not record
    (run_dir / "config.json").write_text(json.dumps(config))
    last = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    torch.save({key: last[key] for key in ("epoch", "dev_eer", "model", "loss", "optimizer", "arguments")}, run_dir / "checkpoints" / "last.pt")
    capsys.readouterr()
    assert main(["--resume", str(run_dir)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "without exact resume" in error and "Traceback" not in error


def test_the_published_recipe_flags_run_end_to_end(data_root, tmp_path, capsys):
    """SSL-AASIST's recipe (Tak et al. 2022) on a tiny model: weighted cross-entropy, the first
    64,600 samples in training and evaluation, RawBoost 5, the average of the 5 best epochs."""
    recipe = [
        "--optimizer", "adam", "--lr", "1e-6", "--weight_decay", "1e-4", "--class_weights", "bonafide=0.9,spoof=0.1",
        "--crop", "first", "--max_len", "4.0375", "--eval_max_len", "64600samples", "-a", "rawboost", "--algo", "5",
        "--average", "best:5", "--patience", "7",
    ]
    run_dir = tmp_path / "run"
    code = run_in_process([*recipe, "--limit", "40", "-ep", "5", "--batch_size", "14"], data_root, run_dir, tmp_path / "results.csv")
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["averaged_epochs"] == [1, 2, 3, 4, 5]
    settings = json.loads((run_dir / "config.json").read_text())["arguments"]
    assert settings["hyper_parameters"]["loss"]["CrossEntropy"]["class_weights"] == "bonafide=0.9,spoof=0.1"
    assert (settings["max_len"], settings["eval_max_len"], settings["crop"]) == (4.0375, 4.0375, "first")
    log = (run_dir / "train.log").read_text()
    assert "padding 0.0%" in log and "lr 1e-06" in log
    eval_only = ["--eval_only", "--checkpoint", str(run_dir / "checkpoints" / "average.pt"), "--limit", "40"]
    assert run_in_process(eval_only, data_root, tmp_path / "again", tmp_path / "results.csv") == 0
    assert (tmp_path / "again" / "scores" / "eval.txt").read_text() == (run_dir / "scores" / "eval.txt").read_text()
    assert json.loads((tmp_path / "again" / "metrics.json").read_text())["averaged_epochs"] == [1, 2, 3, 4, 5]
    best_only = ["--eval_only", "--checkpoint", str(run_dir / "checkpoints" / "best.pt"), "--limit", "40"]
    assert run_in_process(best_only, data_root, tmp_path / "best", tmp_path / "results.csv") == 0
    assert "averaged_epochs" not in json.loads((tmp_path / "best" / "metrics.json").read_text())
