"""Evaluate score files against a key: the official metrics per attack and condition, calibration,
fusion, confidence intervals, paired comparison, and the SASV metrics of ASVspoof 5.

    python evaluate.py runs/<run>/scores/eval.txt                        # a score file that carries its labels
    python evaluate.py submission.txt --key keys/DF/CM/trial_metadata.txt # 2021: the eval subset by default
    python evaluate.py a.txt b.txt --key KEY --bootstrap 1000 --compare --json results.json
    python evaluate.py a.txt b.txt --key KEY --dev_scores a_dev.txt b_dev.txt --dev_key DEV_KEY \\
        --calibrate --fuse --fused_scores fused.txt
    python evaluate.py sasv_scores.tsv --key sasv_key.tsv                # ASVspoof 5 track 2: a-DCF, t-EER, t-DCF

SASV score files (ASVspoof 5 track 2) have a header `spk filename cm-score asv-score sasv-score` (any of the
three score columns) and their key `spk filename cm-label asv-label`; the a-DCF takes the ASVspoof 5 package's
cost model (sasv_metrics.py).

Score files (higher = bona fide): `UTT_ID ATTACK bonafide|spoof SCORE` (ours, the ASVspoof 2019 package's),
`UTT_ID SCORE` (the 2021 submission; PATH<TAB>SCORE of score.py), `SPEAKER UTT_ID SCORE bonafide|spoof`
and `filename<TAB>cm-score` (the ASVspoof 5 package's). Keys: any format of datasets/keys.py (2019 LA
protocol, 2021 LA/DF trial_metadata.txt, ASVspoof 5 protocol or package key, In-the-Wild meta.csv).
Every score file must hold exactly one score per trial of the key (of the chosen 2021 subset): missing,
duplicated or unknown trials and labels that disagree with the key are refused with exit status 2.
From Python: `evaluate_files(...)` returns what --json writes.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Hashable, Sequence

import numpy as np

from calibration import fit_linear_calibration
from confidence import bootstrap_eer_min_dcf, mcnemar_test, paired_bootstrap_eer
from conventions import BONAFIDE, LABEL_NAMES, SPOOF, UsageError, one_line
from datasets.folder import AUDIO_SUFFIXES
from datasets.keys import TrialKey, read_key, read_sasv_key
from evaluation import Trials, calibrated_metrics, trials_metrics
from metrics import compute_eer, compute_min_tdcf_at_asv_rates, read_asv_scores
from parse_arguments import OneLineErrorParser, number
from reporting.files import atomic_write_text, check_writable_location
from reporting.score_files import ScoreFile, read_sasv_score_file, read_score_file, score_file_format
from reporting.score_files import scores_text
from sasv_metrics import ASVSPOOF5_ASV_ERROR_RATES, compute_min_a_dcf, compute_t_eer

SUBSET_CHOICES = ("eval", "progress", "hidden", "all")
FUSED = "fused"  # the name of the fused system
SHOWN = 3  # utt_ids named in an alignment error, per kind of problem


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="evaluate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("scores", nargs="+", metavar="SCORES", help="score files, one per system")
    parser.add_argument("--key", metavar="FILE", help="the key (protocol) of the trials; without it the score files must carry labels")
    parser.add_argument("--subset", choices=SUBSET_CHOICES, help="ASVspoof 2021 keys: the trial subset (default: eval, as the official results)")
    parser.add_argument("--asv_scores", metavar="FILE", help="the organisers' ASV scores: min t-DCF (2019 and 2021 variants)")
    parser.add_argument("--asv_key", metavar="FILE", help="the 2021 ASV protocol (keys/LA/ASV/trial_metadata.txt) of 2021 --asv_scores; its --subset trials are used")
    parser.add_argument("--dev_scores", nargs="+", metavar="FILE", help="each system's dev scores, in the order of SCORES (for --calibrate and --fuse)")
    parser.add_argument("--dev_key", metavar="FILE", help="the key of the dev trials (default: the dev score files' labels)")
    parser.add_argument("--calibrate", action="store_true", help="fit logistic-regression calibration on dev, report calibrated actDCF and Cllr")
    parser.add_argument("--calibrated_scores", metavar="FOLDER", help="with --calibrate: write each system's calibrated eval scores (LLRs) here")
    parser.add_argument("--fuse", action="store_true", help="fuse the systems by logistic regression fitted on dev")
    parser.add_argument("--fused_scores", metavar="FILE", help="with --fuse: write the fused eval scores (LLRs) here")
    parser.add_argument("--bootstrap", type=number(int), metavar="N", help="N-draw bootstrap confidence intervals of EER and minDCF")
    parser.add_argument("--confidence", type=float, default=0.95, help="of the bootstrap intervals (default: 0.95)")
    parser.add_argument("--seed", type=number(int, allow_zero=True), default=0, help="of the bootstrap draws (default: 0)")
    parser.add_argument("--compare", action="store_true", help="paired tests of every system against the first (bootstrap and McNemar)")
    parser.add_argument("--json", metavar="FILE", help="write every number as JSON")
    parser.add_argument("--csv", metavar="FILE", help="write every number as CSV: system,breakdown,group,metric,value")
    return parser


def _first(ids: Sequence[str]) -> str:
    shown = ", ".join(list(ids)[:SHOWN])
    return shown + (", ..." if len(ids) > SHOWN else "")


def key_subset(key: TrialKey, subset: str | None) -> str | None:
    """The 2021 subset to keep (None: every row): `subset` ("all" keeps all), eval by default for a 2021 key."""
    has_subsets = any(row.subset is not None for row in key.rows)
    if not has_subsets:
        if subset is not None:
            raise UsageError(f"--subset {subset}: the key {key.path} ({key.format}) has no trial subsets; only ASVspoof 2021 keys do")
        return None
    chosen = subset or "eval"
    return None if chosen == "all" else chosen


def alignment_problems(scored: Sequence[Hashable], known: set, wanted: Sequence[Hashable]) -> list[str]:
    """What keeps scored trial ids from matching the key: `wanted` trials without a score, trials scored more
    than once, scored trials the key does not list (`known`: every trial of the key), each with its first ids."""
    counts = Counter(scored)
    kinds = (([trial for trial in wanted if trial not in counts], "trials of the key without a score"),
             ([trial for trial, count in counts.items() if count > 1], "trials scored more than once"),
             ([trial for trial in counts if trial not in known], "scored trials that the key does not list"))
    return [f"{len(ids)} {what} (first: {_first([_trial_name(trial) for trial in ids])})" for ids, what in kinds if ids]


def _trial_name(trial: Hashable) -> str:
    return "/".join(trial) if isinstance(trial, tuple) else str(trial)


def refuse_misalignment(path: Path, key_path: Path, subset: str | None, problems: list[str]) -> None:
    """UsageError naming the score file, the key and every problem, when there is one."""
    if problems:
        where = f" (subset {subset})" if subset else ""
        raise UsageError(f"{path} does not match the key {key_path}{where}: {'; '.join(problems)}; a score file "
                         "must hold exactly one score per trial of the key")


def align(scores: ScoreFile, key: TrialKey, subset: str | None, name: str) -> Trials:
    """The trials of `key` (of `subset`) in key order with their scores; UsageError listing the missing,
    duplicated and unknown trials and the labels that disagree with the key. Trials of other subsets are ignored."""
    wanted = [row for row in key.rows if subset is None or row.subset == subset]
    if not wanted:
        raise UsageError(f"the key {key.path} has no trial of subset {subset}")
    problems = alignment_problems(scores.utt_ids, {row.utt_id for row in key.rows}, [row.utt_id for row in wanted])
    position = {utt_id: index for index, utt_id in enumerate(scores.utt_ids)}
    if scores.labels is not None:
        disagreeing = [f"{row.utt_id} ({LABEL_NAMES[int(scores.labels[position[row.utt_id]])]} in the scores)"
                       for row in key.rows if row.utt_id in position and scores.labels[position[row.utt_id]] != row.label]
        if disagreeing:
            problems.append(f"{len(disagreeing)} labels that disagree with the key (first: {_first(disagreeing)})")
    refuse_misalignment(scores.path, key.path, subset, problems)
    indices = np.fromiter((position[row.utt_id] for row in wanted), dtype=np.int64, count=len(wanted))
    names = (*key.condition_names, *key.spoof_factors)
    conditions = {condition: [row.conditions.get(condition) for row in wanted] for condition in names}
    return Trials([row.utt_id for row in wanted], [row.attack for row in wanted], np.asarray([row.label for row in wanted]),
                  scores.scores[indices], name, conditions, key.spoof_factors)


def by_stem(scores: ScoreFile) -> ScoreFile:
    """The scores of audio file paths (score.py, --score_folder: `dir/LA_E_1.flac`) named by their file name
    without extension, as keys name trials; other score files unchanged."""
    if scores.format != "plain" or not all(Path(utt_id).suffix.lower() in AUDIO_SUFFIXES for utt_id in scores.utt_ids):
        return scores
    return dataclasses.replace(scores, utt_ids=[Path(utt_id).stem for utt_id in scores.utt_ids])


def load_trials(path: str, key: TrialKey | None, subset: str | None, what: str = "") -> Trials:
    """The trials of one score file: aligned with `key` (audio file paths matched by their stem), or with the
    labels it carries; UsageError unless both classes are there. `what` ("dev ") names the file in errors."""
    scores = read_score_file(path)
    if key is not None:
        trials = align(by_stem(scores), key, subset, path)
    elif scores.labels is None:
        raise UsageError(f"{path} ({scores.format} layout) carries no labels; give the key of its trials with --key")
    else:
        duplicated = [utt_id for utt_id, count in Counter(scores.utt_ids).items() if count > 1]
        if duplicated:
            raise UsageError(f"{path}: {len(duplicated)} trials scored more than once (first: {_first(duplicated)})")
        trials = Trials(scores.utt_ids, scores.attacks, scores.labels, scores.scores, path)
    missing = [name for name, label in (("bona fide", BONAFIDE), ("spoof", SPOOF)) if not np.any(trials.labels == label)]
    if missing:
        where = f" of subset {subset}" if subset else ""
        raise UsageError(f"the {what}trials{where} of {path} hold no {missing[0]} trial; EER, DCF and calibration need "
                         "bona fide and spoof trials")
    return trials


def same_trials(systems: list[Trials], what: str) -> list[Trials]:
    """The systems reordered to the first one's trial order; UsageError unless all score the same trials."""
    reference = systems[0]
    position = {utt_id: index for index, utt_id in enumerate(reference.utt_ids)}
    ordered = [reference]
    for system in systems[1:]:
        if len(system.utt_ids) != len(position) or any(utt_id not in position for utt_id in system.utt_ids):
            raise UsageError(f"{what}: {system.name} and {reference.name} do not score the same trials; "
                             "fusion and comparison need one score per trial in every file")
        order = np.argsort([position[utt_id] for utt_id in system.utt_ids], kind="stable")
        if not np.array_equal(system.labels[order], reference.labels):
            raise UsageError(f"{what}: {system.name} and {reference.name} label some trials differently; give --key")
        ordered.append(reference.with_scores(system.name, system.scores[order]))
    return ordered


def sasv_result(path: str, key: str) -> dict:
    """The SASV metrics of ASVspoof 5 track 2 of one SASV score file against its SASV key: min a-DCF (and the
    EER of target against nontarget and spoof) from sasv-score; the CM EER and the min t-DCF (2021 form, with
    the organisers' pooled ASV error rates, as the challenge's evaluation) from cm-score; the ASV EER (target
    against nontarget) from asv-score; the t-EER from both."""
    rows = read_sasv_key(key)
    for row in rows:
        if (row.asv_label == "spoof") != (row.cm_label != BONAFIDE):
            raise UsageError(f"{key}, line {row.line}: asv-label {row.asv_label} with cm-label {LABEL_NAMES[row.cm_label]}; "
                             "spoof trials are spoof for both, target and nontarget trials bona fide")
    scores = read_sasv_score_file(path)
    wanted = [(row.speaker, row.utt_id) for row in rows]
    refuse_misalignment(scores.path, Path(key), None, alignment_problems(scores.trials, set(wanted), wanted))
    position = {trial: index for index, trial in enumerate(scores.trials)}
    order = np.fromiter((position[trial] for trial in wanted), dtype=np.int64, count=len(wanted))
    asv_labels = np.asarray([row.asv_label for row in rows])
    classes = {label: asv_labels == label for label in ("target", "nontarget", "spoof")}
    result: dict = {f"n_{label}": int(mask.sum()) for label, mask in classes.items()}
    missing = [label for label, mask in classes.items() if not mask.any()]
    if missing:
        raise UsageError(f"the SASV key {key} has no {' and no '.join(missing)} trials; SASV metrics need all three classes")
    cm, asv, sasv = (None if column is None else column[order] for column in (scores.cm_scores, scores.asv_scores, scores.sasv_scores))
    if sasv is not None:
        result["min_a_dcf"], result["a_dcf_threshold"] = compute_min_a_dcf(*(sasv[mask] for mask in classes.values()))
        result["sasv_eer"] = compute_eer(sasv[classes["target"]], sasv[~classes["target"]])[0]
    if cm is not None:
        result["cm_eer"] = compute_eer(cm[~classes["spoof"]], cm[classes["spoof"]])[0]
        result["min_tdcf"] = compute_min_tdcf_at_asv_rates(cm[~classes["spoof"]], cm[classes["spoof"]],
                                                           *ASVSPOOF5_ASV_ERROR_RATES, "2021")[0]
    if asv is not None:
        result["asv_eer"] = compute_eer(asv[classes["target"]], asv[classes["nontarget"]])[0]
    if cm is not None and asv is not None:
        result["t_eer"], result["t_eer_cm_threshold"], result["t_eer_asv_threshold"] = compute_t_eer(
            *(cm[mask] for mask in classes.values()), *(asv[mask] for mask in classes.values()))
    return result


def is_sasv_score_file(path: str) -> bool:
    """Whether `path` starts with the header of a SASV score file (spk, filename, ...)."""
    try:
        with open(path, encoding="utf-8") as file:
            first = next((line for line in file if line.strip()), "")
        return score_file_format(first) == "sasv"
    except (OSError, UnicodeDecodeError, UsageError):
        return False


def system_result(trials: Trials, asv: tuple | None, bootstrap: int | None, confidence: float, seed: int) -> dict:
    """trials_metrics and, with `bootstrap` draws, the intervals of EER and minDCF."""
    result = trials_metrics(trials, asv)
    if bootstrap:
        intervals = bootstrap_eer_min_dcf(trials.bonafide_scores, trials.spoof_scores, bootstrap, confidence, seed)
        result["intervals"] = {metric: dataclasses.asdict(interval) for metric, interval in intervals.items()}
    return result


def evaluate_files(
    scores: Sequence[str],
    key: str | None = None,
    subset: str | None = None,
    asv_scores: str | None = None,
    asv_key: str | None = None,
    dev_scores: Sequence[str] | None = None,
    dev_key: str | None = None,
    calibrate: bool = False,
    fuse: bool = False,
    bootstrap: int | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    compare: bool = False,
) -> dict:
    """Everything evaluate.py reports, as a dict: {"systems": {name: metrics}, "comparisons": [...], "warnings": [...]}
    and, with fuse, the fused system under the name "fused" (its Trials in "fused_trials", calibrated ones in
    "calibrated_trials"). See the command's --help for the arguments; UsageError for every problem of the inputs."""
    if (calibrate or fuse) and not dev_scores:
        raise UsageError("--calibrate and --fuse fit on dev: give each system's dev scores with --dev_scores")
    unused = [(flag, needs) for flag, value, needs, given in (
        ("--dev_scores", dev_scores, "--calibrate or --fuse", calibrate or fuse), ("--dev_key", dev_key, "--dev_scores", dev_scores),
        ("--asv_key", asv_key, "--asv_scores", asv_scores)) if value and not given]
    if unused:
        raise UsageError(f"{unused[0][0]} is used only with {unused[0][1]}; add it or leave {unused[0][0]} out")
    if dev_scores and len(dev_scores) != len(scores):
        raise UsageError(f"{len(dev_scores)} --dev_scores files for {len(scores)} systems; give one dev file per system, in the same order")
    if fuse and len(scores) < 2:
        raise UsageError("--fuse needs the score files of at least two systems")
    if compare and len(scores) < 2:
        raise UsageError("--compare needs the score files of at least two systems")
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"--confidence {confidence} must lie strictly between 0 and 1")
    if len(set(scores)) != len(scores):
        raise UsageError("a score file is given twice; give each system once")
    if fuse and FUSED in scores:
        raise UsageError(f"a score file is named {FUSED!r}, the name of the fused system; give it with a folder, ./{FUSED}")
    sasv = [is_sasv_score_file(path) for path in scores]
    if any(sasv):
        extras = [flag for flag, value in (("--dev_scores", dev_scores), ("--asv_scores", asv_scores), ("--subset", subset),
                                          ("--bootstrap", bootstrap), ("--compare", compare)) if value]
        if not all(sasv) or key is None or extras:
            raise UsageError("SASV score files (spk filename cm-score asv-score sasv-score) are evaluated only together and "
                             f"against a SASV key: give --key and no {' '.join(extras) or 'CM score files'}")
        try:
            return {"mode": "sasv", "systems": {path: sasv_result(path, key) for path in scores}, "comparisons": [], "warnings": []}
        except ValueError as error:
            raise UsageError(str(error)) from None
    eval_key = read_key(key) if key else None
    eval_subset = key_subset(eval_key, subset) if eval_key else None
    systems = [load_trials(path, eval_key, eval_subset) for path in scores]
    asv = None
    if asv_scores:
        try:
            asv = read_asv_scores(asv_scores, asv_key, eval_subset if asv_key else None)
        except ValueError as error:
            raise UsageError(f"--asv_scores {asv_scores}: {error}") from None
        except OSError as error:
            raise UsageError(f"--asv_scores {asv_scores} cannot be read ({error.strerror})") from None
    dev_systems = []
    if dev_scores:
        dev_table = read_key(dev_key) if dev_key else None
        dev_systems = [load_trials(path, dev_table, key_subset(dev_table, None) if dev_table else None, "dev ")
                       for path in dev_scores]
    try:
        return cm_report(systems, dev_systems, asv, calibrate, fuse, bootstrap, confidence, seed, compare)
    except ValueError as error:
        raise UsageError(str(error)) from None


def cm_report(
    systems: list[Trials], dev_systems: list[Trials], asv: tuple | None, calibrate: bool, fuse: bool,
    bootstrap: int | None, confidence: float, seed: int, compare: bool,
) -> dict:
    """evaluate_files' report of aligned CM systems (and their dev trials, for calibrate and fuse)."""
    report: dict = {"mode": "cm", "systems": {system.name: system_result(system, asv, bootstrap, confidence, seed) for system in systems},
                    "comparisons": [], "warnings": []}
    if calibrate:
        report["calibrated_trials"] = []
        for system, dev in zip(systems, dev_systems):
            calibration = fit_linear_calibration(dev.bonafide_scores, dev.spoof_scores)
            report["calibrated_trials"].append(system.with_scores(system.name, calibration.apply(system.scores)))
            report["systems"][system.name]["calibrated"] = {**calibrated_metrics(calibration, system),
                                                            "calibration": calibration.to_dict()}
    if fuse:
        eval_aligned, dev_aligned = same_trials(systems, "--fuse"), same_trials(dev_systems, "--fuse (dev)")
        dev_matrix = np.stack([system.scores for system in dev_aligned], axis=1)
        dev_bonafide = dev_aligned[0].labels == BONAFIDE
        fuser = fit_linear_calibration(dev_matrix[dev_bonafide], dev_matrix[~dev_bonafide])
        fused = eval_aligned[0].with_scores(FUSED, fuser.apply(np.stack([system.scores for system in eval_aligned], axis=1)))
        report["systems"][FUSED] = {**system_result(fused, asv, bootstrap, confidence, seed), "fusion": fuser.to_dict()}
        report["fused_trials"] = fused
    if compare:
        aligned = same_trials(systems, "--compare")
        first = aligned[0]
        for other in aligned[1:]:
            pair = (first.bonafide_scores, first.spoof_scores, other.bonafide_scores, other.spoof_scores)
            report["comparisons"].append({
                "systems": [first.name, other.name],
                "paired_bootstrap": dataclasses.asdict(paired_bootstrap_eer(*pair, bootstrap or 1000, confidence, seed)),
                "mcnemar": dataclasses.asdict(mcnemar_test(*pair)),
            })
    report["warnings"] = [warning for result in report["systems"].values() for warning in result.pop("warnings")]
    return report


SASV_COLUMNS = (("n_target", "target", "d"), ("n_nontarget", "nontarget", "d"), ("n_spoof", "spoof", "d"),
                ("min_a_dcf", "min a-DCF", ".4f"), ("t_eer", "t-EER %", "%"), ("sasv_eer", "SASV EER %", "%"),
                ("cm_eer", "CM EER %", "%"), ("asv_eer", "ASV EER %", "%"), ("min_tdcf", "min t-DCF", ".4f"))
POOLED_COLUMNS = (("n_bonafide", "bona fide", "d"), ("n_spoof", "spoof", "d"), ("eer", "EER %", "%"),
                  ("min_dcf", "minDCF", ".4f"), ("act_dcf", "actDCF", ".4f"), ("cllr", "Cllr", ".4f"),
                  ("min_cllr", "minCllr", ".4f"), ("min_tdcf_2019", "t-DCF 2019", ".4f"), ("min_tdcf_2021", "t-DCF 2021", ".4f"))


def _cell(value: float | int | None, style: str) -> str:
    if value is None:
        return "-"
    if style == "%":
        return f"{100 * value:.2f}"
    return format(value, style)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return ["  ".join(cell.rjust(width) if column else cell.ljust(width) for column, (cell, width) in
                      enumerate(zip(row, widths))).rstrip() for row in [header, *rows]]


def results_text(report: dict) -> str:
    """The pooled table (one row per system), then the EER per attack and per condition (one column per system)."""
    systems = report["systems"]
    numbered = {name: f"[{index}]" for index, name in enumerate(systems, start=1)}
    lines = [f"{label} {name}" for name, label in numbered.items()]
    known = SASV_COLUMNS if report["mode"] == "sasv" else POOLED_COLUMNS
    columns = [column for column in known if any(column[0] in result for result in systems.values())]
    header = ["system", *(title for _, title, _ in columns)]
    rows = [[numbered[name], *(_cell(result.get(metric), style) for metric, _, style in columns)] for name, result in systems.items()]
    if any("intervals" in result for result in systems.values()):
        header += ["EER % interval", "minDCF interval"]
        for row, result in zip(rows, systems.values()):
            intervals = result.get("intervals", {})
            row += [f"[{100 * intervals['eer']['lower']:.2f}, {100 * intervals['eer']['upper']:.2f}]" if intervals else "-",
                    f"[{intervals['min_dcf']['lower']:.4f}, {intervals['min_dcf']['upper']:.4f}]" if intervals else "-"]
    if any("calibrated" in result for result in systems.values()):
        header += ["calibrated actDCF", "calibrated Cllr"]
        for row, result in zip(rows, systems.values()):
            calibrated = result.get("calibrated", {})
            row += [_cell(calibrated.get("act_dcf"), ".4f"), _cell(calibrated.get("cllr"), ".4f")]
    lines += ["", *_table(header, rows)]
    breakdowns = list(dict.fromkeys(breakdown for result in systems.values() for breakdown in result.get("breakdown", {})))
    for breakdown in breakdowns:
        groups = list(dict.fromkeys(group for result in systems.values() for group in result["breakdown"].get(breakdown, {})))
        if not groups:
            continue
        rows = [[group, *(_cell(result["breakdown"].get(breakdown, {}).get(group, {}).get("eer"), "%") for result in systems.values())]
                for group in groups]
        lines += ["", f"EER % per {breakdown}" + (" (all bona fide against each attack)" if breakdown == "attack" else ""),
                  *_table([breakdown, *numbered.values()], rows)]
    for comparison in report["comparisons"]:
        first, second = (numbered[name] for name in comparison["systems"])
        paired, mcnemar = comparison["paired_bootstrap"], comparison["mcnemar"]
        lines += ["", f"{first} vs {second}: EER difference {100 * paired['difference']:+.2f} points "
                      f"[{100 * paired['lower']:+.2f}, {100 * paired['upper']:+.2f}], paired bootstrap p = {paired['p_value']:.4g}; "
                      f"McNemar at the EER thresholds p = {mcnemar['p_value']:.4g}"]
    lines += [f"warning: {warning}" for warning in report["warnings"]]
    return "\n".join(lines) + "\n"


def json_ready(value: object) -> object:
    """The report without the Trials objects and with NaN as null, as JSON holds it."""
    if isinstance(value, dict):
        return {name: json_ready(item) for name, item in value.items() if not str(name).endswith("_trials")}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _numbers(value: object, prefix: str = "") -> list[tuple[str, float]]:
    """(dotted name, number) of every number inside `value` (dicts, lists of numbers), breakdowns excepted."""
    if isinstance(value, dict):
        return [pair for name, item in value.items() if name != "breakdown"
                for pair in _numbers(item, f"{prefix}{name}." if prefix or name else "")]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in _numbers(item, f"{prefix}{index}.")]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [(prefix.rstrip("."), value)]
    return []


def csv_text(report: dict) -> str:
    """`system,breakdown,group,metric,value` rows: every number of each system (breakdown "pooled", group "all";
    nested ones named by their path, e.g. intervals.eer.lower), its per-attack and per-condition groups, and each
    comparison (system "A vs B", breakdown "comparison")."""
    lines = ["system,breakdown,group,metric,value"]

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(character in text for character in ',"\n') else text

    for name, result in report["systems"].items():
        lines += [f"{quoted(name)},pooled,all,{metric},{value!r}" for metric, value in _numbers(result)]
        for breakdown, groups in result.get("breakdown", {}).items():
            for group, values in groups.items():
                lines += [f"{quoted(name)},{breakdown},{quoted(group)},{metric},{value!r}" for metric, value in values.items() if value is not None]
    for comparison in report["comparisons"]:
        pair = quoted(" vs ".join(comparison["systems"]))
        lines += [f"{pair},comparison,all,{metric},{value!r}" for metric, value in _numbers(comparison)]
    return "\n".join(lines) + "\n"


def output_texts(args: argparse.Namespace, report: dict) -> dict[Path, str]:
    """What --json, --csv, --fused_scores and --calibrated_scores write, by path."""
    texts = {}
    if args.json:
        texts[Path(args.json)] = json.dumps(json_ready(report), indent=2, allow_nan=False) + "\n"
    if args.csv:
        texts[Path(args.csv)] = csv_text(report)
    if args.fused_scores:
        texts[Path(args.fused_scores)] = scores_text(report["fused_trials"])
    if args.calibrated_scores:
        for index, trials in enumerate(report["calibrated_trials"], start=1):
            texts[Path(args.calibrated_scores) / f"{index}_{Path(trials.name).name}"] = scores_text(trials)
    return texts


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, outputs that could not be written: a file path that is a folder, a folder
    that is a file, or a place this process cannot write to."""
    for flag, value, kind in (("--json", args.json, "file"), ("--csv", args.csv, "file"),
                              ("--fused_scores", args.fused_scores, "file"), ("--calibrated_scores", args.calibrated_scores, "folder")):
        if value is None:
            continue
        path = Path(value)
        if (kind == "file" and path.is_dir()) or (kind == "folder" and path.exists() and not path.is_dir()):
            raise UsageError(f"{flag} {path} is a {'folder' if kind == 'file' else 'file'}; give a {kind} path")
        check_writable_location(path, flag)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_outputs(args)
        if args.fused_scores and not args.fuse:
            raise UsageError("--fused_scores writes the fused scores of --fuse; add --fuse")
        if args.calibrated_scores and not args.calibrate:
            raise UsageError("--calibrated_scores writes the calibrated scores of --calibrate; add --calibrate")
        report = evaluate_files(args.scores, args.key, args.subset, args.asv_scores, args.asv_key, args.dev_scores,
                                args.dev_key, args.calibrate, args.fuse, args.bootstrap, args.confidence, args.seed, args.compare)
        texts = output_texts(args, report)
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
    except UsageError as error:
        print(f"evaluate.py: error: {one_line(error)}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"evaluate.py: error: {error.filename or ''} cannot be written ({error.strerror}); give a place you can "
              "write to", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evaluate.py: interrupted; what was written is whole (each file is written atomically)", file=sys.stderr)
        return 130
    sys.stdout.write(results_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
