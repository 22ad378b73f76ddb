"""The results CSV: one header, whole rows, safe under concurrent appends; a foreign header refused."""
import csv
import multiprocessing

import pytest

from conventions import UsageError
from reporting.results_csv import RESULTS_COLUMNS, append_result, check_results_csv, format_loss_parameters


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


def test_loss_parameters_read_as_the_flags_that_set_them():
    assert format_loss_parameters(["CosFace"], {"CosFace": {"margin": 0.35, "s": 30.0}}, [1.0]) == "margin=0.35;s=30.0"
    combined = {"Combined": {"lambda_combined": 0.5, "proxy_type": "ProxyAnchor"}, "ProxyAnchor": {"proxy_alpha": 32.0}}
    assert format_loss_parameters(["Combined"], combined, [1.0]) == "lambda_combined=0.5;proxy_type=ProxyAnchor;ProxyAnchor.proxy_alpha=32.0"
    terms = {"CosFace": {"margin": 0.2}, "CrossEntropy": {}}
    assert format_loss_parameters(["CosFace", "CrossEntropy"], terms, [1.0, 0.5]) == "weights=1.0,0.5;CosFace.margin=0.2"
