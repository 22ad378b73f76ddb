"""scripts/sweep.sh runs losses x margins x seeds into one results CSV and summarises it."""
import csv
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_sweep_runs_every_combination_into_one_csv(tmp_path, data_root):
    results = tmp_path / "sweep.csv"
    environment = {
        **os.environ,
        "PYTHON": sys.executable,
        "LOSSES": "CrossEntropy ArcFace",
        "MARGINS": "0.2 0.4",
        "SEEDS": "0",
        "RESULTS_CSV": str(results),
        "CA_MHFA_DATA_ROOT": str(data_root),
    }
    done = subprocess.run(
        [str(REPOSITORY / "scripts" / "sweep.sh"), "--limit", "60", "-ep", "1", "--runs_dir", str(tmp_path / "runs")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with open(results, newline="") as file:
        rows = list(csv.DictReader(file))
    # CrossEntropy takes no margin: it runs once; ArcFace runs once per margin
    assert [(row["loss"], row["loss_parameters"].split(";")[0]) for row in rows] == [
        ("CrossEntropy", ""),
        ("AdditiveAngularMargin", "margin=0.2"),
        ("AdditiveAngularMargin", "margin=0.4"),
    ]
    summary = done.stdout[done.stdout.index("loss parameters") :].splitlines()[1:]
    assert len(summary) == 3 and all("±" in line for line in summary)
