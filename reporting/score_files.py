"""Score files: the ASVspoof CM score file of each split, the challenges' submission files, the
scores of a folder of recordings, and the EER per attack; each written whole (atomically)."""
from __future__ import annotations

from pathlib import Path

from conventions import LABEL_NAMES
from reporting.files import atomic_write_text
from training.scoring import ScoreTable

SUBMISSION_FORMATS = {"2021": ("", " "), "asvspoof5": ("filename\tcm-score\n", "\t")}  # header, separator


def write_scores(path: Path, table: ScoreTable) -> None:
    """Lines `utt_id attack label score`; attack `-` for bona fide, label bonafide/spoof (the
    ASVspoof 2019 CM score file, which its evaluation package reads)."""
    rows = zip(table.utt_ids, table.attack_names, table.labels, table.scores)
    atomic_write_text(path, "".join(f"{utt_id} {attack} {LABEL_NAMES[int(label)]} {float(score)!r}\n" for utt_id, attack, label, score in rows))


def write_submission(path: Path, table: ScoreTable, challenge: str) -> None:
    """The scores in a challenge's submission format: "2021" (`utt_id score` lines) or
    "asvspoof5" (a header `filename<TAB>cm-score`, then one line per trial)."""
    header, separator = SUBMISSION_FORMATS[challenge]
    atomic_write_text(path, header + "".join(f"{utt_id}{separator}{float(score)!r}\n" for utt_id, score in zip(table.utt_ids, table.scores)))


def folder_scores_text(table: ScoreTable) -> str:
    """`path<TAB>score` lines, higher = more bona fide (paths hold no tab or line break: the
    datasets of datasets/folder.py refuse them)."""
    return "".join(f"{utt_id}\t{float(score)!r}\n" for utt_id, score in zip(table.utt_ids, table.scores))


def write_folder_scores(path: Path, table: ScoreTable) -> None:
    """folder_scores_text of the scores of a folder of recordings (relative paths)."""
    atomic_write_text(path, folder_scores_text(table))


def write_eer_per_attack(path: Path, eer_per_attack: dict[str, float]) -> None:
    """`attack,eer_percent` lines after that header."""
    atomic_write_text(path, "attack,eer_percent\n" + "".join(f"{attack},{100 * eer:.4f}\n" for attack, eer in eer_per_attack.items()))
