"""`Synthetic`: a built-in speech anti-spoofing corpus generated offline from a fixed seed.

Bona fide utterances are speech-like signals of synthetic speakers (datasets/speech_synthesis.py);
spoofed ones are utterances of the same kind and speakers made by vocoders (ATTACKS), each with
a severity drawn per utterance. As in ASVspoof 2019 LA, the train, dev and eval splits have
disjoint speakers, dev has the train attacks, and eval adds attacks that train and dev never
show. Bona fide and spoof go through one recording channel (colouring, noise floor, level,
16-bit quantisation), so loudness, peak level, duration and silence do not give the label away.

The corpus is generated on first use (about 8 s on two cores) and cached under
`<data_root>/Synthetic/<VERSION>/<split>/`: `protocol.txt` (ASVspoof style: `speaker utt_id -
attack label`, attack `-` for bona fide), `audio.npy` (every wave as int16, concatenated) and
`offsets.npy` (int64 [N + 1]: utterance i is audio[offsets[i]:offsets[i + 1]]).
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from conventions import BONAFIDE, SAMPLE_RATE, SPLITS, SPOOF
from datasets.base import AudioDataset, PairDataset, Utterance
from datasets.corpus import check_split
from datasets.speech_synthesis import (
    Plan,
    Voice,
    channel,
    codec,
    griffin_lim,
    harmonic_plus_noise,
    lpc_vocoder,
    plan_utterances,
    random_voice,
    render,
    to_wave,
)

VERSION = "v1"  # bump whenever the generated corpus changes
CORPUS_SEED = 20250101  # the corpus is fixed, like a recorded one; training seeds vary only the model
SIZES = {"train": 1000, "dev": 400, "eval": 1000}  # utterances per split
SPEAKERS = {"train": 10, "dev": 6, "eval": 10}  # per split, alternately low and high voices
BONAFIDE_SHARE = 0.25
MIN_SECONDS, MAX_SECONDS = 1.0, 4.0  # utterance durations, skewed to short ones (mean 2 s)
CHUNK = 16  # utterances rendered together
WORKERS = min(8, os.cpu_count() or 1)  # processes rendering chunks in parallel, one torch thread each
PROTOCOL, AUDIO, OFFSETS = "protocol.txt", "audio.npy", "offsets.npy"

ATTACKS = {
    "A01": {
        "description": "mel-spectrogram vocoder: STFT magnitude through 80 mel bands up to 6.4-4.8 kHz, "
        "smoothed over 3 frames, sharpened (power 1.4-1.8), then 3-1 Griffin-Lim iterations",
        "splits": ("train", "dev", "eval"),
    },
    "A02": {
        "description": "harmonic-plus-noise resynthesis from tracks smoothed over 50-200 ms: no jitter, shimmer "
        "or aspiration, formants 1.5-3x wider, noise 6-12 dB too weak above a 5-2.5 kHz maximum voiced frequency",
        "splits": ("train", "dev", "eval"),
    },
    "A03": {
        "description": "lossy codec: 10-8 bit mu-law, band limit at 6-3.5 kHz, "
        "STFT magnitudes quantised in 1-6 dB steps",
        "splits": ("train", "dev", "eval"),
    },
    "A04": {
        "description": "pulse/noise-excited low-order all-pole (LPC-style) vocoder: one fixed smooth glottal "
        "pulse, hard voicing decision, parameters held over 16-48 ms, formants 1.2-1.8x wider (F5-F7 a further 2.5x)",
        "splits": ("eval",),
    },
    "A05": {
        "description": "A02 then A03, both milder: tracks smoothed over 50-100 ms, formants 1.4-2x wider, "
        "noise 6-10 dB too weak above 5-3.5 kHz; 10 bit mu-law, band limit at 6.5-5 kHz, 1-3 dB steps",
        "splits": ("eval",),
    },
}


# How each kind of utterance is made from its plan: (plan, rng, severity [B]) -> wave [B, T].
# Severity is drawn per utterance in [0, 1]; 1 gives the strongest artefacts of ATTACKS' ranges.


def _bonafide(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    return to_wave(render(plan, rng), plan.lengths)


def _a01(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    return griffin_lim(
        render(plan, rng),
        plan.lengths,
        rng,
        top_hz=6400 - 1600 * severity,
        exponent=1.4 + 0.4 * severity,
        iterations=3 - np.round(2 * severity).astype(int),
    )


def _a02(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    spectrogram = harmonic_plus_noise(
        plan,
        rng,
        smoothing_s=0.05 + 0.15 * severity,
        bandwidth_factor=1.5 + 1.5 * severity,
        max_voiced_hz=5000 - 2500 * severity,
        noise_db=-6 - 6 * severity,
    )
    return to_wave(spectrogram, plan.lengths)


def _a03(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    return codec(
        render(plan, rng),
        plan.lengths,
        bits=10 - np.round(2 * severity),
        cutoff_hz=6000 - 2500 * severity,
        step_db=1 + 5 * severity,
    )


def _a04(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    spectrogram = lpc_vocoder(
        plan,
        rng,
        hold_frames=1 + np.round(2 * severity).astype(int),
        bandwidth_factor=1.2 + 0.6 * severity,
        high_bandwidth_factor=np.full_like(severity, 2.5),
    )
    return to_wave(spectrogram, plan.lengths)


def _a05(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    spectrogram = harmonic_plus_noise(
        plan,
        rng,
        smoothing_s=0.05 + 0.05 * severity,
        bandwidth_factor=1.4 + 0.6 * severity,
        max_voiced_hz=5000 - 1500 * severity,
        noise_db=-6 - 4 * severity,
    )
    return codec(
        spectrogram,
        plan.lengths,
        bits=np.full_like(severity, 10),
        cutoff_hz=6500 - 1500 * severity,
        step_db=1 + 2 * severity,
    )


_SYNTHESISERS: dict[str | None, Callable[[Plan, np.random.Generator, np.ndarray], torch.Tensor]] = {
    None: _bonafide,
    "A01": _a01,
    "A02": _a02,
    "A03": _a03,
    "A04": _a04,
    "A05": _a05,
}


def corpus_directory(data_root: str | Path, sizes: Mapping[str, int] = SIZES) -> Path:
    """Where the corpus with these split sizes (utterances) is cached."""
    name = VERSION if dict(sizes) == SIZES else VERSION + "-" + "-".join(f"{s}{sizes[s]}" for s in SPLITS)
    return Path(data_root) / "Synthetic" / name


def generate_corpus(data_root: str | Path, sizes: Mapping[str, int] = SIZES) -> Path:
    """The corpus directory under `data_root`, generating the corpus first unless it is cached.

    Smaller `sizes` (utterances per split) give a smaller corpus in a directory of its own.
    Generation writes into a fresh sibling directory that is then renamed into place, so no
    reader ever sees a partial corpus; when several processes generate at once, the first
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


@dataclass
class _Split:
    """The design of one split, per utterance in protocol order: kind (None = bona fide, else
    the attack), speaker id, length (samples) and severity."""

    index: int  # in SPLITS
    kinds: list[str | None]
    speakers: list[str]
    lengths: np.ndarray
    severity: np.ndarray


@dataclass
class _Chunk:
    """Utterances `rows` of split SPLITS[split], all of one kind, rendered together from `seed`."""

    split: int
    rows: np.ndarray
    kind: str | None
    seed: list[int]
    voices: list[Voice]
    lengths: np.ndarray
    severity: np.ndarray


def _write_corpus(directory: Path, sizes: Mapping[str, int]) -> None:
    """Generate every split into `directory`/<split>/; speakers are numbered across splits."""
    voice_rng = np.random.default_rng([CORPUS_SEED, len(SPLITS)])
    splits, chunks = [], []
    for index, split in enumerate(SPLITS):
        first = 1 + sum(SPEAKERS[s] for s in SPLITS[:index])
        voices = {f"SYN_{first + i:04d}": random_voice(voice_rng, high=i % 2 == 1) for i in range(SPEAKERS[split])}
        splits.append(_design_split(index, sizes[split], list(voices)))
        chunks += _chunks(splits[-1], voices)
    audio = [[np.empty(0, np.int16)] * len(split.kinds) for split in splits]
    for chunk, waves in zip(chunks, _render(chunks)):
        for row, wave in zip(chunk.rows, waves):
            audio[chunk.split][row] = wave
    for split in splits:
        _write_split(directory / SPLITS[split.index], split, audio[split.index])


def _design_split(index: int, size: int, speakers: list[str]) -> _Split:
    """`size` utterances: BONAFIDE_SHARE bona fide, the rest spread evenly over the split's attacks,
    every kind spread evenly over the speakers, in random order."""
    rng = np.random.default_rng([CORPUS_SEED, index])
    attacks = [attack for attack, about in ATTACKS.items() if SPLITS[index] in about["splits"]]
    n_bonafide = round(size * BONAFIDE_SHARE)
    kinds = [None] * n_bonafide + [attacks[i % len(attacks)] for i in range(size - n_bonafide)]
    order = rng.permutation(size)
    seconds = MIN_SECONDS + (MAX_SECONDS - MIN_SECONDS) * rng.beta(1.8, 3.6, size)
    return _Split(
        index=index,
        kinds=[kinds[i] for i in order],
        speakers=[speakers[i % len(speakers)] for i in order],
        lengths=np.round(seconds * SAMPLE_RATE).astype(np.int64),
        severity=rng.random(size),
    )


def _chunks(split: _Split, voices: dict[str, Voice]) -> list[_Chunk]:
    """Chunks of up to CHUNK utterances of one kind and similar length (little padding), each
    with its own seed, so that a chunk renders the same wherever and whenever it runs."""
    chunks = []
    by_length = np.argsort(split.lengths, kind="stable")
    for group, kind in enumerate([None, *(attack for attack in ATTACKS if attack in split.kinds)]):
        members = [i for i in by_length if split.kinds[i] == kind]
        for number, start in enumerate(range(0, len(members), CHUNK)):
            rows = np.array(members[start : start + CHUNK])
            chunks.append(
                _Chunk(
                    split=split.index,
                    rows=rows,
                    kind=kind,
                    seed=[CORPUS_SEED, split.index, group, number],
                    voices=[voices[split.speakers[row]] for row in rows],
                    lengths=split.lengths[rows],
                    severity=split.severity[rows],
                )
            )
    return chunks


def _render_chunk(chunk: _Chunk) -> list[np.ndarray]:
    """The int16 waves of a chunk's utterances."""
    rng = np.random.default_rng(chunk.seed)
    plan = plan_utterances(rng, chunk.voices, chunk.lengths)
    pcm = channel(_SYNTHESISERS[chunk.kind](plan, rng, chunk.severity), chunk.lengths, rng)
    return [samples[:length] for samples, length in zip(pcm, chunk.lengths)]


def _render(chunks: list[_Chunk]) -> list[list[np.ndarray]]:
    """Every chunk's waves, in order: in WORKERS forked processes where possible, else here."""
    if WORKERS < 2 or "fork" not in multiprocessing.get_all_start_methods() or multiprocessing.current_process().daemon:
        return [_render_chunk(chunk) for chunk in chunks]
    with multiprocessing.get_context("fork").Pool(WORKERS, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        return pool.map(_render_chunk, chunks, chunksize=1)


def _write_split(directory: Path, split: _Split, audio: list[np.ndarray]) -> None:
    """Write the protocol and the concatenated int16 audio of a split."""
    directory.mkdir(parents=True)
    letter = SPLITS[split.index][0].upper()
    with open(directory / PROTOCOL, "w") as protocol:
        for i, (kind, speaker) in enumerate(zip(split.kinds, split.speakers)):
            label = "bonafide" if kind is None else "spoof"
            protocol.write(f"{speaker} SYN_{letter}_{i + 1:07d} - {kind or '-'} {label}\n")
    np.save(directory / AUDIO, np.concatenate(audio))
    np.save(directory / OFFSETS, np.concatenate([[0], np.cumsum(split.lengths)]).astype(np.int64))


def read_protocol(directory: Path) -> list[Utterance]:
    """The utterances of a cached split; `source` is (start, end) of the wave in audio.npy (samples)."""
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
    """One split ("train", "dev" or "eval") of the Synthetic corpus, generated under `data_root` on first use."""

    def __init__(self, split: str, data_root: str | Path) -> None:
        check_split("Synthetic", split)
        self.directory = generate_corpus(data_root) / split
        super().__init__(read_protocol(self.directory))
        self._audio: np.ndarray | None = None  # memory-mapped on first read

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        """float32 [T] in [-1, 1), 16 kHz."""
        if self._audio is None:
            self._audio = np.load(self.directory / AUDIO, mmap_mode="r")
        start, end = utterance.source
        return self._audio[start:end].astype(np.float32) / 32768

    def length(self, utterance: Utterance) -> int:
        start, end = utterance.source
        return end - start

    def __getstate__(self) -> dict:
        # a memory map is not pickled (DataLoader workers): each process maps the file itself
        return {**self.__dict__, "_audio": None}


class SyntheticDataset_pair(PairDataset, SyntheticDataset):
    """The built-in Synthetic corpus, each trial paired with a bona fide utterance of its speaker."""
