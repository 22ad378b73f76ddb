"""A data root holding every corpus the recipes read, in its official layout, made from the Synthetic
corpus in the ASVspoof 2019 LA layout (la2019_root): 2019 LA itself, the 2021 LA and DF eval keys,
In-the-Wild and ASVspoof 5, their audio links to the 2019 LA flac files."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LA2019_PROTOCOLS

ASV5_SPLITS = {  # ASVspoof 5 protocol and audio folder <- the 2019 LA split
    "train": ("ASVspoof5.train.tsv", "flac_T"),
    "dev": ("ASVspoof5.dev.track_1.tsv", "flac_D"),
    "eval": ("ASVspoof5.eval.track_1.tsv", "flac_E_eval"),
}


def la2019_trials(root: Path, split: str) -> list[tuple[str, str, str, str]]:
    """(speaker, utt_id, attack, key) of every line of a 2019 LA protocol; attack "-" for bona fide."""
    protocol = root / "LA" / "ASVspoof2019_LA_cm_protocols" / f"ASVspoof2019.LA.cm.{LA2019_PROTOCOLS[split]}.txt"
    return [(f[0], f[1], f[3], f[4]) for f in map(str.split, protocol.read_text().splitlines())]


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))


def link(path: Path, target: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


@pytest.fixture(scope="session")
def recipe_corpora(la2019_root, tmp_path_factory) -> Path:
    """2019 LA; its eval trials as the 2021 LA and DF eval subsets and as In-the-Wild; its three
    splits as ASVspoof 5 track 1."""
    root = tmp_path_factory.mktemp("recipe_corpora")
    (root / "LA").symlink_to(la2019_root / "LA")
    eval_audio = la2019_root / "LA" / "ASVspoof2019_LA_eval" / "flac"
    trials = la2019_trials(la2019_root, "eval")
    write(root / "keys/LA/CM/trial_metadata.txt", [f"{s} {u} none - {a} {k} notrim eval" for s, u, a, k in trials])
    write(root / "keys/DF/CM/trial_metadata.txt", [f"{s} {u} nocodec vcc2020 {a} {k} notrim eval - - - - -" for s, u, a, k in trials])
    for track in ("LA", "DF"):
        link(root / f"ASVspoof2021_{track}_eval" / "flac", eval_audio)
    labels = {"bonafide": "bona-fide", "spoof": "spoof"}
    write(root / "release_in_the_wild/meta.csv", ["file,speaker,label"] + [f"{u}.flac,{s},{labels[k]}" for s, u, _, k in trials])
    for _, utt_id, _, _ in trials:
        link(root / "release_in_the_wild" / f"{utt_id}.flac", eval_audio / f"{utt_id}.flac")
    for split, (protocol, audio) in ASV5_SPLITS.items():
        lines = [f"{s} {u} F - - - - {'bonafide' if a == '-' else a} {k} -" for s, u, a, k in la2019_trials(la2019_root, split)]
        write(root / "ASVspoof5" / "ASVspoof5_protocols" / protocol, lines)
        link(root / "ASVspoof5" / audio, la2019_root / "LA" / f"ASVspoof2019_LA_{split}" / "flac")
    return root
