"""scripts/sweep.sh runs losses x margins x seeds into one results CSV and summarises it, or writes
an array job of one task per run for SLURM, PBS or SGE."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def sweep(tmp_path, data_root, extra: list[str], **variables) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PYTHON": sys.executable,
        "LOSSES": "CrossEntropy ArcFace",
        "MARGINS": "0.2 0.4",
        "SEEDS": "0",
        "RESULTS_CSV": str(tmp_path / "sweep.csv"),
        "CA_MHFA_DATA_ROOT": str(data_root),
        **variables,
    }
    return subprocess.run(
        [str(REPOSITORY / "scripts" / "sweep.sh"), *extra], env=environment, capture_output=True, text=True, timeout=300
    )


def test_sweep_runs_every_combination_into_one_csv(tmp_path, data_root):
    done = sweep(tmp_path, data_root, ["--limit", "60", "-ep", "1", "--runs_dir", str(tmp_path / "runs")])
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "sweep.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    # CrossEntropy takes no margin: it runs once; ArcFace runs once per margin
    assert [(row["loss"], row["loss_parameters"].split(";")[0]) for row in rows] == [
        ("CrossEntropy", "scoring=log_odds"),
        ("AdditiveAngularMargin", "margin=0.2"),
        ("AdditiveAngularMargin", "margin=0.4"),
    ]
    section = done.stdout.split("## Configurations")[1].split("\n## ")[0]
    summary = [line for line in section.splitlines() if line.startswith("| ")][2:]
    assert len(summary) == 3 and all("±" in line for line in summary)


DIRECTIVES = {"slurm": ("#SBATCH --array=1-3", "#SBATCH --gres=gpu:2"), "pbs": ("#PBS -J 1-3", "#PBS -l select=1:ngpus=2"),
              "sge": ("#$ -t 1-3", "#$ -l gpu=2")}


@pytest.mark.parametrize("cluster", sorted(DIRECTIVES))
def test_a_cluster_sweep_writes_one_array_task_per_run(tmp_path, data_root, cluster):
    job_dir = tmp_path / "job"
    odd = "a b;$(touch pwned)"  # arguments are data: kept whole, never run
    done = sweep(tmp_path, data_root, ["-ep", "1", "--run_name", odd], CLUSTER=cluster, GPUS="2", JOB_DIR=str(job_dir))
    assert done.returncode == 0, done.stderr
    script = (job_dir / "job.sh").read_text()
    assert all(directive in script.splitlines() for directive in DIRECTIVES[cluster])
    assert subprocess.run(["bash", "-n", str(job_dir / "job.sh")]).returncode == 0
    tasks = sorted(job_dir.glob("tasks/*.args"))
    assert [task.name for task in tasks] == ["1.args", "2.args", "3.args"]
    commands = [task.read_bytes().split(b"\0")[:-1] for task in tasks]
    expected_margins = [[], [b"--margin", b"0.2"], [b"--margin", b"0.4"]]
    for command, loss, margin in zip(commands, [b"CrossEntropy", b"ArcFace", b"ArcFace"], expected_margins):
        assert command == [b"--classifier", b"EmbeddingFF", b"--loss", loss, b"--seed", b"0", b"--results_csv",
                           str(tmp_path / "sweep.csv").encode(), *margin, b"-ep", b"1", b"--run_name", odd.encode()]
    assert not (tmp_path / "sweep.csv").exists()  # nothing ran


def test_an_array_task_runs_its_own_command_and_resumes_when_started_again(tmp_path, data_root):
    job_dir = tmp_path / "job"
    arguments = ["--limit", "60", "-ep", "1", "--wandb_project", "a b;$(touch pwned)"]
    assert sweep(tmp_path, data_root, arguments, CLUSTER="slurm", JOB_DIR=str(job_dir)).returncode == 0
    environment = {**os.environ, "SLURM_ARRAY_TASK_ID": "2", "CA_MHFA_DATA_ROOT": str(data_root)}

    def task() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(job_dir / "job.sh")], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)

    done = task()
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "sweep.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["loss_parameters"].startswith("margin=0.2") and row["run_dir"] == str(job_dir / "runs" / "2")
    assert not any(tmp_path.rglob("pwned")) and not (REPOSITORY / "pwned").exists()
    (tmp_path / "sweep.csv").write_text((tmp_path / "sweep.csv").read_text().splitlines()[0] + "\n")  # as if pre-empted
    again = task()
    assert again.returncode == 0, again.stderr
    assert "resumed after epoch 1" in (job_dir / "runs" / "2" / "train.log").read_text()
    assert len((tmp_path / "sweep.csv").read_text().splitlines()) == 2
    assert sweep(tmp_path, data_root, [], CLUSTER="slurm", JOB_DIR=str(job_dir)).returncode == 2  # its runs are kept


@pytest.mark.parametrize("variables", [{"CLUSTER": "lsf"}, {"CLUSTER": "slurm", "GPUS": "two"}, {"CLUSTER": "slurm", "JOB_NAME": "x\n#SBATCH --x"}])
def test_bad_cluster_settings_are_refused(tmp_path, data_root, variables):
    done = sweep(tmp_path, data_root, [], **variables)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "sweep.sh:" in done.stderr
