"""The dataset contract: utterance records, item dicts and the batch a model consumes.

Beyond reading waves, an AudioDataset offers three opt-in behaviours:

- Bad audio (`on_bad_audio`): "error" (default) lets a BadAudioError (datasets/audio.py) raised
  while reading a wave propagate; "skip" turns the item into a SkippedItem, which collate_batch
  drops and lists in `Batch.skipped`. A batch whose items were all skipped is still a Batch: zero
  rows (`wave [0, 0]`, empty `lengths`, `labels`, `utt_ids`) and the skipped ids; consumers should
  skip a batch with no rows (`len(batch.utt_ids) == 0`).
- Training-time cropping and augmentation (`configure_training`, `set_epoch`): each item draws
  `rng = np.random.default_rng([seed, epoch, index])`, applies `transform(wave, rng)` to the test
  wave, then fits it to `max_len` samples (a crop, random from the same rng or the first max_len
  samples, or repeat-padding by tiling a shorter wave). `configure_scoring(max_len)` fits every
  wave to its first max_len samples (repeat-padded), for scoring. Without either the full-length
  wave is returned unchanged.
- Pairs (`PairDataset`, a mixin): every item also carries `ref_wave`, a bona fide utterance of the
  same speaker; collate_batch then fills `Batch.ref_wave [B, T_ref_max]`, `ref_lengths [B]` and
  `ref_utt_ids`. The reference gets the same crop/pad rule as the test wave (drawn from the same rng
  stream, after the test wave's transform and crop) but no augmentation: it is the enrolment-like
  bona fide anchor, and an unaugmented reference keeps it the same kind of evidence in training and
  evaluation.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from conventions import BONAFIDE, UsageError
from datasets.audio import BadAudioError

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]
ON_BAD_AUDIO = ("error", "skip")


@dataclass(frozen=True)
class Utterance:
    """One trial of a corpus. `source` is whatever the dataset needs to read the wave.

    `codec` and `subset` are optional corpus metadata kept for analysis (for example the ASVspoof
    2021 codec and its eval/progress/hidden subset); they are not part of the item dict."""

    utt_id: str
    label: int
    speaker: str | None = None
    attack: str | None = None
    source: Any = None
    codec: str | None = None
    subset: str | None = None


@dataclass(frozen=True)
class SkippedItem:
    """What __getitem__ returns instead of an item dict when its audio is bad and on_bad_audio is "skip"."""

    utt_id: str
    reason: str
    pair: bool = False


CROPS = ("random", "first")


@dataclass(frozen=True)
class WavePreparation:
    """Set by configure_training / configure_scoring: crop/pad length (samples), crop ("random" or
    "first"), augmentation and seed."""

    max_len: int | None
    transform: Transform | None
    seed: int
    crop: str = "random"


def fit_length(wave: np.ndarray, max_len: int, rng: np.random.Generator, crop: str = "random") -> np.ndarray:
    """Exactly `max_len` samples: a crop of a longer wave (its start drawn from `rng`, or its first
    max_len samples with crop "first"), or a shorter wave tiled (repeated from its start) up to
    max_len, as in AASIST and ca-mhfa."""
    length = len(wave)
    if length == 0:
        raise ValueError("cannot crop or pad an empty wave")
    if length >= max_len:
        start = int(rng.integers(0, length - max_len + 1)) if crop == "random" else 0
        return wave[start : start + max_len]
    return np.tile(wave, -(-max_len // length))[:max_len]


class AsvScores(NamedTuple):
    """Where the organisers' ASV scores of a split lie (under data_root), for the t-DCF."""

    scores: str
    protocol: str | None
    subset: str | None
    variant: str


class AudioDataset(Dataset):
    """A split of a corpus: a list of utterances and a way to read each wave.

    Items are dicts `{utt_id, wave: FloatTensor[T] (16 kHz mono), label, speaker, attack}`, plus
    `ref_wave` and `ref_utt_id` for pair datasets, or a SkippedItem (see the module docstring).
    """

    # class-level defaults, so that subclasses and unpickled copies always have them
    pairs: bool = False  # True for PairDataset classes (items carry ref_wave); readable on the class
    references: list[Utterance] | None = None  # aligned with utterances; set by PairDataset
    preparation: WavePreparation | None = None
    epoch: int = 0
    _lengths: np.ndarray | None = None  # cache of lengths()
    _on_bad_audio: str = "error"
    min_length: int = 1  # samples: a wave shorter than the front-end's first frame is bad audio
    # the official evaluation, per split: the organisers' ASV scores for the t-DCF, as
    # (score file, ASV protocol or None, key subset or None, t-DCF variant), paths under data_root
    asv_scores: dict[str, AsvScores] = {}
    # the challenge's submission format of the eval scores: "2021" (`utt_id score`), "asvspoof5"
    # (`filename<TAB>cm-score` with a header) or None (the score file is already the format)
    submission_format: str | None = None

    def __init__(self, utterances: Sequence[Utterance]) -> None:
        self.utterances = list(utterances)

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        """The utterance's samples: float32 [T], mono at conventions.SAMPLE_RATE."""
        raise NotImplementedError

    def length(self, utterance: Utterance) -> int:
        """The utterance's length in samples at SAMPLE_RATE, for grouping utterances of similar
        length into batches; subclasses read it without decoding the audio where they can (0 when
        it cannot be known: the audio is then bad, which reading it will report)."""
        try:
            return len(self.read_wave(utterance))
        except BadAudioError:
            return 0

    def lengths(self) -> np.ndarray:
        """length() of every utterance, in corpus order [N] (computed once per list of utterances)."""
        if self._lengths is None:
            self._lengths = np.array([self.length(utterance) for utterance in self.utterances], dtype=np.int64)
        return self._lengths

    @property
    def on_bad_audio(self) -> str:
        """"error" (default): a BadAudioError propagates; "skip": the item becomes a SkippedItem."""
        return self._on_bad_audio

    @on_bad_audio.setter
    def on_bad_audio(self, mode: str) -> None:
        if mode not in ON_BAD_AUDIO:
            raise ValueError(f"on_bad_audio must be one of {', '.join(ON_BAD_AUDIO)}, not {mode!r}")
        self._on_bad_audio = mode

    def configure_training(self, max_len: int | None, transform: Transform | None, seed: int, crop: str = "random") -> None:
        """Crop/pad every wave to `max_len` samples (None: keep the length) after `transform(wave, rng)`;
        the crop's start is random (`crop` "random") or 0 ("first").

        The rng of item `index` is np.random.default_rng([seed, epoch, index]) (see set_epoch), so an
        item is the same whenever and in whichever DataLoader worker it is read. `transform` must be
        picklable (a module-level function or an object) for DataLoader workers that are not forked.
        """
        if max_len is not None and max_len < 1:
            raise ValueError(f"max_len must be a positive number of samples, not {max_len}")
        if seed < 0:
            raise ValueError(f"the seed must be non-negative, not {seed}")
        if crop not in CROPS:
            raise ValueError(f"crop must be one of {', '.join(CROPS)}, not {crop!r}")
        self.preparation = WavePreparation(max_len, transform, int(seed), crop)

    def configure_scoring(self, max_len: int) -> None:
        """Every wave (and reference) fitted to its first `max_len` samples, repeat-padded when shorter."""
        self.configure_training(max_len, None, 0, "first")

    @property
    def fixed_length(self) -> int | None:
        """The length of every item's wave when a crop fixes it (max_len), else None."""
        return self.preparation.max_len if self.preparation is not None else None

    def set_epoch(self, epoch: int) -> None:
        """Make the crops and augmentations those of `epoch`. Call it before creating the epoch's
        DataLoader iterator; persistent DataLoader workers keep the epoch they were started with."""
        if epoch < 0:
            raise ValueError(f"the epoch must be non-negative, not {epoch}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.utterances)

    def _wave(self, utterance: Utterance) -> np.ndarray:
        wave = np.asarray(self.read_wave(utterance), dtype=np.float32)
        if wave.ndim != 1 or wave.size == 0:
            raise BadAudioError(utterance.utt_id, f"read as an array of shape {wave.shape}, not a non-empty [T]")
        return wave

    def __getitem__(self, index: int) -> dict | SkippedItem:
        utterance = self.utterances[index]
        reference = self.references[index] if self.references is not None else None
        try:
            wave = self._wave(utterance)
            ref_wave = self._wave(reference) if reference is not None else None
            if self.preparation is not None:
                wave, ref_wave = self._prepared(index, wave, ref_wave)
            for item, waveform in ((utterance, wave), (reference, ref_wave)):
                if waveform is not None and len(waveform) < self.min_length:
                    where = item.source if isinstance(item.source, str) else item.utt_id
                    raise BadAudioError(where, f"{len(waveform)} samples, shorter than the front-end's first frame ({self.min_length})")
        except BadAudioError as error:
            if self.on_bad_audio == "skip":
                return SkippedItem(utterance.utt_id, str(error), reference is not None)
            raise
        item = {
            "utt_id": utterance.utt_id,
            "wave": torch.as_tensor(np.ascontiguousarray(wave), dtype=torch.float32),
            "label": utterance.label,
            "speaker": utterance.speaker,
            "attack": utterance.attack,
        }
        if reference is not None:
            item["ref_wave"] = torch.as_tensor(np.ascontiguousarray(ref_wave), dtype=torch.float32)
            item["ref_utt_id"] = reference.utt_id
        return item

    def _prepared(self, index: int, wave: np.ndarray, ref_wave: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The wave transformed and fitted to max_len, and the reference fitted, by the preparation."""
        config = self.preparation
        rng = np.random.default_rng([config.seed, self.epoch, int(index)])
        if config.transform is not None:
            wave = np.asarray(config.transform(wave, rng), dtype=np.float32)
        if config.max_len is not None:
            wave = fit_length(wave, config.max_len, rng, config.crop)
            if ref_wave is not None:
                ref_wave = fit_length(ref_wave, config.max_len, rng, config.crop)
        return wave, ref_wave

    @property
    def labels(self) -> np.ndarray:
        return np.array([u.label for u in self.utterances], dtype=np.int64)

    def limit(self, max_utterances: int, seed: int) -> None:
        """Keep a class-stratified random subset of at most `max_utterances` utterances, in corpus order."""
        if max_utterances >= len(self.utterances):
            return
        rng = np.random.default_rng(seed)
        labels = self.labels
        keep: list[int] = []
        classes = np.unique(labels)
        for position, label in enumerate(classes):
            members = np.flatnonzero(labels == label)
            share = round(max_utterances * len(members) / len(labels))
            # every class keeps at least one utterance; the last class takes what is left
            if position == len(classes) - 1:
                share = max_utterances - len(keep)
            share = min(len(members), max(1, share))
            keep.extend(rng.choice(members, size=share, replace=False).tolist())
        self.utterances = [self.utterances[i] for i in sorted(keep)]
        self._lengths = None
        self.utterances_changed()

    def utterances_changed(self) -> None:
        """Called after `utterances` was replaced (by limit); PairDataset re-picks its references."""


def _stable_index(seed: int, utt_id: str, size: int) -> int:
    """A number in [0, size) that depends only on (seed, utt_id): the same in every process and run."""
    digest = hashlib.blake2b(f"{seed}\x1f{utt_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % size


def _pick(pool: list[Utterance], exclude: int | None, seed: int, utt_id: str) -> Utterance:
    """A member of `pool` chosen by (seed, utt_id), never pool[exclude] unless it is the only one."""
    if exclude is None:
        return pool[_stable_index(seed, utt_id, len(pool))]
    if len(pool) == 1:
        return pool[0]
    k = _stable_index(seed, utt_id, len(pool) - 1)
    return pool[k + (k >= exclude)]


class PairDataset:
    """Mixin giving every utterance a bona fide reference of the same speaker (item key `ref_wave`).

    Put it before an AudioDataset subclass: `class X_pair(PairDataset, X_single)`. The reference
    of an utterance is
    - a bona fide utterance of its speaker in this split, never the utterance itself;
    - a bona fide utterance of the whole split (another one) when its speaker has none here, is
      None, or has only the utterance itself (counted in `pair_fallbacks`, for the log; see
      pair_summary): a trial compared with itself would give the pair heads a zero difference,
      which gives its label away;
    - the utterance itself only when it is the split's one bona fide utterance (counted in
      `pair_self_references`).
    The choice is a fixed function of (pair_seed, utt_id) and of the split's bona fide utterances:
    the same in every epoch, every DataLoader worker and every run with the same seed. After
    limit() the references are picked again among the kept utterances only.
    """

    pairs = True
    pair_seed: int = 0
    pair_fallbacks: int = 0
    pair_self_references: int = 0

    def __init__(self, *args: Any, pair_seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pair_seed = pair_seed
        self.choose_references()

    def choose_references(self, seed: int | None = None) -> None:
        """(Re)pick the references of the current utterances; `seed` replaces pair_seed when given."""
        if seed is not None:
            self.pair_seed = int(seed)
        utterances: list[Utterance] = self.utterances  # type: ignore[attr-defined]
        everyone = sorted((u for u in utterances if u.label == BONAFIDE), key=lambda u: u.utt_id)
        if utterances and not everyone:
            raise UsageError(
                f"{type(self).__name__}: this split has no bona fide utterance to serve as a pair reference; "
                "use the single-utterance variant of the dataset or keep bona fide utterances (raise --limit)"
            )
        by_speaker: dict[str, list[Utterance]] = defaultdict(list)
        for u in everyone:
            if u.speaker is not None:
                by_speaker[u.speaker].append(u)
        position_in_speaker = {u.utt_id: i for pool in by_speaker.values() for i, u in enumerate(pool)}
        position_in_split = {u.utt_id: i for i, u in enumerate(everyone)}
        references, fallbacks, self_references = [], 0, 0
        for u in utterances:
            pool = by_speaker.get(u.speaker) if u.speaker is not None else None
            mine = u.label == BONAFIDE
            if pool and (len(pool) > 1 or not mine):
                reference = _pick(pool, position_in_speaker.get(u.utt_id) if mine else None, self.pair_seed, u.utt_id)
            else:
                fallbacks += 1
                reference = _pick(everyone, position_in_split.get(u.utt_id) if mine else None, self.pair_seed, u.utt_id)
            self_references += reference.utt_id == u.utt_id
            references.append(reference)
        self.references = references
        self.pair_fallbacks = fallbacks
        self.pair_self_references = self_references

    def utterances_changed(self) -> None:
        super().utterances_changed()  # type: ignore[misc]
        self.choose_references()

    def pair_summary(self) -> str:
        """One line for the run log: how the references were found."""
        total = len(self.utterances)  # type: ignore[attr-defined]
        return (
            f"{total} pairs: {total - self.pair_fallbacks} with a bona fide reference of the same speaker, "
            f"{self.pair_fallbacks} with one from the whole split (speaker unknown, or without another bona fide "
            f"utterance in the split), {self.pair_self_references} with the utterance itself (the split's only "
            "bona fide one)"
        )


@dataclass
class Batch:
    """Padded waves `wave [B, T]` with their `lengths [B]` (samples) and the trial metadata.

    Pair batches also have `ref_wave [B, T_ref]`, `ref_lengths [B]` and `ref_utt_ids` (None for
    single-utterance batches). `skipped` lists the utt_ids whose audio was bad and skipped; a batch
    can have zero rows and only skipped ids."""

    wave: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    utt_ids: list[str]
    speakers: list[str | None]
    attacks: list[str | None]
    skipped: list[str] = field(default_factory=list)
    ref_wave: torch.Tensor | None = None
    ref_lengths: torch.Tensor | None = None
    ref_utt_ids: list[str] | None = None

    def to(self, device: torch.device | str) -> "Batch":
        self.wave = self.wave.to(device)
        self.lengths = self.lengths.to(device)
        self.labels = self.labels.to(device)
        if self.ref_wave is not None:
            self.ref_wave = self.ref_wave.to(device)
        if self.ref_lengths is not None:
            self.ref_lengths = self.ref_lengths.to(device)
        return self


def _pad(waves: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded [B, T_max] and the lengths [B]; [0, 0] and [0] for no waves."""
    lengths = torch.tensor([wave.numel() for wave in waves], dtype=torch.long)
    padded = torch.zeros(len(waves), int(lengths.max()) if len(waves) else 0, dtype=torch.float32)
    for row, wave in enumerate(waves):
        padded[row, : lengths[row]] = wave
    return padded, lengths


def collate_batch(items: Sequence[dict | SkippedItem | None]) -> Batch:
    """Zero-pad the items' waves (and references) to the longest one; drop skipped items.

    SkippedItems are dropped and their utt_ids listed in `Batch.skipped`; a bare None (from a
    dataset outside this module) is dropped without an id."""
    kept = [item for item in items if isinstance(item, dict)]
    skipped = [item for item in items if isinstance(item, SkippedItem)]
    pairs = {"ref_wave" in item for item in kept} | {item.pair for item in skipped}
    if len(pairs) > 1:
        raise ValueError("collate_batch: a batch mixes pair items (with ref_wave) and single items")
    wave, lengths = _pad([item["wave"] for item in kept])
    batch = Batch(
        wave=wave,
        lengths=lengths,
        labels=torch.tensor([item["label"] for item in kept], dtype=torch.long),
        utt_ids=[item["utt_id"] for item in kept],
        speakers=[item["speaker"] for item in kept],
        attacks=[item["attack"] for item in kept],
        skipped=[item.utt_id for item in skipped],
    )
    if pairs == {True}:
        batch.ref_wave, batch.ref_lengths = _pad([item["ref_wave"] for item in kept])
        batch.ref_utt_ids = [item["ref_utt_id"] for item in kept]
    return batch
