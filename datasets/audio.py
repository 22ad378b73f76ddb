"""Reading an audio file as the pipeline's wave: mono float32 at conventions.SAMPLE_RATE.

`read_audio` reads through soundfile (FLAC, WAV, OGG, ...), averages the channels of a
multi-channel file, and resamples any other rate with torchaudio.functional.resample.
A file that cannot be used raises BadAudioError, whose one-line message names the file and
the problem, so that a dataset can fail on it or skip it (AudioDataset.on_bad_audio).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio.functional

from conventions import SAMPLE_RATE

MAX_AMPLITUDE = 100.0  # 40 dB over full scale: beyond, a float file holds something else than audio


class BadAudioError(Exception):
    """An audio file that is missing, not a regular file, unreadable or corrupt, empty, too short for
    the front-end, or holds non-finite or absurdly large samples.

    `BadAudioError(path, reason)`; str() is the one line `bad audio file <path>: <reason>`.
    Built with one argument (as torch rebuilds an exception raised in a DataLoader worker), that
    argument is the whole message (conventions.one_line keeps its last line).
    """

    def __init__(self, path: str | Path, reason: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(self.path if reason is None else f"bad audio file {self.path}: {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


def audio_length(path: str | Path) -> int:
    """The file's length in samples at SAMPLE_RATE, from its header (no decoding); 0 when unreadable
    or not a regular file (a FIFO would block)."""
    if not Path(path).is_file():
        return 0
    try:
        info = soundfile.info(str(path))
    except Exception:  # noqa: BLE001  (libsndfile's errors, a missing file, a folder: the length is unknown)
        return 0
    return round(info.frames * SAMPLE_RATE / info.samplerate) if info.samplerate else 0


def read_audio(path: str | Path) -> np.ndarray:
    """The file's samples as float32 [T], mono (channels averaged), at SAMPLE_RATE (resampled)."""
    path = Path(path)
    if not path.exists():
        raise BadAudioError(path, "missing (no such file)")
    if path.is_dir():
        raise BadAudioError(path, "is a folder, not an audio file")
    if not path.is_file():
        raise BadAudioError(path, "is not a regular file (a FIFO, socket or device), so it is not read")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # libsndfile reports every decoding problem as a RuntimeError subclass
        reason = " ".join(str(error).split()) or type(error).__name__
        raise BadAudioError(path, f"unreadable or corrupt ({reason})") from None
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise BadAudioError(path, "empty (no samples)")
    if not np.isfinite(data).all():
        count = int(data.size - np.isfinite(data).sum())
        raise BadAudioError(path, f"{count} non-finite (NaN or infinite) sample values")
    peak = float(np.abs(data).max())
    if peak > MAX_AMPLITUDE:
        raise BadAudioError(path, f"samples reach {peak:.3g}, far beyond full scale (1): not audio as stored")
    return at_sample_rate(data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0], int(rate))


def at_sample_rate(wave: np.ndarray, rate: int) -> np.ndarray:
    """A mono wave [T] sampled at `rate` Hz, resampled to SAMPLE_RATE: float32 [T']."""
    if rate != SAMPLE_RATE:
        wave = torchaudio.functional.resample(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)), rate, SAMPLE_RATE).numpy()
    return np.ascontiguousarray(wave, dtype=np.float32)
