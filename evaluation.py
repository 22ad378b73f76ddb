"""Metrics of scored trials. A run's dev and eval scores: EER, minDCF, actDCF, Cllr, accuracy at
the dev EER threshold, the EER per attack, and the min t-DCF with the organisers' ASV scores where
there are any. Any aligned trials (evaluate.py): the same pooled metrics and minCllr, the EER and
minDCF per attack and per condition, warnings about the scores, and bootstrap intervals."""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from calibration import LinearCalibration, compute_min_cllr, fit_linear_calibration
from conventions import BONAFIDE, UsageError
from datasets.base import AsvScores, AudioDataset
from metrics import (
    TDCF_VARIANTS,
    compute_act_dcf,
    compute_cllr,
    compute_eer,
    compute_eer_per_attack,
    compute_metrics,
    compute_min_dcf,
    compute_min_tdcf,
    natural_order,
    read_asv_scores,
)
from training.scoring import ScoreTable
from training.trainer import TrainingLog


def evaluate(
    args: argparse.Namespace, splits: dict[str, AudioDataset], tables: dict[str, ScoreTable], log: TrainingLog
) -> dict[str, dict]:
    """The metrics per split of `tables` ("dev" and "eval"). Accuracy on both splits uses the dev
    EER threshold (eval never tunes its own threshold). With --calibrate, each split's "calibrated"
    holds its actDCF and Cllr after the calibration fitted on dev, and dev's the calibration itself."""
    _, dev_threshold = compute_eer(tables["dev"].bonafide_scores, tables["dev"].spoof_scores)
    metrics = {
        split: {
            **compute_metrics(table.bonafide_scores, table.spoof_scores, decision_threshold=dev_threshold),
            "min_cllr": compute_min_cllr(table.bonafide_scores, table.spoof_scores),
            "eer_per_attack": compute_eer_per_attack(table.scores, table.labels, table.attack_names),
        }
        for split, table in tables.items()
    }
    if args.calibrate:
        calibration = fit_linear_calibration(tables["dev"].bonafide_scores, tables["dev"].spoof_scores)
        for split, table in tables.items():
            metrics[split]["calibrated"] = calibrated_metrics(calibration, table)
        metrics["dev"]["calibrated"]["calibration"] = calibration.to_dict()
    for split, table in tables.items():
        tdcf = min_tdcf(args, splits[split], split, table, log)
        if tdcf is not None:
            metrics[split]["min_tdcf"] = tdcf
    return metrics


def asv_scores_of(args: argparse.Namespace, dataset: AudioDataset, split: str) -> AsvScores | None:
    """Where the ASV scores of `split` are: --asv_scores for eval, else the corpus's official place."""
    official = dataset.asv_scores.get(split)
    if split == "eval" and args.asv_scores is not None:
        variant = official.variant if official is not None else "2019"
        return AsvScores(args.asv_scores, args.asv_protocol, "eval" if args.asv_protocol else None, variant)
    if official is None:
        return None
    root = Path(args.data_root)
    return official._replace(
        scores=str(root / official.scores), protocol=official.protocol and str(root / official.protocol)
    )


def calibrated_metrics(calibration: LinearCalibration, table: ScoreTable) -> dict[str, float]:
    """actDCF and Cllr of the table's scores mapped to LLRs by `calibration`."""
    bonafide, spoof = calibration.apply(table.bonafide_scores), calibration.apply(table.spoof_scores)
    return {"act_dcf": compute_act_dcf(bonafide, spoof)[0], "cllr": compute_cllr(bonafide, spoof)}


def min_tdcf(args: argparse.Namespace, dataset: AudioDataset, split: str, table: ScoreTable, log: TrainingLog) -> float | None:
    """The min t-DCF of the split's scores with the organisers' ASV scores, when there are any."""
    asv = asv_scores_of(args, dataset, split)
    if asv is None:
        return None
    if not Path(asv.scores).is_file():
        if split == "eval" and args.asv_scores is not None:
            raise UsageError(f"--asv_scores {args.asv_scores} does not exist")
        log.info(f"{split}: no ASV scores at {asv.scores}, so no t-DCF")
        return None
    try:
        target, nontarget, spoof = read_asv_scores(asv.scores, asv.protocol, asv.subset)
        tdcf, _ = compute_min_tdcf(table.bonafide_scores, table.spoof_scores, target, nontarget, spoof, asv.variant)
    except ValueError as error:
        raise UsageError(f"the t-DCF of {split} with the ASV scores {asv.scores}: {error}") from None
    log.info(f"{split}: min t-DCF ({asv.variant}) {tdcf:.4f} with the ASV scores {asv.scores}")
    return tdcf


# ---------------------------------------------------------------- any aligned trials (evaluate.py)


@dataclass
class Trials(ScoreTable):
    """The trials of one system, aligned with their key: a ScoreTable (scores higher = bona fide, labels
    conventions.BONAFIDE/SPOOF, attack per trial, None for bona fide) with the system's name and the
    condition values per trial; `spoof_factors` names the conditions that only spoof trials have (a
    vocoder), which group like attacks."""

    name: str = ""
    conditions: dict[str, list[str | None]] = field(default_factory=dict)
    spoof_factors: tuple[str, ...] = ()

    def with_scores(self, name: str, scores: np.ndarray) -> Trials:
        """The same trials with other scores (calibrated, fused)."""
        return dataclasses.replace(self, name=name, scores=np.asarray(scores, dtype=np.float64))


def group_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float | int | None]:
    """n_bonafide, n_spoof, eer and min_dcf of some trials; eer and min_dcf None when a class is missing."""
    bonafide, spoof = scores[labels == BONAFIDE], scores[labels != BONAFIDE]
    result: dict[str, float | int | None] = {"n_bonafide": int(bonafide.size), "n_spoof": int(spoof.size), "eer": None, "min_dcf": None}
    if bonafide.size and spoof.size:
        result["eer"] = compute_eer(bonafide, spoof)[0]
        result["min_dcf"] = compute_min_dcf(bonafide, spoof)[0]
    return result


def _natural_groups(values: list[str | None]) -> dict[str, np.ndarray]:
    """Indices of the trials of each value ("-" for None), the values in natural order (C2 < C10)."""
    names = np.asarray(["-" if value is None else value for value in values], dtype=object)
    unique, inverse = np.unique(names.astype(str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=unique.size))[:-1]
    groups = dict(zip(unique.tolist(), np.split(order, bounds)))
    return {name: groups[name] for name in sorted(groups, key=natural_order)}


def breakdown_metrics(trials: Trials) -> dict[str, dict[str, dict]]:
    """group_metrics per attack and per value of each spoof-only condition (every bona fide trial against the
    group's spoofs, as the ASVspoof packages' per-attack tables), and per value of each other condition (the
    trials of that value, both classes). A breakdown with fewer than two known groups says nothing beyond the
    pooled metrics and is left out."""
    is_bonafide = trials.labels == BONAFIDE
    bonafide_scores, spoof_scores = trials.scores[is_bonafide], trials.scores[~is_bonafide]
    spoof_labels = trials.labels[~is_bonafide]
    factors = {"attack": trials.attacks, **{name: trials.conditions[name] for name in trials.spoof_factors}}
    result: dict[str, dict[str, dict]] = {}
    for factor, values in factors.items():
        groups = _natural_groups([value for value, bonafide in zip(values, is_bonafide) if not bonafide])
        result[factor] = {group: group_metrics(np.concatenate((bonafide_scores, spoof_scores[indices])),
                                               np.concatenate((trials.labels[is_bonafide], spoof_labels[indices])))
                          for group, indices in groups.items()}
    for condition, values in trials.conditions.items():
        if condition not in trials.spoof_factors:
            result[condition] = {value: group_metrics(trials.scores[indices], trials.labels[indices])
                                 for value, indices in _natural_groups(values).items()}
    return {breakdown: groups for breakdown, groups in result.items() if len(set(groups) - {"-"}) >= 2}


def score_warnings(trials: Trials, eer: float) -> list[str]:
    """What looks wrong with a system's scores: hard decisions, a reversed polarity, probabilities read as LLRs."""
    warnings = []
    distinct = np.unique(trials.scores).size
    if distinct <= 2:
        warnings.append(f"{trials.name}: the scores take {distinct} distinct value(s): hard decisions, not scores; "
                        "EER, minDCF and the DET curve of decisions are not comparable with those of soft scores")
    if eer > 0.5:
        flipped = compute_eer(-trials.bonafide_scores, -trials.spoof_scores)[0]
        warnings.append(f"{trials.name}: EER {100 * eer:.2f} % is above 50 %: the scores look reversed (higher = spoof?); "
                        f"negated they give {100 * flipped:.2f} %")
    if trials.scores.min() >= 0.0 and trials.scores.max() <= 1.0 and distinct > 2:
        warnings.append(f"{trials.name}: every score lies in [0, 1], like probabilities; actDCF and Cllr read scores "
                        "as natural-log likelihood ratios (calibrate them with --calibrate)")
    return warnings


def trials_metrics(trials: Trials, asv: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> dict:
    """Pooled metrics (compute_metrics, accuracy at the EER threshold; minCllr), the min t-DCF of both variants
    with ASV scores (target, nontarget, spoof), the per-attack and per-condition breakdowns and the warnings."""
    result: dict = compute_metrics(trials.bonafide_scores, trials.spoof_scores)
    result["min_cllr"] = compute_min_cllr(trials.bonafide_scores, trials.spoof_scores)
    if asv is not None:
        for variant in TDCF_VARIANTS:
            result[f"min_tdcf_{variant}"] = compute_min_tdcf(trials.bonafide_scores, trials.spoof_scores, *asv, variant)[0]
    result["breakdown"] = breakdown_metrics(trials)
    result["warnings"] = score_warnings(trials, result["eer"])
    return result
