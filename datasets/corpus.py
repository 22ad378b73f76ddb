"""Shared plumbing of the file-based corpora: protocol lines to Utterance records, labels, checks.

A corpus reader builds its split's Utterance list from its protocol (one Utterance per trial,
`source` = the audio file's path as a string) and hands it to FileDataset, which reads each wave
with datasets.audio.read_audio. Every problem the user can fix (a missing protocol or audio folder,
a protocol line that does not parse) is a conventions.UsageError naming the exact path (and line).
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from conventions import BONAFIDE, SPLITS, SPOOF, UsageError
from datasets.audio import audio_length, read_audio
from datasets.base import AudioDataset, Utterance

# Label tokens of the protocols, lower-cased: ASVspoof "bonafide"/"spoof", In-the-Wild "bona-fide",
# and the numeric labels of conventions.py (BONAFIDE = 0, SPOOF = 1).
LABELS = {"bonafide": BONAFIDE, "bona-fide": BONAFIDE, "bona_fide": BONAFIDE, "spoof": SPOOF,
          str(BONAFIDE): BONAFIDE, str(SPOOF): SPOOF}


def check_split(corpus: str, split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} of {corpus}; valid splits: {', '.join(SPLITS)}")


def require_file(path: Path, what: str, fix: str) -> Path:
    """`path` when it is a file; else a UsageError naming it."""
    if not path.is_file():
        raise UsageError(f"{what} not found: {path} does not exist; {fix}")
    return path


def require_dir(path: Path, what: str, fix: str) -> Path:
    """`path` when it is a folder; else a UsageError naming it."""
    if not path.is_dir():
        raise UsageError(f"{what} not found: folder {path} does not exist; {fix}")
    return path


def protocol_error(path: Path, line: int, problem: str) -> UsageError:
    return UsageError(f"{path}, line {line}: {problem}")


def protocol_text(path: Path) -> io.StringIO:
    """The text of a protocol file, for reading line by line; a UsageError for a folder, a file that
    cannot be read, or naming the line of the first byte that is not UTF-8."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"{path} cannot be read ({error.strerror}); give a file you can read") from None
    try:
        return io.StringIO(data.decode("utf-8"), newline="")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise protocol_error(path, line, f"byte {data[error.start]:#04x} is not UTF-8 text; save the file as UTF-8") from None


def parse_label(token: str, path: Path, line: int) -> int:
    """BONAFIDE or SPOOF for a label token (see LABELS); a UsageError naming file and line otherwise."""
    label = LABELS.get(token.strip().lower())
    if label is None:
        raise protocol_error(path, line, f"label {token!r} is not bonafide, bona-fide, spoof, {BONAFIDE} or {SPOOF}")
    return label


def optional(token: str | None) -> str | None:
    """None for an absent value ("", "-"), else the stripped token."""
    token = (token or "").strip()
    return None if token in ("", "-") else token


def split_lines(path: Path, n_columns: int | Sequence[int], layout: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, whitespace-separated fields) of every non-blank line; a line with another
    number of fields than `n_columns` (one count, or the allowed counts) is a UsageError."""
    allowed = (n_columns,) if isinstance(n_columns, int) else tuple(n_columns)
    with protocol_text(path) as file:
        for number, text in enumerate(file, start=1):
            fields = text.split()
            if not fields:
                continue
            if len(fields) not in allowed:
                expected = " or ".join(map(str, allowed))
                raise protocol_error(path, number, f"{len(fields)} fields where {expected} were expected ({layout}): {text.strip()!r}")
            yield number, fields


class FileDataset(AudioDataset):
    """A split whose utterances name audio files (`source`), read with read_audio."""

    utt_ids_in_score_files = True  # space-separated score files: utt_ids must be single words

    def __init__(self, utterances: Sequence[Utterance], protocol: Path | Sequence[Path]) -> None:
        utterances = list(utterances)
        names = ", ".join(map(str, [protocol] if isinstance(protocol, Path) else protocol))
        seen: set[str] = set()
        for utterance in utterances:
            if self.utt_ids_in_score_files and (not utterance.utt_id or any(c.isspace() for c in utterance.utt_id)):
                raise UsageError(
                    f"{names}: utterance id {utterance.utt_id!r} is empty or holds white space, which score files "
                    "cannot carry; rename the file or give an utt_id column"
                )
            if utterance.utt_id in seen:
                raise UsageError(f"{names}: utterance {utterance.utt_id!r} is listed twice; every utt_id must be unique")
            seen.add(utterance.utt_id)
        super().__init__(utterances)

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        """float32 [T], mono at 16 kHz; BadAudioError for a file that cannot be used."""
        return read_audio(utterance.source)

    def length(self, utterance: Utterance) -> int:
        """From the file's header (frames at its rate, converted to SAMPLE_RATE); 0 when unreadable."""
        return audio_length(utterance.source)

    def sources_outside(self, root: Path) -> list[str]:
        """The audio paths that do not lie inside `root` as written (an absolute path elsewhere, or
        one whose `..` climb out); links inside `root` are followed wherever they point."""
        inside = os.path.abspath(root)
        return [
            utterance.source
            for utterance in self.utterances
            if os.path.commonpath([inside, os.path.abspath(utterance.source)]) != inside
        ]
