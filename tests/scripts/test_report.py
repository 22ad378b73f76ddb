"""scripts/report.py: mean ± std over seeds per configuration by mean eval EER, the best runs and their
DET curves overlaid; every user mistake is one line on stderr, exit status 2, and nothing written."""
from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from metrics import compute_eer
from reporting import plots
from reporting.plots import plot_det_curve, plot_det_curves
from reporting.results_csv import RESULTS_COLUMNS, append_result
from scripts.report import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRICS = {"dev_eer_percent": ("dev EER %", 3), "eval_eer_percent": ("eval EER %", 3), "eval_min_dcf": ("eval minDCF", 4),
           "eval_act_dcf": ("eval actDCF", 4), "eval_cllr": ("eval Cllr", 4)}
SEEDS = {("CrossEntropy", "scoring=log_odds"): 3, ("AdditiveAngularMargin", "margin=0.2"): 3,
         ("AdditiveAngularMargin", "margin=0.5"): 2, ("OCSoftmax", ""): 1}


def row(run_dir: Path, **cells) -> dict:
    """A results row of a finished run in `run_dir`, `cells` replacing the defaults."""
    return {"time": "2026-01-01T00:00:00", "run_dir": str(run_dir), "dataset": "Synthetic", "extractor": "LFCC",
            "processor": "Mean", "classifier": "EmbeddingFF", "loss": "CrossEntropy", "loss_parameters": "",
            "other_parameters": "hidden_dim=128", "seed": 0, "epochs": 3, "best_epoch": 2, "dev_eer_percent": "5.0",
            "eval_eer_percent": "10.0", "eval_min_dcf": "0.2", "eval_act_dcf": "0.3", "eval_cllr": "0.5",
            "eval_accuracy": "0.9", "wall_seconds": "1.0", **cells}


def write_scores(run_dir: Path, bonafide: np.ndarray, spoof: np.ndarray) -> None:
    (run_dir / "scores").mkdir(parents=True)
    lines = [f"B{index} - bonafide {float(score)!r}" for index, score in enumerate(bonafide)]
    lines += [f"S{index} A07 spoof {float(score)!r}" for index, score in enumerate(spoof)]
    (run_dir / "scores" / "eval.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def results(tmp_path) -> tuple[Path, list[dict], dict[str, tuple]]:
    """A results CSV of 4 configurations x 1-3 seeds with random metrics, its rows as read back, and
    the scores written into each run's scores/eval.txt by run_dir."""
    generator = np.random.default_rng(3)
    path, scores = tmp_path / "results.csv", {}
    for (loss, parameters), seeds in SEEDS.items():
        for seed in range(seeds):
            run_dir = tmp_path / "runs" / f"{loss}_{parameters}_{seed}"
            metrics = {column: f"{generator.uniform(1, 30):.4f}" for column in METRICS}
            append_result(path, row(run_dir, loss=loss, loss_parameters=parameters, seed=seed, **metrics))
            scores[str(run_dir)] = (generator.normal(1, 1, 40), generator.normal(-1, 1, 60))
            write_scores(run_dir, *scores[str(run_dir)])
    with open(path, newline="") as file:
        return path, list(csv.DictReader(file)), scores


def table(markdown: str, heading: str) -> list[dict[str, str]]:
    """The rows of the Markdown table in the section whose heading starts with `heading`, by column heading."""
    section = markdown.split(f"\n## {heading}")[1].split("\n## ")[0]
    lines = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("|")]
    return [dict(zip(lines[0], cells)) for cells in lines[2:]]


def run(argv: list[str]) -> int:
    """main's exit status, the parser's included."""
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


def test_configurations_are_mean_and_std_over_seeds_by_mean_eval_eer(results, capsys):
    path, rows, _ = results
    assert run([str(path)]) == 0
    markdown = (path.parent / "report.md").read_text()
    assert capsys.readouterr().out == markdown
    assert "Every run: dataset `Synthetic`, extractor `LFCC`" in markdown
    groups = defaultdict(list)
    for written in rows:
        groups[written["loss"], written["loss_parameters"] or "—"].append(written)
    shown = table(markdown, "Configurations")
    assert [(line["loss"], line["loss parameters"]) for line in shown] == sorted(
        groups, key=lambda key: statistics.mean(float(written["eval_eer_percent"]) for written in groups[key]))
    for line in shown:
        members = groups[line["loss"], line["loss parameters"]]
        assert line["runs"] == str(len(members)) == str(SEEDS[members[0]["loss"], members[0]["loss_parameters"]])
        for column, (heading, decimals) in METRICS.items():
            values = [float(written[column]) for written in members]
            mean, deviation = line[heading].split(" ± ")
            assert float(mean) == pytest.approx(statistics.mean(values), abs=0.51 * 10**-decimals)
            if len(values) > 1:
                assert float(deviation) == pytest.approx(statistics.stdev(values), abs=0.51 * 10**-decimals)
            else:
                assert deviation == "-"


def test_the_best_runs_are_listed_and_their_det_curves_overlaid(results, tmp_path, monkeypatch):
    path, rows, scores = results
    ranked = sorted(rows, key=lambda written: float(written["eval_eer_percent"]))
    (Path(ranked[1]["run_dir"]) / "scores" / "eval.txt").unlink()
    figures, save = [], plots.save_atomically
    monkeypatch.setattr(plots, "save_atomically", lambda figure, target: (figures.append(figure), save(figure, target)))
    output = tmp_path / "report"
    assert run([str(path), "--output", str(output), "--top", "4"]) == 0
    markdown = (output / "report.md").read_text()
    best = table(markdown, "The 4 best runs")
    assert [(line["rank"], line["run_dir"], line["seed"]) for line in best] == [
        (str(rank), written["run_dir"], written["seed"]) for rank, written in enumerate(ranked[:4], start=1)]
    assert best[1]["DET curve"] == "no scores"
    assert (output / "det_best.png").read_bytes()[:8] == PNG_SIGNATURE and "](det_best.png)" in markdown
    (figure,) = figures
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert [label.split()[0] for label in legend] == ["#1", "#3", "#4"]
    assert [label.split(" (EER")[0] for label in legend] == [best[index]["DET curve"] for index in (0, 2, 3)]
    eer, _ = compute_eer(*scores[ranked[0]["run_dir"]])
    assert legend[0].endswith(f"(EER {100 * eer:.2f}%)")
    assert not (path.parent / "report.md").exists()


def test_without_any_score_file_there_is_no_plot(results, tmp_path):
    path, _, scores = results
    for run_dir in scores:
        (Path(run_dir) / "scores" / "eval.txt").unlink()
    assert run([str(path), "--top", "2"]) == 0
    markdown = (tmp_path / "report.md").read_text()
    assert [line["DET curve"] for line in table(markdown, "The 2 best runs")] == ["no scores", "no scores"]
    assert "No plot" in markdown and not (tmp_path / "det_best.png").exists()


def test_seeds_are_grouped_and_a_foreign_file_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the run_dir "x" is read from here, and holds no scores
    path = tmp_path / "results.csv"
    for seed, eer in ((0, "10.0"), (1, "20.0")):
        append_result(path, {**{column: "x" for column in RESULTS_COLUMNS}, "seed": seed, "dev_eer_percent": eer, "eval_eer_percent": eer,
                             "eval_min_dcf": "0.5", "eval_act_dcf": "0.5", "eval_cllr": "0.5"})
    assert main([str(path)]) == 0
    (line,) = table(capsys.readouterr().out, "Configurations")
    assert line["eval EER %"] == "15.000 ± 7.071" and line["runs"] == "2" and line["eval minDCF"] == "0.5000 ± 0.0000"
    (tmp_path / "foreign.csv").write_text("a,b\n1,2\n")
    assert main([str(tmp_path / "foreign.csv")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "another header than a results CSV of this tool" in error
    with open(path, newline="") as file:
        assert len(list(csv.reader(file))) == 3


def csv_of(tmp_path: Path, *rows: dict, text: str | None = None) -> list[str]:
    """A results CSV in tmp_path of `rows` (or holding `text`); its path as the arguments."""
    path = tmp_path / "results.csv"
    if text is not None:
        path.write_text(text)
    for cells in rows:
        append_result(path, cells)
    return [str(path)]


def runs_with_scores(tmp_path: Path, second: str) -> list[str]:
    """Two runs, the better with good scores, the other with a score file holding `second`."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_scores(good, np.array([1.0, 2.0]), np.array([0.0, 1.5]))
    (bad / "scores").mkdir(parents=True)
    (bad / "scores" / "eval.txt").write_text(second)
    return csv_of(tmp_path, row(good, eval_eer_percent="1.0"), row(bad, eval_eer_percent="2.0"))


def not_utf8(tmp_path: Path) -> list[str]:
    (tmp_path / "results.csv").write_bytes(b"\xff\xfe,\x00\n")
    return [str(tmp_path / "results.csv")]


def plot_path_a_folder(tmp_path: Path) -> list[str]:
    (tmp_path / "out" / "det_best.png").mkdir(parents=True)
    return runs_with_scores(tmp_path, "") + ["--top", "1", "--output", str(tmp_path / "out")]


HEADER = ",".join(RESULTS_COLUMNS) + "\n"
MISTAKES = {
    "no arguments": (lambda tmp_path: [], "the following arguments are required: RESULTS_CSV"),
    "missing file": (lambda tmp_path: [str(tmp_path / "none.csv")], "none.csv does not exist; give the CSV"),
    "a folder": (lambda tmp_path: [str(tmp_path)], "is a folder; give the CSV"),
    "empty": (lambda tmp_path: csv_of(tmp_path, text=""), "is empty"),
    "header only": (lambda tmp_path: csv_of(tmp_path, text=HEADER), "holds the header but no run yet"),
    "older header": (lambda tmp_path: csv_of(tmp_path, text=HEADER.replace(",eval_cllr", "")), "another header"),
    "not UTF-8": (not_utf8, "not UTF-8"),
    "short row": (lambda tmp_path: csv_of(tmp_path, text=HEADER + "a,b,c\n"), "line 2: 3 fields where 19 belong"),
    "metric not a number": (lambda tmp_path: csv_of(tmp_path, row(tmp_path, eval_cllr="n/a")), "line 2: eval_cllr 'n/a' is not a finite number"),
    "metric not finite": (lambda tmp_path: csv_of(tmp_path, row(tmp_path, dev_eer_percent="nan")), "dev_eer_percent 'nan' is not a finite"),
    "empty run_dir": (lambda tmp_path: csv_of(tmp_path, row("")), "line 2: run_dir is empty"),
    "run_dir a file": (lambda tmp_path: csv_of(tmp_path, row(tmp_path / "results.csv")), "is a file, not a run directory"),
    "empty score file": (lambda tmp_path: runs_with_scores(tmp_path, ""), "eval.txt holds no scores"),
    "bad score": (lambda tmp_path: runs_with_scores(tmp_path, "U1 - bonafide high\n"), "score 'high' is not a finite number"),
    "no labels": (lambda tmp_path: runs_with_scores(tmp_path, "U1 0.5\nU2 0.1\n"), "carries no labels"),
    "one class": (lambda tmp_path: runs_with_scores(tmp_path, "U1 - bonafide 0.5\n"), "holds no spoof trial"),
    "top 0": (lambda tmp_path: runs_with_scores(tmp_path, "") + ["--top", "0"], "argument --top: 0 must be greater than 0"),
    "output under a file": (lambda tmp_path: csv_of(tmp_path, row(tmp_path)) + ["--output", str(tmp_path / "results.csv" / "out")],
                            "which is a file, not a folder"),
    "plot path a folder": (plot_path_a_folder, "cannot write into"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_a_user_mistake_is_one_line_and_exit_status_2_with_nothing_written(tmp_path, capsys, name):
    arguments, expected = MISTAKES[name]
    assert run(arguments(tmp_path)) == 2
    out, error = capsys.readouterr()
    assert out == "" and error.count("\n") == 1 and error.startswith("report.py: error: ") and expected in error
    assert not [path for pattern in ("report.md", "*.png", ".*.tmp*") for path in tmp_path.rglob(pattern) if path.is_file()]


def test_plot_det_curves_draws_one_coloured_curve_and_eer_point_per_system(tmp_path, monkeypatch):
    figures, save = [], plots.save_atomically
    monkeypatch.setattr(plots, "save_atomically", lambda figure, target: (figures.append(figure), save(figure, target)))
    generator = np.random.default_rng(5)
    curves = {name: (generator.normal(shift, 1, 300), generator.normal(0, 1, 500)) for name, shift in (("a", 1), ("b", 2), ("c", 3))}
    plot_det_curves(tmp_path / "det.png", curves, title="three")
    plot_det_curve(tmp_path / "one.png", *curves["a"])
    several, one = (figure.axes[0].get_lines() for figure in figures)
    assert len(several) == 1 + 2 * len(curves) and len(one) == 3  # the diagonal, then each curve and its EER point
    assert len({line.get_color() for line in several[1::2]}) == 3 and [line.get_color() for line in several[1::2]] == [
        line.get_color() for line in several[2::2]]
    assert (tmp_path / "det.png").read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="^plot_det_curves: no curves"):
        plot_det_curves(tmp_path / "none.png", {})
    with pytest.raises(ValueError, match="^plot_det_curves: no spoof scores"):
        plot_det_curves(tmp_path / "none.png", {"a": curves["a"], "b": ([1.0], [])})
