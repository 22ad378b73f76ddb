"""Unlabelled audio to score with a trained model: every audio file under a folder, files named one
by one, or waves in memory."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from conventions import UsageError
from datasets.base import AudioDataset, Utterance
from datasets.corpus import FileDataset

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
UNLABELLED = -1  # neither BONAFIDE nor SPOOF: the trials of a folder have no key


def audio_files_under(folder: Path, flag: str = "--score_folder") -> tuple[list[Path], list[str]]:
    """The audio files (wav, flac, ogg, mp3) under `folder`, recursively, in path order, and the
    names (relative to `folder`) of links that lead out of it, which are not followed. A name with a
    tab or a line break, which a score file cannot carry, is refused (UsageError naming `flag`)."""
    if not folder.is_dir():
        raise UsageError(f"{flag} {folder} is not a folder; give the folder that holds the audio files")
    inside = folder.resolve()
    files, outside_links = [], []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
            continue
        name = str(path.relative_to(folder))
        if any(character in name for character in "\t\n\r"):
            raise UsageError(f"{flag}: the file name {name!r} holds a tab or a line break, which a score file cannot carry; rename it")
        if not path.resolve().is_relative_to(inside):
            outside_links.append(name)
            continue
        files.append(path)
    return files, outside_links


class FolderDataset(FileDataset):
    """The audio files under `folder` (audio_files_under); utt_id is the path relative to `folder`
    (spaces allowed: scores/folder.txt is tab-separated) and every label is UNLABELLED. Links that
    lead out of the folder are not followed: their names are in `outside_links`."""

    utt_ids_in_score_files = False

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        files, self.outside_links = audio_files_under(folder)
        if not files:
            raise UsageError(f"--score_folder {folder} holds no audio file ({', '.join(AUDIO_SUFFIXES)}) inside it")
        utterances = [Utterance(str(path.relative_to(folder)), UNLABELLED, source=str(path)) for path in files]
        super().__init__(utterances, folder)


class FileListDataset(FileDataset):
    """Audio files named one by one; utt_id is each path as given, every label UNLABELLED."""

    utt_ids_in_score_files = False

    def __init__(self, paths: Sequence[str | Path]) -> None:
        for path in paths:
            if any(character in str(path) for character in "\t\n\r"):
                raise UsageError(f"the file name {str(path)!r} holds a tab or a line break, which a score file cannot carry; rename it")
        super().__init__([Utterance(str(path), UNLABELLED, source=str(path)) for path in paths], Path("the files given"))


class WaveListDataset(AudioDataset):
    """Waves in memory (float32 [T] at SAMPLE_RATE), utt_ids "0", "1", ...; every label UNLABELLED."""

    def __init__(self, waves: Sequence[np.ndarray]) -> None:
        self.waves = list(waves)
        super().__init__([Utterance(str(index), UNLABELLED, source=index) for index in range(len(self.waves))])

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        return self.waves[utterance.source]
