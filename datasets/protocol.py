"""`ProtocolDataset`: any corpus described by one protocol table per split.

    <data_root>/protocol_train.csv   (or protocol_train.txt)
    <data_root>/protocol_dev.csv     (or .txt)
    <data_root>/protocol_eval.csv    (or .txt)

The first line is a header naming the columns, in any order: `path` and `label` are required;
`speaker`, `attack` and `utt_id` are optional; other columns are ignored.
- .csv files are comma-separated (quoted as by Python's csv module); .txt files are separated by
  whitespace (so their paths and values cannot contain spaces). When both exist, .csv is read.
- `path`: the audio file (any format soundfile reads; resampled to 16 kHz and mixed down to mono),
  relative to the protocol's folder (absolute paths are kept as they are).
- `label`: bonafide, bona-fide or spoof (any case), or the numbers of conventions.py: 0 (bona fide) and 1 (spoof).
- `speaker`, `attack`: empty or `-` means unknown (None).
- `utt_id`: defaults to `path` without its extension; every utt_id must be unique within a split.
Construction checks that the protocol and every folder its paths name exist (not every file).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from conventions import BONAFIDE, UsageError
from datasets.base import PairDataset, Utterance
from datasets.corpus import FileDataset, check_split, optional, parse_label, protocol_error, protocol_text

REQUIRED = ("path", "label")
OPTIONAL = ("speaker", "attack", "utt_id")


def find_protocol(split: str, data_root: Path) -> Path:
    """protocol_<split>.csv, else protocol_<split>.txt, under data_root."""
    candidates = [Path(data_root) / f"protocol_{split}{suffix}" for suffix in (".csv", ".txt")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError(
        f"Protocol {split} protocol not found: neither {candidates[0]} nor {candidates[1]} exists; write one with a "
        "header line `path,label[,speaker][,attack][,utt_id]` (paths relative to its folder) in --data_root"
    )


def _rows(protocol: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every line, the header first."""
    with protocol_text(protocol) as file:
        if protocol.suffix == ".csv":
            reader = csv.reader(file)
            for row in reader:
                yield reader.line_num, row
        else:
            for number, text in enumerate(file, start=1):
                yield number, text.split()


def read_protocol_table(protocol: Path) -> list[Utterance]:
    """The utterances of one protocol table (see the module docstring)."""
    rows = _rows(protocol)
    header_line, header = next(rows, (1, []))
    header = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise protocol_error(
            protocol, header_line, f"the header {' '.join(header)!r} lacks the column(s) {', '.join(missing)}; "
            "the first line must name the columns: path,label[,speaker][,attack][,utt_id]"
        )
    where = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    utterances = []
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise protocol_error(protocol, number, f"{len(row)} fields where the header has {len(header)}: {row!r}")
        value = {name: row[column].strip() for name, column in where.items()}
        if not value["path"]:
            raise protocol_error(protocol, number, "empty path")
        path = Path(value["path"])
        label = parse_label(value["label"], protocol, number)
        attack = optional(value.get("attack"))
        utterances.append(
            Utterance(
                utt_id=optional(value.get("utt_id")) or path.with_suffix("").as_posix(),
                label=label,
                speaker=optional(value.get("speaker")),
                attack=None if label == BONAFIDE else attack,
                source=str(path if path.is_absolute() else protocol.parent / path),
            )
        )
    return utterances


class ProtocolDataset_single(FileDataset):
    """Any corpus listed in <data_root>/protocol_{train,dev,eval}.csv (path,label[,speaker][,attack][,utt_id])."""

    def __init__(self, split: str, data_root: str | Path) -> None:
        check_split("Protocol", split)
        protocol = find_protocol(split, Path(data_root))
        utterances = read_protocol_table(protocol)
        for folder in sorted({str(Path(u.source).parent) for u in utterances}):
            if not Path(folder).is_dir():
                raise UsageError(
                    f"{protocol}: the audio folder {folder} of its paths does not exist; "
                    f"paths are relative to the protocol's folder {protocol.parent}"
                )
        super().__init__(utterances, protocol)


class ProtocolDataset_pair(PairDataset, ProtocolDataset_single):
    """A protocol-listed corpus, each trial paired with a bona fide utterance of its speaker."""
