"""The report of an evaluated run: score files, submission file, per-attack EER tables, metrics.json,
plots, and the results table printed at the end of the log."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reporting.files import atomic_write_text
from reporting.plots import plot_det_curve, plot_score_histogram
from reporting.score_files import write_eer_per_attack, write_scores, write_submission
from training.scoring import ScoreTable

CALIBRATION_FILE = "calibration.json"  # in the run directory, with --calibrate: calibration.LinearCalibration.to_dict()


def write_report(
    run_dir: Path, tables: dict[str, ScoreTable], metrics: dict[str, dict], summary: dict[str, Any], submission_format: str | None
) -> dict[str, Path]:
    """Writes into `run_dir`: scores/<split>.txt, the eval submission file (when the corpus has a
    challenge format), eer_per_attack_<split>.csv, metrics.json (`metrics` per split plus `summary`),
    CALIBRATION_FILE when dev was calibrated, and the eval DET curve and score histogram; returns the
    figures by W&B key."""
    (run_dir / "scores").mkdir(exist_ok=True)  # a resumed run writes its scores again
    for split, table in tables.items():
        write_scores(run_dir / "scores" / f"{split}.txt", table)
    if submission_format is not None:
        write_submission(run_dir / "scores" / f"eval_submission_{submission_format}.txt", tables["eval"], submission_format)
    for split, values in metrics.items():
        write_eer_per_attack(run_dir / f"eer_per_attack_{split}.csv", values["eer_per_attack"])
    atomic_write_text(run_dir / "metrics.json", json.dumps({**metrics, **summary}, indent=2) + "\n")
    if "calibrated" in metrics["dev"]:
        atomic_write_text(run_dir / CALIBRATION_FILE, json.dumps(metrics["dev"]["calibrated"]["calibration"], indent=2) + "\n")
    evaluation = tables["eval"]
    figures = {"eval/det_curve": run_dir / "det_eval.png", "eval/score_histogram": run_dir / "score_histogram_eval.png"}
    plot_det_curve(figures["eval/det_curve"], evaluation.bonafide_scores, evaluation.spoof_scores, title=run_dir.name)
    plot_score_histogram(figures["eval/score_histogram"], evaluation.bonafide_scores, evaluation.spoof_scores, title=run_dir.name)
    return figures


TABLE_COLUMNS = (("EER %", 8, 2), ("minDCF", 9, 4), ("actDCF", 9, 4), ("Cllr", 9, 4), ("accuracy", 10, 4))  # name, width, decimals


def table_cell(value: float, width: int, decimals: int) -> str:
    """`value` right-aligned in `width` characters with `decimals` decimals, or in 3 significant
    digits with an exponent when it would not fit: columns stay apart whatever the magnitude."""
    text = f"{value:.{decimals}f}"
    return f"{text if len(text) < width else f'{value:.3g}':>{width}}"


def results_table(metrics: dict[str, dict]) -> str:
    """The metrics of each split as a small text table, EER in %, then eval's EER per attack."""
    lines = [f"{'':6}" + "".join(f"{name:>{width}}" for name, width, _ in TABLE_COLUMNS)]
    for split, values in metrics.items():
        row = (100 * values["eer"], values["min_dcf"], values["act_dcf"], values["cllr"], values["accuracy"])
        lines.append(f"{split:6}" + "".join(table_cell(value, width, decimals) for value, (_, width, decimals) in zip(row, TABLE_COLUMNS)))
    per_attack = metrics["eval"]["eer_per_attack"]
    lines.append("eval EER % per attack: " + ", ".join(f"{attack} {100 * eer:.2f}" for attack, eer in per_attack.items()))
    lines.extend(f"{split} min t-DCF: {values['min_tdcf']:.4f}" for split, values in metrics.items() if "min_tdcf" in values)
    lines.extend(f"{split} calibrated on dev: actDCF {values['calibrated']['act_dcf']:.4f}, Cllr {values['calibrated']['cllr']:.4f}"
                 for split, values in metrics.items() if "calibrated" in values)
    return "\n".join(lines)
