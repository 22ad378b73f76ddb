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


def append_when_released(path, index, barrier):
    barrier.wait()
    append_result(path, row(index))


def test_sixteen_runs_appending_to_a_new_csv_at_once_write_one_header_and_sixteen_whole_rows(tmp_path):
    context = multiprocessing.get_context("fork")
    for trial in range(20):
        path = tmp_path / f"results_{trial}.csv"
        barrier = context.Barrier(16)
        processes = [context.Process(target=append_when_released, args=(path, index, barrier)) for index in range(16)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        assert all(process.exitcode == 0 for process in processes)
        with open(path, newline="") as file:
            rows = list(csv.reader(file))
        assert rows[0] == list(RESULTS_COLUMNS) and len(rows) == 17
        assert sorted(values[0] for values in rows[1:]) == sorted(f"time-{index}" for index in range(16))
        assert all(values == list(row(int(values[0].split("-")[1])).values()) for values in rows[1:])
        check_results_csv(path)


def test_a_last_line_without_its_line_break_gets_one_before_the_next_row(tmp_path):
    path = tmp_path / "results.csv"
    append_result(path, row(0))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    append_result(path, row(1))
    with open(path, newline="") as file:
        assert list(csv.reader(file))[1:] == [list(row(0).values()), list(row(1).values())]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"a,b,c\n1,2,3\n", "another header"),
        (b"\xff\xfe not text", "is not UTF-8 text"),
        ((",".join(RESULTS_COLUMNS) + "\n1,2,3\n").encode(), "row 2: 3 fields where 19 belong"),
    ],
)
def test_a_csv_that_cannot_take_our_rows_is_refused_before_the_run(tmp_path, content, message):
    path = tmp_path / "results.csv"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        check_results_csv(path)
    check_results_csv(tmp_path / "new.csv")
    (tmp_path / "a file").write_text("")
    with pytest.raises(UsageError, match="which is a file, not a folder"):
        check_results_csv(tmp_path / "a file" / "results.csv")


def test_loss_parameters_read_as_the_flags_that_set_them():
    assert format_loss_parameters(["CosFace"], {"CosFace": {"margin": 0.35, "s": 30.0}}, [1.0]) == "margin=0.35;s=30.0"
    combined = {"Combined": {"lambda_combined": 0.5, "proxy_type": "ProxyAnchor"}, "ProxyAnchor": {"proxy_alpha": 32.0}}
    assert format_loss_parameters(["Combined"], combined, [1.0]) == "lambda_combined=0.5;proxy_type=ProxyAnchor;ProxyAnchor.proxy_alpha=32.0"
    terms = {"CosFace": {"margin": 0.2}, "CrossEntropy": {}}
    assert format_loss_parameters(["CosFace", "CrossEntropy"], terms, [1.0, 0.5]) == "weights=1.0,0.5;CosFace.margin=0.2"
