"""A report across the runs of a results CSV: mean ± std over seeds per configuration, the best single
runs, and their DET curves overlaid.

    python scripts/report.py results.csv                       # report.md and det_best.png next to the CSV
    python scripts/report.py runs/sweep_results.csv --output reports/sweep --top 3

A configuration is every column of the CSV but time, run_dir, seed, best_epoch and the metrics. The
DET curves are drawn from each run's scores/eval.txt; a relative run_dir is read from the current
folder, as train_and_eval.py and scripts/sweep.sh write it from the repository. The Markdown goes to
stdout too.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from scripts/

import numpy as np  # noqa: E402

from conventions import BONAFIDE, SPOOF, UsageError, one_line  # noqa: E402
from parse_arguments import OneLineErrorParser, number  # noqa: E402
from reporting.files import atomic_write_text, check_writable_location  # noqa: E402
from reporting.plots import plot_det_curves  # noqa: E402
from reporting.results_csv import RESULTS_COLUMNS  # noqa: E402
from reporting.score_files import read_score_file  # noqa: E402

METRICS = {  # column: heading, decimals
    "dev_eer_percent": ("dev EER %", 3),
    "eval_eer_percent": ("eval EER %", 3),
    "eval_min_dcf": ("eval minDCF", 4),
    "eval_act_dcf": ("eval actDCF", 4),
    "eval_cllr": ("eval Cllr", 4),
}
NOT_CONFIGURATION = {"time", "run_dir", "seed", "best_epoch", "eval_accuracy", "wall_seconds", *METRICS}
CONFIGURATION = tuple(column for column in RESULTS_COLUMNS if column not in NOT_CONFIGURATION)
REPORT, DET_PLOT = "report.md", "det_best.png"
LABEL_LENGTH = 24  # characters of a configuration in the plot's legend (the rank leads to the whole one)
FIX = "give the CSV that train_and_eval.py --results_csv appends to"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("results_csv", metavar="RESULTS_CSV", help="the results CSV the runs appended their rows to")
    parser.add_argument("--output", metavar="FOLDER", help=f"where {REPORT} and {DET_PLOT} go (default: the CSV's folder)")
    parser.add_argument("--top", type=number(int), default=5, metavar="K", help="the best runs listed and plotted (default: 5)")
    return parser


@dataclass(frozen=True)
class Run:
    """One row of the results CSV: its line, its cells, and its metrics as numbers."""

    line: int
    cells: dict[str, str]
    metrics: dict[str, float]

    @property
    def configuration(self) -> tuple[str, ...]:
        """The cells of the CONFIGURATION columns."""
        return tuple(self.cells[column] for column in CONFIGURATION)


def read_runs(path: Path) -> list[Run]:
    """The runs of the results CSV at `path`; UsageError for anything but a results CSV of this tool
    that holds at least one run."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; {FIX}")
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist; {FIX}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text, so not a results CSV of this tool; {FIX}") from None
    except OSError as error:
        raise UsageError(f"{path} cannot be read ({error.strerror}); give a file you can read") from None
    reader = csv.reader(io.StringIO(text))
    runs = []
    try:
        header = next(reader, None)
        if header is None:
            raise UsageError(f"{path} is empty: no run has finished into it; {FIX}")
        if tuple(header) != RESULTS_COLUMNS:
            raise UsageError(f"{path} has another header than a results CSV of this tool (another file, or another version's); {FIX}")
        for row in reader:
            if row:
                runs.append(parse_run(path, reader.line_num, row))
    except csv.Error as error:
        raise UsageError(f"{path}, line {reader.line_num}: {error}; {FIX}") from None
    if not runs:
        raise UsageError(f"{path} holds the header but no run yet; {FIX}, once a run has finished")
    return runs


def parse_run(path: Path, line: int, row: list[str]) -> Run:
    """The run of one row; UsageError naming the line when a field is missing or a metric is not a number."""
    where = f"{path}, line {line}:"
    if len(row) != len(RESULTS_COLUMNS):
        raise UsageError(f"{where} {len(row)} fields where {len(RESULTS_COLUMNS)} belong; mend or remove that line")
    cells = dict(zip(RESULTS_COLUMNS, row))
    if not cells["run_dir"]:
        raise UsageError(f"{where} run_dir is empty; mend or remove that line")
    metrics = {}
    for column in METRICS:
        try:
            metrics[column] = float(cells[column])
        except ValueError:
            metrics[column] = math.nan
        if not math.isfinite(metrics[column]):
            raise UsageError(f"{where} {column} {cells[column]!r} is not a finite number; mend or remove that line")
    return Run(line, cells, metrics)


def eval_scores(csv_path: Path, run: Run) -> tuple[np.ndarray, np.ndarray] | None:
    """The bona fide and spoof scores of the run's scores/eval.txt, None when there is none; UsageError
    for a run_dir that is not a folder or a score file that cannot draw a DET curve."""
    run_dir = Path(run.cells["run_dir"])
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"{csv_path}, line {run.line}: run_dir {run_dir} is a file, not a run directory; mend or remove that line")
    path = run_dir / "scores" / "eval.txt"
    if not path.is_file():
        return None
    try:
        scores = read_score_file(path)
    except OSError as error:
        raise UsageError(f"{path} cannot be read ({error.strerror}); give it read permission") from None
    if scores.labels is None:
        raise UsageError(f"{path} carries no labels (a submission file?); put the run's labelled `UTT_ID ATTACK KEY SCORE` file there")
    classes = [scores.scores[scores.labels == label] for label in (BONAFIDE, SPOOF)]
    for scored, name in zip(classes, ("bona fide", "spoof")):
        if not scored.size:
            raise UsageError(f"{path} holds no {name} trial, so no DET curve; put the run's whole eval score file there")
    return classes[0], classes[1]


def cell(text: str) -> str:
    """`text` safe inside a Markdown table cell; "—" when empty."""
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def spread(values: list[float], decimals: int) -> str:
    """`mean ± sample std` of `values`, the std "-" for a single value."""
    deviation = f"{statistics.stdev(values):.{decimals}f}" if len(values) > 1 else "-"
    return f"{statistics.mean(values):.{decimals}f} ± {deviation}"


def table(headings: list[str], rows: list[list[str]], numbers: set[str]) -> list[str]:
    """A Markdown table, the columns headed by `numbers` right-aligned."""
    alignment = ["---:" if heading in numbers else "---" for heading in headings]
    return [f"| {' | '.join(cells)} |" for cells in (headings, alignment, *rows)]


def report_markdown(csv_path: Path, runs: list[Run], varying: list[str], best: list[Run], curves: list[str | None]) -> str:
    """The report: the configurations by mean eval EER (told apart by the `varying` columns), the
    `best` runs with the legend label of their DET curve (None: no scores) and the link to the plot."""
    groups: dict[tuple[str, ...], list[Run]] = defaultdict(list)
    for run in runs:
        groups[run.configuration].append(run)
    ranked = sorted(groups.items(), key=lambda item: (statistics.mean(run.metrics["eval_eer_percent"] for run in item[1]), item[0]))
    names = [column.replace("_", " ") for column in varying]
    shared = [f"{column.replace('_', ' ')} `{cell(runs[0].cells[column])}`" for column in CONFIGURATION if column not in varying]
    lines = [f"# Results across runs: {csv_path}", "",
             f"Runs: {len(runs)}, configurations: {len(groups)}." + (f" Every run: {', '.join(shared)}." if shared else ""), "",
             "## Configurations by mean eval EER", "",
             "Mean ± sample standard deviation over the runs (seeds) of each configuration.", ""]
    rows = [[*(cell(members[0].cells[column]) for column in varying), str(len(members)),
             *(spread([run.metrics[column] for run in members], decimals) for column, (_, decimals) in METRICS.items())]
            for _, members in ranked]
    metric_headings = [heading for heading, _ in METRICS.values()]
    lines += table([*names, "runs", *metric_headings], rows, {"runs", *metric_headings})
    lines += ["", f"## The {len(best)} best runs by eval EER", ""]
    rows = [[str(rank), *(cell(run.cells[column]) for column in varying), cell(run.cells["seed"]),
             f"{run.metrics['eval_eer_percent']:.3f}", cell(run.cells["run_dir"]), label or "no scores"]
            for rank, (run, label) in enumerate(zip(best, curves), start=1)]
    lines += table(["rank", *names, "seed", "eval EER %", "run_dir", "DET curve"], rows, {"rank", "seed", "eval EER %"})
    lines += ["", "## DET curves of the best runs", ""]
    lines.append(f"![DET curves of the best runs]({DET_PLOT})" if any(curves) else
                 "No plot: none of the best runs has its scores/eval.txt (a relative run_dir is read from the current folder).")
    return "\n".join(lines) + "\n"


def legend_label(rank: int, run: Run, varying: list[str]) -> str:
    """A short name of a run for the plot's legend: its rank, what sets its configuration apart, its seed."""
    configuration = " ".join(run.cells[column] for column in varying)
    if len(configuration) > LABEL_LENGTH:
        configuration = configuration[: LABEL_LENGTH - 1] + "…"
    return " ".join(part for part in (f"#{rank}", configuration, f"seed {run.cells['seed']}") if part)


def write_files(output: Path, markdown: str, curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> None:
    """report.md, and det_best.png of `curves` when there are any, into `output`, each written whole."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        if curves:
            plot_det_curves(output / DET_PLOT, curves, title=title)
        atomic_write_text(output / REPORT, markdown)
    except OSError as error:
        raise UsageError(f"cannot write into {output} ({error.strerror or error}); give an --output folder you can write to") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    csv_path = Path(args.results_csv)
    output = Path(args.output) if args.output is not None else csv_path.parent
    try:
        runs = read_runs(csv_path)
        check_writable_location(output / REPORT, "--output")
        best = sorted(runs, key=lambda run: run.metrics["eval_eer_percent"])[: args.top]
        scores = [eval_scores(csv_path, run) for run in best]
        varying = [column for column in CONFIGURATION if len({run.cells[column] for run in runs}) > 1]
        labels = [legend_label(rank, run, varying) if found is not None else None
                  for rank, (run, found) in enumerate(zip(best, scores), start=1)]
        markdown = report_markdown(csv_path, runs, varying, best, labels)
        curves = {label: found for label, found in zip(labels, scores) if found is not None}
        write_files(output, markdown, curves, f"{csv_path.name}: the best runs by eval EER")
    except UsageError as error:
        print(f"report.py: error: {one_line(error)}", file=sys.stderr)
        return 2
    print(markdown, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
