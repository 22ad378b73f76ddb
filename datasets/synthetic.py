"""`Synthetic`: a built-in speech anti-spoofing corpus generated offline from a fixed seed.

Bona fide utterances are speech-like signals (datasets/speech_synthesis.py) of synthetic
speakers; spoofed ones are the same kind of utterances passed through vocoders (ATTACKS).
Like ASVspoof 2019 LA there are train, dev and eval splits with disjoint speakers, dev has
the train attacks, and eval adds attacks that train and dev never show. Bona fide and spoof
share one recording channel (colouring, noise floor, level, 16-bit quantisation).

The corpus is generated on first use and cached under
`<data_root>/Synthetic/<VERSION>/<split>/`: `protocol.txt` (ASVspoof style: `speaker utt_id -
attack label`, attack `-` for bona fide), `audio.npy` (all waves as int16, concatenated) and
`offsets.npy` (int64 [N + 1]: utterance i is audio[offsets[i]:offsets[i + 1]]).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from common import BONAFIDE, SAMPLE_RATE, SPOOF
from datasets.base import AudioDataset, Utterance
from datasets.speech_synthesis import (
    Plan,
    channel,
    codec,
    griffin_lim,
    harmonic_plus_noise,
    lpc_vocoder,
    plan_utterances,
    random_voice,
    render,
)

VERSION = "v1"  # bump whenever the generated corpus changes
CORPUS_SEED = 20250101  # the corpus is fixed, like a recorded one; training seeds vary only the model
SPLITS = ("train", "dev", "eval")
SIZES = {"train": 1000, "dev": 400, "eval": 1000}  # utterances per split
SPEAKERS = {"train": 10, "dev": 6, "eval": 10}  # per split, half low and half high voices
BONAFIDE_SHARE = 0.2
MIN_SECONDS, MAX_SECONDS = 1.0, 4.0
CHUNK = 16  # utterances rendered together
PROTOCOL, AUDIO, OFFSETS = "protocol.txt", "audio.npy", "offsets.npy"

ATTACKS = {
    "A01": {
        "description": "Griffin-Lim phase reconstruction (1-4 iterations) from a time-smoothed STFT magnitude",
        "splits": ("train", "dev", "eval"),
    },
    "A02": {
        "description": "harmonic-plus-noise resynthesis from over-smoothed F0 and formant tracks "
        "(no jitter or shimmer, wide formants, noise above a 3-6.5 kHz maximum voiced frequency)",
        "splits": ("train", "dev", "eval"),
    },
    "A03": {
        "description": "lossy codec: 4-7.5 kHz band limit, log-magnitude spectrum quantised in 1-6 dB steps, "
        "6-8 bit mu-law",
        "splits": ("train", "dev", "eval"),
    },
    "A04": {
        "description": "buzz/noise-excited all-pole (LPC-style) vocoder: impulse or noise excitation, "
        "hard voicing decision, parameters held over 16-32 ms",
        "splits": ("eval",),
    },
    "A05": {
        "description": "A02 then A03: harmonic-plus-noise resynthesis sent through the lossy codec",
        "splits": ("eval",),
    },
}

# How each kind of utterance is made from its plan: (plan, rng, severity [B]) -> wave [B, T].
_SYNTHESISERS: dict[str | None, Callable[[Plan, np.random.Generator, np.ndarray], torch.Tensor]] = {
    None: lambda plan, rng, severity: render(plan, rng),
    "A01": lambda plan, rng, severity: griffin_lim(render(plan, rng), plan.lengths, rng, severity),
    "A02": harmonic_plus_noise,
    "A03": lambda plan, rng, severity: codec(render(plan, rng), plan.lengths, rng, severity),
    "A04": lpc_vocoder,
    "A05": lambda plan, rng, severity: codec(harmonic_plus_noise(plan, rng, severity), plan.lengths, rng, severity),
}


def corpus_directory(data_root: str | Path, sizes: Mapping[str, int] = SIZES) -> Path:
    """Where the corpus of these split sizes is cached."""
    name = VERSION if dict(sizes) == SIZES else VERSION + "-" + "-".join(f"{s}{sizes[s]}" for s in SPLITS)
    return Path(data_root) / "Synthetic" / name


def generate_corpus(data_root: str | Path, sizes: Mapping[str, int] = SIZES) -> Path:
    """The corpus directory, generating the corpus first unless it is cached.

    Generation writes into a fresh sibling directory that is then renamed into place, so a
    reader never sees a partial corpus; when several processes generate at once, the first
    rename wins and the others discard their (identical) copies."""
    target = corpus_directory(data_root, sizes)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_corpus(staging, sizes)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_corpus(directory: Path, sizes: Mapping[str, int]) -> None:
    """Generate every split into `directory`/<split>/."""
    voice_rng = np.random.default_rng([CORPUS_SEED, len(SPLITS)])
    first_speaker = 1
    for index, split in enumerate(SPLITS):
        count = SPEAKERS[split]
        speakers = [f"SYN_{first_speaker + i:04d}" for i in range(count)]
        voices = [random_voice(voice_rng, high=i % 2 == 1) for i in range(count)]
        first_speaker += count
        _write_split(directory / split, index, split, sizes[split], speakers, voices)


def _write_split(directory: Path, index: int, split: str, size: int, speakers: list[str], voices: list) -> None:
    """Design, render and write one split of `size` utterances."""
    rng = np.random.default_rng([CORPUS_SEED, index])
    attacks = [attack for attack, about in ATTACKS.items() if split in about["splits"]]
    n_bonafide = round(size * BONAFIDE_SHARE)
    kinds = [None] * n_bonafide + [attacks[i % len(attacks)] for i in range(size - n_bonafide)]
    speaker = np.arange(size) % len(speakers)  # balanced: every kind spread over every speaker
    order = rng.permutation(size)
    kinds, speaker = [kinds[i] for i in order], speaker[order]
    lengths = rng.integers(int(MIN_SECONDS * SAMPLE_RATE), int(MAX_SECONDS * SAMPLE_RATE) + 1, size)
    severity = rng.random(size)

    waves: list[np.ndarray] = [np.empty(0, np.int16)] * size
    for group, kind in enumerate([None, *attacks]):
        members = [i for i in np.argsort(lengths, kind="stable") if kinds[i] == kind]
        for chunk, start in enumerate(range(0, len(members), CHUNK)):
            rows = np.array(members[start : start + CHUNK])
            chunk_rng = np.random.default_rng([CORPUS_SEED, index, group, chunk])
            plan = plan_utterances(chunk_rng, [voices[s] for s in speaker[rows]], lengths[rows])
            pcm = channel(_SYNTHESISERS[kind](plan, chunk_rng, severity[rows]), lengths[rows], chunk_rng)
            for row, samples in zip(rows, pcm):
                waves[row] = samples[: lengths[row]]

    directory.mkdir(parents=True)
    letter = split[0].upper()
    with open(directory / PROTOCOL, "w") as protocol:
        for i, kind in enumerate(kinds):
            label = "bonafide" if kind is None else "spoof"
            protocol.write(f"{speakers[speaker[i]]} SYN_{letter}_{i + 1:07d} - {kind or '-'} {label}\n")
    np.save(directory / AUDIO, np.concatenate(waves))
    np.save(directory / OFFSETS, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def read_protocol(directory: Path) -> list[Utterance]:
    """The utterances of a cached split; `source` is the (start, end) of the wave in audio.npy."""
    offsets = np.load(directory / OFFSETS)
    utterances = []
    for i, line in enumerate((directory / PROTOCOL).read_text().splitlines()):
        speaker, utt_id, _, attack, label = line.split()
        utterances.append(
            Utterance(
                utt_id=utt_id,
                label=BONAFIDE if label == "bonafide" else SPOOF,
                speaker=speaker,
                attack=None if attack == "-" else attack,
                source=(int(offsets[i]), int(offsets[i + 1])),
            )
        )
    return utterances


class SyntheticDataset(AudioDataset):
    """One split of the Synthetic corpus, generated under `data_root` on first use."""

    def __init__(self, split: str, data_root: str | Path) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r} of Synthetic; valid splits: {', '.join(SPLITS)}")
        self.directory = generate_corpus(data_root) / split
        super().__init__(read_protocol(self.directory))
        self._audio: np.ndarray | None = None  # memory-mapped on first read

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        """float32 [T] in [-1, 1), 16 kHz."""
        if self._audio is None:
            self._audio = np.load(self.directory / AUDIO, mmap_mode="r")
        start, end = utterance.source
        return self._audio[start:end].astype(np.float32) / 32768

    def __getstate__(self) -> dict:
        # a memory map is not pickled (DataLoader workers); each process maps the file itself
        return {**self.__dict__, "_audio": None}
