"""The ASVspoof corpora in their official layouts under --data_root.

ASVspoof 2019 LA (https://datashare.ed.ac.uk/handle/10283/3336, LA.zip unzipped in data_root):
    <data_root>/LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    <data_root>/LA/ASVspoof2019_LA_{train,dev,eval}/flac/<utt_id>.flac
  Protocol lines: `SPEAKER UTT_ID - ATTACK KEY`, attack `-` for bona fide (A01-A19 otherwise),
  key bonafide|spoof.

ASVspoof 2021 LA and DF: train and dev are ASVspoof 2019 LA's (the challenge's training and
development data, as in ca-mhfa); eval is the 2021 evaluation audio with the full keys:
    <data_root>/ASVspoof2021_LA_eval/flac/LA_E_*.flac      (ASVspoof2021_LA_eval.tar.gz, Zenodo 4837263)
    <data_root>/ASVspoof2021_DF_eval/flac/DF_E_*.flac      (ASVspoof2021_DF_eval_part0*.tar.gz, Zenodo 4835108)
    <data_root>/keys/LA/CM/trial_metadata.txt              (LA-keys-full.tar.gz, untarred in data_root)
    <data_root>/keys/DF/CM/trial_metadata.txt              (DF-keys-full.tar.gz, untarred in data_root)
  The keys tarballs (https://www.asvspoof.org/index2021.html) unpack to keys/<track>/CM/, which is
  where the official evaluation package (asvspoof-challenge/2021, eval-package) expects them.
  trial_metadata.txt columns (eval-package/config.py):
    LA: speaker trial codec transmission attack key trim subset                (8 columns)
    DF: speaker trial compression source attack key trim subset vocoder task team gender-pair language (13)
  attack is A07-A19 (LA) or the attack id (DF) for spoof and `bonafide` (or `-`) for bona fide; subset is
  eval, progress or hidden (eval-package config.py). The official results are those of the eval subset, so
  only its rows are kept by default (`subsets=None` keeps every row). The codec (LA) or compression
  (DF) and the subset are kept in each Utterance (`codec`, `subset`).

ASVspoof 5 (https://zenodo.org/records/14498691; every tarball unpacked in <data_root>/ASVspoof5/):
    <data_root>/ASVspoof5/ASVspoof5_protocols/ASVspoof5.{train,dev.track_1,eval.track_1}.tsv
        (or the same files directly in <data_root>/ASVspoof5/)
    <data_root>/ASVspoof5/{flac_T,flac_D,flac_E_eval}/<FLAC_FILE_NAME>.flac
  Protocol lines (whitespace-separated despite .tsv, no header; the release README):
    SPEAKER_ID FLAC_FILE_NAME SPEAKER_GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP
  ATTACK_TAG is the attack condition (AC1-AC3), ATTACK_LABEL the attack id (A01-A32, `bonafide` for
  bona fide), KEY bonafide|spoof, CODEC C01-C11 or `-` (kept as the Utterance's `codec`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from conventions import UsageError
from datasets.base import AsvScores, PairDataset, Utterance
from datasets.corpus import FileDataset, check_split, require_dir, require_file
from datasets.keys import KeyRow, rows_2019la, rows_2021, rows_asvspoof5

# ----- ASVspoof 2019 LA -----

LA2019_PROTOCOLS = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}
LA2019_FIX = (
    "download LA.zip of ASVspoof 2019 (https://datashare.ed.ac.uk/handle/10283/3336) and unzip it in --data_root, "
    "so that <data_root>/LA/ holds ASVspoof2019_LA_cm_protocols/ and ASVspoof2019_LA_{train,dev,eval}/flac/"
)


def flac_utterance(row: KeyRow, audio: Path) -> Utterance:
    """The Utterance of a key row, read from `<audio>/<utt_id>.flac`."""
    return Utterance(row.utt_id, row.label, row.speaker, row.attack, str(audio / f"{row.utt_id}.flac"),
                     codec=row.conditions.get("codec"), subset=row.subset)


def asvspoof2019_la_paths(split: str, data_root: Path) -> tuple[Path, Path]:
    """(protocol, audio folder) of a split of ASVspoof 2019 LA."""
    root = Path(data_root) / "LA"
    protocol = root / "ASVspoof2019_LA_cm_protocols" / f"ASVspoof2019.LA.cm.{LA2019_PROTOCOLS[split]}.txt"
    return protocol, root / f"ASVspoof2019_LA_{split}" / "flac"


def read_asvspoof2019_la(split: str, data_root: Path) -> tuple[list[Utterance], Path]:
    """The utterances of a split of ASVspoof 2019 LA and the protocol they come from."""
    protocol, audio = asvspoof2019_la_paths(split, data_root)
    require_file(protocol, f"ASVspoof 2019 LA {split} protocol", LA2019_FIX)
    require_dir(audio, f"ASVspoof 2019 LA {split} audio folder", LA2019_FIX)
    return [flac_utterance(row, audio) for row in rows_2019la(protocol)], protocol


LA2019_ASV_SCORES = {
    split: AsvScores(f"LA/ASVspoof2019_LA_asv_scores/ASVspoof2019.LA.asv.{split}.gi.trl.scores.txt", None, None, "2019")
    for split in ("dev", "eval")
}


class ASVspoof2019LADataset_single(FileDataset):
    """ASVspoof 2019 LA (train/dev/eval) under <data_root>/LA/, one utterance per trial."""

    asv_scores = LA2019_ASV_SCORES

    def __init__(self, split: str, data_root: str | Path) -> None:
        check_split("ASVspoof 2019 LA", split)
        super().__init__(*read_asvspoof2019_la(split, Path(data_root)))


class ASVspoof2019LADataset_pair(PairDataset, ASVspoof2019LADataset_single):
    """ASVspoof 2019 LA, each trial paired with a bona fide utterance of its speaker."""


# ----- ASVspoof 2021 LA and DF -----

KEYS_URL = "https://www.asvspoof.org/index2021.html"
EVAL_AUDIO = {
    "LA": "ASVspoof2021_LA_eval.tar.gz (https://zenodo.org/records/4837263)",
    "DF": "ASVspoof2021_DF_eval_part00..03.tar.gz (https://zenodo.org/records/4835108)",
}


def read_asvspoof2021_keys(track: str, data_root: Path, subsets: Sequence[str] | None) -> tuple[list[Utterance], Path]:
    """The eval utterances of ASVspoof 2021 `track` ("LA" or "DF") in the given key subsets (None: all)."""
    data_root = Path(data_root)
    keys = data_root / "keys" / track / "CM" / "trial_metadata.txt"
    audio = data_root / f"ASVspoof2021_{track}_eval" / "flac"
    require_file(
        keys,
        f"ASVspoof 2021 {track} keys",
        f"download {track}-keys-full.tar.gz ({KEYS_URL}) and untar it in --data_root, which creates keys/{track}/CM/",
    )
    require_dir(
        audio,
        f"ASVspoof 2021 {track} eval audio folder",
        f"download {EVAL_AUDIO[track]} and untar it in --data_root, which creates ASVspoof2021_{track}_eval/flac/",
    )
    wanted = None if subsets is None else set(subsets)
    utterances = [flac_utterance(row, audio) for row in rows_2021(keys, track) if wanted is None or row.subset in wanted]
    if not utterances:
        raise UsageError(f"{keys} has no trial of subset {', '.join(subsets or [])}; use the full keys file of {track}")
    return utterances, keys


class _ASVspoof2021(FileDataset):
    """ASVspoof 2021 `TRACK`: train/dev from ASVspoof 2019 LA, eval from the 2021 eval audio and keys."""

    TRACK = ""
    submission_format = "2021"

    def __init__(self, split: str, data_root: str | Path, subsets: Sequence[str] | None = ("eval",)) -> None:
        check_split(f"ASVspoof 2021 {self.TRACK}", split)
        if split == "eval":
            super().__init__(*read_asvspoof2021_keys(self.TRACK, Path(data_root), subsets))
        else:
            super().__init__(*read_asvspoof2019_la(split, Path(data_root)))


class ASVspoof2021LADataset_single(_ASVspoof2021):
    """ASVspoof 2021 LA eval (eval subset of keys/LA), trained on ASVspoof 2019 LA train/dev."""

    TRACK = "LA"
    asv_scores = {
        "dev": LA2019_ASV_SCORES["dev"],
        "eval": AsvScores("keys/LA/ASV/ASVTorch_Kaldi/score.txt", "keys/LA/ASV/trial_metadata.txt", "eval", "2021"),
    }


class ASVspoof2021LADataset_pair(PairDataset, ASVspoof2021LADataset_single):
    """ASVspoof 2021 LA (train/dev: 2019 LA), each trial paired with a bona fide utterance of its speaker."""


class ASVspoof2021DFDataset_single(_ASVspoof2021):
    """ASVspoof 2021 DF eval (eval subset of keys/DF), trained on ASVspoof 2019 LA train/dev."""

    TRACK = "DF"


class ASVspoof2021DFDataset_pair(PairDataset, ASVspoof2021DFDataset_single):
    """ASVspoof 2021 DF (train/dev: 2019 LA), each trial paired with a bona fide utterance of its speaker."""


# ----- ASVspoof 5 -----

ASV5_PROTOCOLS = {"train": "ASVspoof5.train.tsv", "dev": "ASVspoof5.dev.track_1.tsv", "eval": "ASVspoof5.eval.track_1.tsv"}
ASV5_AUDIO = {"train": "flac_T", "dev": "flac_D", "eval": "flac_E_eval"}
ASV5_FIX = (
    "download the ASVspoof 5 release (https://zenodo.org/records/14498691) and unpack ASVspoof5_protocols.tar.gz "
    "and the flac_{T,D,E}_*.tar parts in <data_root>/ASVspoof5/"
)


def asvspoof5_protocol(split: str, data_root: Path) -> Path:
    """<data_root>/ASVspoof5/ASVspoof5_protocols/<file>, or the file directly in <data_root>/ASVspoof5/."""
    root = Path(data_root) / "ASVspoof5"
    preferred = root / "ASVspoof5_protocols" / ASV5_PROTOCOLS[split]
    if preferred.is_file() or not (root / ASV5_PROTOCOLS[split]).is_file():
        alternative = root / ASV5_PROTOCOLS[split]
        return require_file(preferred, f"ASVspoof 5 {split} protocol", f"it may also sit at {alternative}; {ASV5_FIX}")
    return root / ASV5_PROTOCOLS[split]


class ASVspoof5Dataset_single(FileDataset):
    """ASVspoof 5 track 1 (train/dev/eval) under <data_root>/ASVspoof5/, one utterance per trial."""

    submission_format = "asvspoof5"

    def __init__(self, split: str, data_root: str | Path) -> None:
        check_split("ASVspoof 5", split)
        protocol = asvspoof5_protocol(split, Path(data_root))
        audio = require_dir(Path(data_root) / "ASVspoof5" / ASV5_AUDIO[split], f"ASVspoof 5 {split} audio folder", ASV5_FIX)
        utterances = [flac_utterance(row, audio) for row in rows_asvspoof5(protocol)]
        super().__init__(utterances, protocol)


class ASVspoof5Dataset_pair(PairDataset, ASVspoof5Dataset_single):
    """ASVspoof 5 track 1, each trial paired with a bona fide utterance of its speaker."""
