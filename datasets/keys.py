"""Trial keys: the ground truth of an evaluation set, read from the official key files without audio.

The corpus readers (datasets/asvspoof.py, datasets/in_the_wild.py) and evaluate.py both read their
protocols through this module. `read_key` tells the format from the file's first line:

| format        | file                                                        | conditions                      |
|---------------|-------------------------------------------------------------|---------------------------------|
| 2019LA        | ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt: `SPEAKER UTT_ID - ATTACK KEY` | -  |
| 2021LA        | keys/LA/CM/trial_metadata.txt (8 columns)                   | codec, transmission             |
| 2021DF        | keys/DF/CM/trial_metadata.txt (13 columns)                  | codec (compression), source, vocoder |
| ASVspoof5     | ASVspoof5.{train,dev.track_1,eval.track_1}.tsv (9-10 columns, no header) | codec              |
| ASVspoof5-key | the ASVspoof 5 evaluation package's key: a header naming `filename` and `cm-label` (and optionally `attack`/`attack_anon`, `codec`), tab- or space-separated | codec |
| InTheWild     | release_in_the_wild/meta.csv (header `file,speaker,label`)  | -                               |
| scores        | a CM score file that carries its labels: `UTT_ID ATTACK KEY SCORE` (ours, the 2019 package's) | - |

2021 keys also give each trial its subset (eval, progress, hidden; the official results are eval's).
Every problem is a conventions.UsageError naming the file and line.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from functools import partial
from typing import Callable, Iterator

from conventions import BONAFIDE, UsageError
from datasets.corpus import optional, parse_label, protocol_error, protocol_text, split_lines

LABEL_WORDS = ("bonafide", "bona-fide", "bona_fide", "spoof")
SUBSETS_2021 = ("eval", "progress", "hidden")
LAYOUT_2019LA = "SPEAKER UTT_ID - ATTACK bonafide|spoof"
LAYOUT_2021LA = "speaker trial codec transmission attack key trim subset"
LAYOUT_2021DF = "speaker trial compression source attack key trim subset vocoder task team gender-pair language"
LAYOUT_ASVSPOOF5 = "SPEAKER_ID FLAC_FILE_NAME SPEAKER_GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP"
LAYOUT_SCORES = "UTT_ID ATTACK bonafide|spoof SCORE"
IN_THE_WILD_COLUMNS = ("file", "speaker", "label")


@dataclass(frozen=True)
class KeyRow:
    """One trial of a key file: its line, id, label (conventions.BONAFIDE/SPOOF), attack (None for bona fide),
    speaker, conditions (name -> value, None when unknown), 2021 subset, and the file name it gives (In-the-Wild)."""

    line: int
    utt_id: str
    label: int
    attack: str | None
    speaker: str | None = None
    conditions: dict[str, str | None] = field(default_factory=dict)
    subset: str | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class TrialKey:
    """The rows of one key file, in file order, and the names of the conditions they carry: of both classes
    (a codec), or of spoof trials only (a vocoder; bona fide trials have none), which group like attacks."""

    path: Path
    format: str
    rows: list[KeyRow]
    condition_names: tuple[str, ...]
    spoof_factors: tuple[str, ...] = ()


def _row(path: Path, line: int, utt_id: str, key: str, attack: str | None, speaker: str | None = None, **extra) -> KeyRow:
    """A KeyRow; a spoof trial must name its attack (UsageError naming file and line)."""
    label = parse_label(key, path, line)
    if label != BONAFIDE and optional(attack) is None:
        raise protocol_error(path, line, f"spoof trial {utt_id} has no attack id")
    return KeyRow(line, utt_id, label, None if label == BONAFIDE else optional(attack), optional(speaker), **extra)


def rows_2019la(path: Path) -> Iterator[KeyRow]:
    """The trials of an ASVspoof 2019 LA CM protocol."""
    for number, (speaker, utt_id, _, attack, key) in split_lines(path, 5, LAYOUT_2019LA):
        yield _row(path, number, utt_id, key, attack, speaker)


def rows_2021(path: Path, track: str) -> Iterator[KeyRow]:
    """The trials of an ASVspoof 2021 `track` ("LA" or "DF") trial_metadata.txt, every subset."""
    columns, layout = ((8,), LAYOUT_2021LA) if track == "LA" else ((8, 9, 10, 11, 12, 13), LAYOUT_2021DF)
    for number, fields in split_lines(path, columns, layout):
        speaker, utt_id, codec, second, attack, key, _, subset = fields[:8]
        if track == "LA":
            conditions = {"codec": optional(codec), "transmission": optional(second)}
        else:
            vocoder = optional(fields[8]) if len(fields) > 8 else None
            conditions = {"codec": optional(codec), "source": optional(second),
                          "vocoder": None if vocoder in (None, "bonafide") else vocoder}
        yield _row(path, number, utt_id, key, attack, speaker, conditions=conditions, subset=subset)


def rows_asvspoof5(path: Path) -> Iterator[KeyRow]:
    """The trials of an ASVspoof 5 release protocol (a header line, as some repackagings add, is skipped)."""
    for number, fields in split_lines(path, (9, 10), LAYOUT_ASVSPOOF5):
        if number == 1 and fields[0] == "SPEAKER_ID":
            continue
        speaker, utt_id, _, codec, _, _, _, attack, key = fields[:9]
        yield _row(path, number, utt_id, key, attack, speaker, conditions={"codec": optional(codec)})


def header_rows(path: Path, required: tuple[str, ...], separator: str | None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, column -> value) of every line of a table with a header; `separator` None splits on white space,
    "," reads CSV. UsageError for a missing column or a line of another width."""
    with protocol_text(path) as file:
        if separator == ",":
            reader = csv.reader(file)
            lines = ((reader.line_num, row) for row in reader)
        else:
            lines = ((number, text.split()) for number, text in enumerate(file, start=1))
        header_line, header = next(lines, (1, []))
        header = [name.strip().lower() for name in header]
        missing = [name for name in required if name not in header]
        if missing:
            raise protocol_error(path, header_line, f"the header {' '.join(header)!r} lacks the column(s) "
                                 f"{', '.join(missing)}")
        for number, row in lines:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise protocol_error(path, number, f"{len(row)} fields where the header has {len(header)}: {row!r}")
            yield number, dict(zip(header, (cell.strip() for cell in row)))


def rows_in_the_wild(path: Path) -> Iterator[KeyRow]:
    """The trials of In-the-Wild's meta.csv; utt_id is the file name without its extension, a spoof's attack "spoof"."""
    for number, row in header_rows(path, IN_THE_WILD_COLUMNS, ","):
        if not row["file"]:
            raise protocol_error(path, number, "empty file name")
        yield _row(path, number, Path(row["file"]).stem, row["label"], "spoof", row["speaker"], file_name=row["file"])


def rows_asvspoof5_key(path: Path) -> Iterator[KeyRow]:
    """The trials of an ASVspoof 5 evaluation-package key: header `filename cm-label [attack|attack_anon] [codec]`."""
    for number, row in header_rows(path, ("filename", "cm-label"), None):
        attack = row.get("attack", row.get("attack_anon", "spoof"))
        conditions = {"codec": optional(row["codec"])} if "codec" in row else {}
        yield _row(path, number, row["filename"], row["cm-label"], attack, row.get("spk"), conditions=conditions)


def rows_scores(path: Path) -> Iterator[KeyRow]:
    """The trials of a score file that carries its labels: `UTT_ID ATTACK KEY SCORE`."""
    for number, (utt_id, attack, key, _) in split_lines(path, 4, LAYOUT_SCORES):
        yield _row(path, number, utt_id, key, attack)


# format -> (reader, conditions of both classes, conditions of spoof trials only)
KEY_READERS: dict[str, tuple[Callable[[Path], Iterator[KeyRow]], tuple[str, ...], tuple[str, ...]]] = {
    "2019LA": (rows_2019la, (), ()),
    "2021LA": (partial(rows_2021, track="LA"), ("codec", "transmission"), ()),
    "2021DF": (partial(rows_2021, track="DF"), ("codec", "source"), ("vocoder",)),
    "ASVspoof5": (rows_asvspoof5, ("codec",), ()),
    "ASVspoof5-key": (rows_asvspoof5_key, ("codec",), ()),
    "InTheWild": (rows_in_the_wild, (), ()),
    "scores": (rows_scores, (), ()),
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def key_format(path: Path) -> str:
    """The KEY_READERS format of a key file, told from its first non-blank line; UsageError when none fits."""
    with protocol_text(path) as file:
        first = next((text for text in file if text.strip()), "")
    fields = first.split()
    lowered = [name.lower() for name in fields]
    if "," in first and {"file", "label"} <= {name.strip().lower() for name in first.split(",")}:
        return "InTheWild"
    if "filename" in lowered and "cm-label" in lowered:
        return "ASVspoof5-key"
    if len(fields) == 5 and lowered[4] in LABEL_WORDS:
        return "2019LA"
    if 8 <= len(fields) <= 13 and lowered[5] in LABEL_WORDS and fields[7] in SUBSETS_2021:
        # a DF key may have 8 columns on some lines: its trials are DF_E_*, LA's LA_E_*
        return "2021DF" if len(fields) > 8 or fields[1].startswith("DF_") else "2021LA"
    if len(fields) in (9, 10) and (fields[0] == "SPEAKER_ID" or lowered[8] in LABEL_WORDS):
        return "ASVspoof5"
    if len(fields) == 4 and lowered[2] in LABEL_WORDS and _is_number(fields[3]):
        return "scores"
    raise UsageError(
        f"{path}: the first line {first.strip()[:80]!r} is not one of the key formats: ASVspoof 2019 LA CM protocol, "
        "2021 LA/DF trial_metadata.txt, ASVspoof 5 protocol or evaluation-package key (header filename cm-label), "
        "In-the-Wild meta.csv, or a score file with labels (UTT_ID ATTACK bonafide|spoof SCORE)"
    )


def read_key(path: str | Path) -> TrialKey:
    """Every row of a key file in any KEY_READERS format (all 2021 subsets; select them with the rows' subset).
    UsageError for a missing or unreadable file, a line that does not parse, or a trial listed twice."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"key file {path} does not exist; give the protocol or key file of the evaluated trials")
    format_name = key_format(path)
    reader, condition_names, spoof_factors = KEY_READERS[format_name]
    rows = list(reader(path))
    first_line: dict[str, int] = {}
    for row in rows:
        if row.utt_id in first_line:
            raise protocol_error(path, row.line, f"trial {row.utt_id} is listed again (first on line {first_line[row.utt_id]})")
        first_line[row.utt_id] = row.line
    if not rows:
        raise UsageError(f"key file {path} holds no trials")
    return TrialKey(path, format_name, rows, condition_names, spoof_factors)


ASV_LABELS = ("target", "nontarget", "spoof")
SASV_KEY_COLUMNS = ("spk", "filename", "cm-label", "asv-label")


@dataclass(frozen=True)
class SasvKeyRow:
    """One SASV trial of ASVspoof 5 track 2: the claimed speaker, the test utterance, its CM label
    (conventions.BONAFIDE/SPOOF) and ASV label (target, nontarget or spoof)."""

    line: int
    speaker: str
    utt_id: str
    cm_label: int
    asv_label: str


def read_sasv_key(path: str | Path) -> list[SasvKeyRow]:
    """The trials of an ASVspoof 5 SASV key (header `spk filename cm-label asv-label`, more columns ignored), each
    (spk, filename) once; UsageError naming file and line for a bad line, label or a trial listed twice."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"SASV key {path} does not exist; give the key with the columns spk filename cm-label asv-label")
    rows, first_line = [], {}
    for number, row in header_rows(path, SASV_KEY_COLUMNS, None):
        if row["asv-label"] not in ASV_LABELS:
            raise protocol_error(path, number, f"asv-label {row['asv-label']!r} is not one of {', '.join(ASV_LABELS)}")
        trial = (row["spk"], row["filename"])
        if trial in first_line:
            raise protocol_error(path, number, f"trial {'/'.join(trial)} is listed again (first on line {first_line[trial]})")
        first_line[trial] = number
        rows.append(SasvKeyRow(number, row["spk"], row["filename"], parse_label(row["cm-label"], path, number), row["asv-label"]))
    if not rows:
        raise UsageError(f"SASV key {path} holds no trials")
    return rows
