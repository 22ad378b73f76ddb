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

from pathlib import Path

from datasets.asvspoof import read_asvspoof2019_la
from datasets.base import PairDataset, Utterance
from datasets.corpus import FileDataset, check_split, require_file
from datasets.keys import rows_in_the_wild

FIX = (
    "download release_in_the_wild.zip (https://deepfake-total.com/in_the_wild) and unzip it in --data_root, "
    "so that <data_root>/release_in_the_wild/ holds meta.csv and the wav files"
)


def read_in_the_wild(data_root: Path) -> tuple[list[Utterance], Path]:
    """Every utterance of In-the-Wild and the meta.csv they come from."""
    meta = require_file(Path(data_root) / "release_in_the_wild" / "meta.csv", "In-the-Wild meta.csv", FIX)
    folder = meta.parent
    utterances = [Utterance(row.utt_id, row.label, row.speaker, row.attack, str(folder / row.file_name))
                  for row in rows_in_the_wild(meta)]
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
