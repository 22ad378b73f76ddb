"""Distributed data parallel training with torchrun on the CPU (gloo, 2 processes): one results row,
the same parameters on both ranks, the same model as one process with the two ranks' batches
together (a pair loss sees the embeddings of both ranks), scores that a single-process --eval_only
reproduces, and an exact --resume after a kill -9 of the whole group."""
from __future__ import annotations

import csv
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
# a pair loss whose batches every rank must see, without buckets (rank r takes batches r, r+2, ...),
# crops and augmentation drawn per epoch, and epochs long enough for the kill to land in training
RUN = [
    "--limit", "160", "--classifier", "EmbeddingFF", "--loss", "TripletMargin", "--no-bucket", "--device", "cpu", "--seed", "2",
    "-a", "noise", "--max_len", "1.0", "-ep", "6",
]


def torchrun(arguments: list[str], data_root: Path, output: Path, results: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(REPOSITORY / "train_and_eval.py")]
    files = [] if "--resume" in arguments else ["--data_root", str(data_root), "--results_csv", str(results), "--output_dir", str(output)]
    return subprocess.Popen(
        [*command, *arguments, *files], cwd=output.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    )


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def kill_tree(pid: int) -> None:
    for target in [pid, *descendants(pid)]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


def finished(process: subprocess.Popen) -> str:
    out, error = process.communicate(timeout=300)
    assert process.returncode == 0, error[-3000:]
    return out


def outputs(run_dir: Path) -> tuple[dict, str]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics.pop("wall_seconds")
    return metrics, (run_dir / "scores" / "eval.txt").read_text()


@pytest.fixture(scope="module")
def two_processes(data_root, tmp_path_factory):
    """An uninterrupted 2-process run with 8 utterances per batch and process."""
    directory = tmp_path_factory.mktemp("ddp")
    finished(torchrun([*RUN, "--batch_size", "8"], data_root, directory / "run", directory / "results.csv"))
    return directory


def test_two_processes_write_one_row_and_hold_the_same_parameters(two_processes):
    with open(two_processes / "results.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 1 and rows[0]["run_dir"] == str(two_processes / "run")
    log = (two_processes / "run" / "train.log").read_text()
    assert "parameters identical on all 2 ranks" in log and "2 processes" in log
    assert log.count("epoch 2/6") == 1  # rank 0 alone writes


def test_the_two_ranks_train_what_one_process_trains_on_their_batches_together(two_processes, data_root, tmp_path):
    assert main([*RUN, "--batch_size", "16", "--data_root", str(data_root), "--output_dir", str(tmp_path / "one"),
                 "--results_csv", str(tmp_path / "results.csv")]) == 0
    distributed = torch.load(two_processes / "run" / "checkpoints" / "last.pt", weights_only=True)
    single = torch.load(tmp_path / "one" / "checkpoints" / "last.pt", weights_only=True)
    for part in ("model", "loss"):
        for key, value in single[part].items():
            torch.testing.assert_close(distributed[part][key], value, rtol=1e-4, atol=1e-5)


def test_one_process_eval_only_reproduces_the_distributed_scores(two_processes, data_root, tmp_path):
    checkpoint = two_processes / "run" / "checkpoints" / "best.pt"
    assert main(["--eval_only", "--checkpoint", str(checkpoint), "--data_root", str(data_root), "--limit", "160",
                 "--output_dir", str(tmp_path / "eval"), "--results_csv", str(tmp_path / "results.csv")]) == 0
    assert (tmp_path / "eval" / "scores" / "eval.txt").read_text() == (two_processes / "run" / "scores" / "eval.txt").read_text()


def test_a_killed_distributed_run_resumes_under_torchrun_to_the_same_results(two_processes, data_root, tmp_path):
    run_dir, results = tmp_path / "run", tmp_path / "results.csv"
    process = torchrun([*RUN, "--batch_size", "8"], data_root, run_dir, results)
    log = run_dir / "train.log"
    while not (log.is_file() and "epoch 2/6" in log.read_text()):
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    kill_tree(process.pid)  # the launcher and both workers, as a pre-empted cluster job
    process.communicate()
    assert not results.exists()
    finished(torchrun(["--resume", str(run_dir)], data_root, run_dir, results))
    assert outputs(run_dir) == outputs(two_processes / "run")
