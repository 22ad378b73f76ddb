"""Score files: the ASVspoof CM score file of each split, the challenges' submission files, the
scores of a folder of recordings, and the EER per attack; each written whole (atomically), and
read back in any of those formats (read_score_file), with the ASVspoof 5 package's layouts too."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conventions import BONAFIDE, LABEL_NAMES, UsageError
from datasets.corpus import parse_label, protocol_error, protocol_text
from datasets.keys import LABEL_WORDS, header_rows
from reporting.files import atomic_write_text
from training.scoring import ScoreTable

SUBMISSION_FORMATS = {"2021": ("", " "), "asvspoof5": ("filename\tcm-score\n", "\t")}  # header, separator


def scores_text(table: ScoreTable) -> str:
    """Lines `utt_id attack label score`; attack `-` for bona fide, label bonafide/spoof (the
    ASVspoof 2019 CM score file, which its evaluation package reads)."""
    rows = zip(table.utt_ids, table.attack_names, table.labels, table.scores)
    return "".join(f"{utt_id} {attack} {LABEL_NAMES[int(label)]} {float(score)!r}\n" for utt_id, attack, label, score in rows)


def write_scores(path: Path, table: ScoreTable) -> None:
    """scores_text of `table` into `path`, atomically."""
    atomic_write_text(path, scores_text(table))


def write_submission(path: Path, table: ScoreTable, challenge: str) -> None:
    """The scores in a challenge's submission format: "2021" (`utt_id score` lines) or
    "asvspoof5" (a header `filename<TAB>cm-score`, then one line per trial)."""
    header, separator = SUBMISSION_FORMATS[challenge]
    atomic_write_text(path, header + "".join(f"{utt_id}{separator}{float(score)!r}\n" for utt_id, score in zip(table.utt_ids, table.scores)))


def folder_scores_text(table: ScoreTable, probabilities: np.ndarray | None = None) -> str:
    """`path<TAB>score` lines, higher = more bona fide, with `<TAB>probability` (of bona fide) when
    `probabilities` [N] are given (paths hold no tab or line break: the datasets of datasets/folder.py
    refuse them)."""
    if probabilities is None:
        return "".join(f"{utt_id}\t{float(score)!r}\n" for utt_id, score in zip(table.utt_ids, table.scores))
    rows = zip(table.utt_ids, table.scores, probabilities)
    return "".join(f"{utt_id}\t{float(score)!r}\t{float(probability)!r}\n" for utt_id, score, probability in rows)


def write_folder_scores(path: Path, table: ScoreTable) -> None:
    """folder_scores_text of the scores of a folder of recordings (relative paths)."""
    atomic_write_text(path, folder_scores_text(table))


def write_eer_per_attack(path: Path, eer_per_attack: dict[str, float]) -> None:
    """`attack,eer_percent` lines after that header."""
    atomic_write_text(path, "attack,eer_percent\n" + "".join(f"{attack},{100 * eer:.4f}\n" for attack, eer in eer_per_attack.items()))


SASV_COLUMNS = ("spk", "filename", "cm-score", "asv-score", "sasv-score")


@dataclass(frozen=True)
class ScoreFile:
    """The trials of a score file in file order (duplicates kept: alignment reports them). `labels`
    (conventions.BONAFIDE/SPOOF) and `attacks` are None when the format carries none."""

    path: Path
    format: str
    utt_ids: list[str]
    scores: np.ndarray
    labels: np.ndarray | None
    attacks: list[str | None] | None


def _score(path: Path, line: int, text: str) -> float:
    """A finite float, or a UsageError naming file and line."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise protocol_error(path, line, f"score {text!r} is not a finite number")
    return value


def score_file_format(first: str) -> str:
    """The layout of a score file from its first line: "labelled" (`UTT_ID ATTACK KEY SCORE`, ours and the
    ASVspoof 2019 package's), "asvspoof5-labelled" (`SPEAKER UTT_ID SCORE KEY`, the ASVspoof 5 package's),
    "asvspoof5" (a header `filename cm-score ...`, the ASVspoof 5 submission), "sasv" (a header naming
    spk and filename: `spk filename cm-score asv-score sasv-score`, read by read_sasv_score_file), or "plain" (`UTT_ID SCORE`: the 2021 submission, and
    `PATH<TAB>SCORE[<TAB>PROBABILITY]` of score.py and --score_folder)."""
    fields = first.split("\t") if "\t" in first else first.split()
    lowered = [name.strip().lower() for name in fields]
    if "spk" in lowered and "filename" in lowered:
        return "sasv"
    if "filename" in lowered and "cm-score" in lowered:
        return "asvspoof5"
    if len(fields) == 4 and lowered[2] in LABEL_WORDS:
        return "labelled"
    if len(fields) == 4 and lowered[3] in LABEL_WORDS:
        return "asvspoof5-labelled"
    if len(fields) == 2 or ("\t" in first and len(fields) == 3):
        return "plain"
    raise UsageError(
        f"the first line {first.strip()[:80]!r} is not a score file line: expected `UTT_ID ATTACK bonafide|spoof SCORE`, "
        "`UTT_ID SCORE` (or PATH<TAB>SCORE), `SPEAKER UTT_ID SCORE bonafide|spoof`, or a header `filename cm-score`"
    )


def read_score_file(path: str | Path) -> ScoreFile:
    """Every trial of a CM score file in any score_file_format layout (a SASV file: read_sasv_score_file).
    UsageError naming the file and line for a line that does not parse or a score that is not finite."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"score file {path} does not exist")
    with protocol_text(path) as file:
        lines = [(number, text.rstrip("\r\n")) for number, text in enumerate(file, start=1) if text.strip()]
    if not lines:
        raise UsageError(f"score file {path} holds no scores")
    try:
        layout = score_file_format(lines[0][1])
    except UsageError as error:
        raise UsageError(f"{path}: {error}") from None
    if layout == "sasv":
        raise UsageError(f"{path} is a SASV score file (spk filename cm-score asv-score sasv-score): read it with "
                         "read_sasv_score_file; evaluate.py evaluates it with a SASV key (spk filename cm-label asv-label)")
    utt_ids, scores, labels, attacks = [], [], [], []
    if layout == "asvspoof5":
        header = [name.strip().lower() for name in lines[0][1].split()]
        id_column, score_column = header.index("filename"), header.index("cm-score")
        lines = lines[1:]
    for number, text in lines:
        fields = text.split("\t") if layout == "plain" and "\t" in text else text.split()
        if layout == "plain" and len(fields) == 3 and "\t" in text:
            fields = fields[:2]  # PATH<TAB>SCORE<TAB>PROBABILITY
        if layout == "asvspoof5":
            if len(fields) != len(header):
                raise protocol_error(path, number, f"{len(fields)} fields where the header has {len(header)}: {text!r}")
            utt_id, score = fields[id_column], fields[score_column]
        elif len(fields) != (2 if layout == "plain" else 4):
            raise protocol_error(path, number, f"{len(fields)} fields where the first line has "
                                 f"{2 if layout == 'plain' else 4}: {text!r}")
        elif layout == "plain":
            utt_id, score = fields
        elif layout == "labelled":
            utt_id, attack, key, score = fields
            labels.append(parse_label(key, path, number))
            attacks.append(None if labels[-1] == BONAFIDE else attack)
        else:
            _, utt_id, score, key = fields
            labels.append(parse_label(key, path, number))
            attacks.append(None)
        utt_ids.append(utt_id)
        scores.append(_score(path, number, score))
    labelled = layout in ("labelled", "asvspoof5-labelled")
    return ScoreFile(path, layout, utt_ids, np.asarray(scores, dtype=np.float64),
                     np.asarray(labels) if labelled else None, attacks if labelled else None)


@dataclass(frozen=True)
class SasvScoreFile:
    """The trials of an ASVspoof 5 SASV score file in file order: (spk, filename) pairs and their CM, ASV
    and SASV scores (float64 [n]; a column the file does not have is None)."""

    path: Path
    trials: list[tuple[str, str]]
    cm_scores: np.ndarray | None
    asv_scores: np.ndarray | None
    sasv_scores: np.ndarray | None


def read_sasv_score_file(path: str | Path) -> SasvScoreFile:
    """An ASVspoof 5 SASV score file: a header naming spk and filename and at least one of cm-score,
    asv-score and sasv-score (tab or space separated); a column of `-` only (the package's layout for a
    system without it) counts as absent. UsageError naming file and line for a bad line."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"score file {path} does not exist")
    rows = list(header_rows(path, SASV_COLUMNS[:2], None))
    if not rows:
        raise UsageError(f"score file {path} holds no scores")
    columns = {}
    for column in SASV_COLUMNS[2:]:
        if column in rows[0][1] and any(row[column] != "-" for _, row in rows):
            columns[column] = np.asarray([_score(path, number, row[column]) for number, row in rows], dtype=np.float64)
    if not columns:
        raise UsageError(f"{path}: a SASV score file needs a cm-score, asv-score or sasv-score column with scores")
    return SasvScoreFile(path, [(row["spk"], row["filename"]) for _, row in rows],
                         columns.get("cm-score"), columns.get("asv-score"), columns.get("sasv-score"))
