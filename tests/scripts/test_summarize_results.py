"""scripts/summarize_results.py: mean ± std over seeds per configuration; one line for a bad file."""
import csv

from reporting.results_csv import RESULTS_COLUMNS, append_result
from scripts.summarize_results import main


def test_the_summary_groups_seeds_and_a_foreign_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "results.csv"
    for seed, eer in ((0, "10.0"), (1, "20.0")):
        append_result(path, {**{column: "x" for column in RESULTS_COLUMNS}, "seed": seed, "dev_eer_percent": eer,
                             "eval_eer_percent": eer, "eval_min_dcf": "0.5"})
    assert main([str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2 and "15.000 ± 7.071" in table[1] and table[1].split()[2] == "2"
    (tmp_path / "foreign.csv").write_text("a,b\n1,2\n")
    assert main([str(tmp_path / "foreign.csv")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is not a results CSV of this tool" in error
    with open(path, newline="") as file:
        assert len(list(csv.reader(file))) == 3
