import csv
import json
import multiprocessing

import pytest

from conventions import UsageError
from parse_arguments import parse_arguments
from reporting.results_csv import RESULTS_COLUMNS, append_result, check_results_csv
from reporting.run_directory import create_run_dir, write_config


def row(index: int) -> dict:
    return {column: f"{column}-{index}" for column in RESULTS_COLUMNS}


def test_append_writes_the_header_once(tmp_path):
    path = tmp_path / "sub" / "results.csv"
    append_result(path, row(0))
    append_result(path, row(1))
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == list(RESULTS_COLUMNS)
    assert rows[1:] == [list(row(0).values()), list(row(1).values())]


def append_many(path, start):
    for index in range(start, start + 25):
        append_result(path, row(index))


def test_concurrent_appends_lose_no_row(tmp_path):
    path = tmp_path / "results.csv"
    processes = [multiprocessing.Process(target=append_many, args=(path, 100 * p)) for p in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 100
    assert sorted(r["time"] for r in rows) == sorted(f"time-{100 * p + i}" for p in range(4) for i in range(25))


def test_a_csv_with_another_header_is_refused_before_the_run(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(UsageError, match="another header"):
        check_results_csv(path)
    check_results_csv(tmp_path / "new.csv")


def test_config_records_arguments_versions_and_commit(tmp_path):
    args = parse_arguments(["--seed", "7", "--output_dir", str(tmp_path / "run")])
    run_dir = create_run_dir(args)
    write_config(run_dir, args)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["arguments"]["seed"] == 7 and config["arguments"]["loss"] == "CrossEntropy"
    assert config["versions"]["torch"].startswith("2.14.1")
    assert "git_commit" in config and "git_dirty" in config


def test_default_run_dirs_never_collide(tmp_path):
    args = parse_arguments(["--runs_dir", str(tmp_path)])
    first, second = create_run_dir(args), create_run_dir(args)
    assert first != second and first.is_dir() and second.is_dir()
