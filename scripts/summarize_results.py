"""Summarise a results CSV: eval EER (%) mean ± std over seeds per configuration.

    python scripts/summarize_results.py results.csv
"""
from __future__ import annotations

import csv
import statistics
import sys
from collections import defaultdict

CONFIGURATION = ("dataset", "extractor", "processor", "classifier", "loss", "loss_parameters", "other_parameters", "epochs")


def summarize(path: str) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            groups[tuple(row[column] for column in CONFIGURATION)].append(row)
    lines = [f"{'loss':24}{'loss parameters':36}{'runs':>5}{'dev EER %':>16}{'eval EER %':>16}{'eval minDCF':>14}"]
    for key, rows in sorted(groups.items()):
        cells = []
        for column, width in (("dev_eer_percent", 16), ("eval_eer_percent", 16), ("eval_min_dcf", 14)):
            values = [float(row[column]) for row in rows]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.3f} ± {spread:.3f}".rjust(width))
        lines.append(f"{key[4]:24}{key[5]:36}{len(rows):5}{''.join(cells)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/summarize_results.py RESULTS_CSV", file=sys.stderr)
        return 2
    try:
        print(summarize(argv[0]))
    except (OSError, UnicodeDecodeError, KeyError, ValueError, csv.Error) as error:
        print(f"summarize_results.py: error: {argv[0]} is not a results CSV of this tool ({type(error).__name__}: {error})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
