"""Every audio file under a folder, unlabelled: for scoring new recordings with a trained model."""
from __future__ import annotations

from pathlib import Path

from conventions import UsageError
from datasets.base import Utterance
from datasets.corpus import FileDataset

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
UNLABELLED = -1  # neither BONAFIDE nor SPOOF: the trials of a folder have no key


class FolderDataset(FileDataset):
    """The audio files (wav, flac, ogg, mp3) under `folder`, recursively, in path order; utt_id is
    the path relative to `folder` (spaces allowed: scores/folder.txt is tab-separated; a tab or a
    line break in a name is refused) and every label is UNLABELLED. Links that lead out of the
    folder are not followed: their names are in `outside_links`."""

    utt_ids_in_score_files = False

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise UsageError(f"--score_folder {folder} is not a folder; give the folder that holds the audio files")
        inside = folder.resolve()
        files, self.outside_links = [], []
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
                continue
            name = str(path.relative_to(folder))
            if any(character in name for character in "\t\n\r"):
                raise UsageError(f"--score_folder: the file name {name!r} holds a tab or a line break, which folder.txt cannot carry; rename it")
            if not path.resolve().is_relative_to(inside):
                self.outside_links.append(name)
                continue
            files.append(path)
        if not files:
            raise UsageError(f"--score_folder {folder} holds no audio file ({', '.join(AUDIO_SUFFIXES)}) inside it")
        utterances = [Utterance(str(path.relative_to(folder)), UNLABELLED, source=str(path)) for path in files]
        super().__init__(utterances, folder)
