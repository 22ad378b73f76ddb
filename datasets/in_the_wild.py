"""In-the-Wild (Müller et al., "Does Audio Deepfake Detection Generalize?", Interspeech 2022).

Release layout (release_in_the_wild.zip unzipped in --data_root):
    <data_root>/release_in_the_wild/meta.csv      header `file,speaker,label`
    <data_root>/release_in_the_wild/<file>        0.wav ... 31778.wav, beside meta.csv
`file` is the audio file's name, `speaker` the (public figure's) name, `label` bona-fide|spoof.
utt_id is the file name without its extension. The corpus has no attack ids: a spoof trial's
attack is "spoof", a bona fide trial's None. It is an evaluation corpus: train and dev are
ASVspoof 2019 LA's (<data_root>/LA/, see datasets/asvspoof.py), as in ca-mhfa.
"""
from __future__ import annotations

import csv
from pathlib import Path

from conventions import BONAFIDE
from datasets.asvspoof import read_asvspoof2019_la
from datasets.base import PairDataset, Utterance
from datasets.corpus import FileDataset, check_split, optional, parse_label, protocol_error, protocol_text, require_file

FIX = (
    "download release_in_the_wild.zip (https://deepfake-total.com/in_the_wild) and unzip it in --data_root, "
    "so that <data_root>/release_in_the_wild/ holds meta.csv and the wav files"
)
COLUMNS = ("file", "speaker", "label")
SPOOF_ATTACK = "spoof"


def read_in_the_wild(data_root: Path) -> tuple[list[Utterance], Path]:
    """Every utterance of In-the-Wild and the meta.csv they come from."""
    meta = require_file(Path(data_root) / "release_in_the_wild" / "meta.csv", "In-the-Wild meta.csv", FIX)
    folder = meta.parent
    utterances = []
    with protocol_text(meta) as file:
        reader = csv.reader(file)
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            problem = f"header {','.join(header)!r} lacks the column(s) {', '.join(missing)} (expected file,speaker,label)"
            raise protocol_error(meta, 1, problem)
        where = {name: header.index(name) for name in COLUMNS}
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise protocol_error(meta, number, f"{len(row)} fields where the header has {len(header)}: {','.join(row)!r}")
            name = row[where["file"]].strip()
            if not name:
                raise protocol_error(meta, number, "empty file name")
            label = parse_label(row[where["label"]], meta, number)
            utterances.append(
                Utterance(
                    utt_id=Path(name).stem,
                    label=label,
                    speaker=optional(row[where["speaker"]]),
                    attack=None if label == BONAFIDE else SPOOF_ATTACK,
                    source=str(folder / name),
                )
            )
    return utterances, meta


class InTheWildDataset_single(FileDataset):
    """In-the-Wild eval (<data_root>/release_in_the_wild/), trained on ASVspoof 2019 LA train/dev."""

    def __init__(self, split: str, data_root: str | Path) -> None:
        check_split("In-the-Wild", split)
        if split == "eval":
            super().__init__(*read_in_the_wild(Path(data_root)))
        else:
            super().__init__(*read_asvspoof2019_la(split, Path(data_root)))


class InTheWildDataset_pair(PairDataset, InTheWildDataset_single):
    """In-the-Wild (train/dev: 2019 LA), each trial paired with a bona fide utterance of its speaker."""
