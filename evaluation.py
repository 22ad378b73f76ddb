"""The metrics of a run's dev and eval scores: EER, minDCF, actDCF, Cllr, accuracy at the dev EER
threshold, the EER per attack, and the min t-DCF with the organisers' ASV scores where there are any."""
from __future__ import annotations

import argparse
from pathlib import Path

from conventions import UsageError
from datasets.base import AsvScores, AudioDataset
from metrics import compute_eer, compute_eer_per_attack, compute_metrics, compute_min_tdcf, read_asv_scores
from training.scoring import ScoreTable
from training.trainer import TrainingLog


def evaluate(
    args: argparse.Namespace, splits: dict[str, AudioDataset], tables: dict[str, ScoreTable], log: TrainingLog
) -> dict[str, dict]:
    """The metrics per split of `tables` ("dev" and "eval"). Accuracy on both splits uses the dev
    EER threshold (eval never tunes its own threshold)."""
    _, dev_threshold = compute_eer(tables["dev"].bonafide_scores, tables["dev"].spoof_scores)
    metrics = {
        split: {
            **compute_metrics(table.bonafide_scores, table.spoof_scores, decision_threshold=dev_threshold),
            "eer_per_attack": compute_eer_per_attack(table.scores, table.labels, table.attack_names),
        }
        for split, table in tables.items()
    }
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
