"""Benchmark of the Synthetic corpus: generation time, sizes, and how hard it is.

Hardness is measured with a proxy of the default countermeasure: mean over frames of LFCC + Δ +
ΔΔ (the front-end of extractors/spectral.py, recomputed here with torchaudio) into a one-hidden-
layer MLP like classifiers.FF, trained with cross-entropy, Adam (lr 1e-3), batch 32 and class-
balanced sampling for 10 epochs, the epoch chosen on dev. Also reported: the EER of trivial cues
(level, peak, duration, silence), which should sit near 50%, and of untrained MLPs.

Run: .venv/bin/python benchmarks/synthetic.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchaudio
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conventions import BONAFIDE, SAMPLE_RATE  # noqa: E402
from datasets.synthetic import ATTACKS, SPLITS, WORKERS, SyntheticDataset  # noqa: E402

SILENCE_DB = -40.0  # a sample is near-silent below this level relative to its utterance's peak
LFCC = torchaudio.transforms.LFCC(
    sample_rate=SAMPLE_RATE,
    n_filter=20,
    n_lfcc=20,
    log_lf=True,
    speckwargs={"n_fft": 512, "win_length": 320, "hop_length": 160, "center": False},
)


def eer(scores: np.ndarray, labels: np.ndarray) -> float:
    """Equal error rate of `scores` (higher = bona fide) against `labels` (BONAFIDE or not)."""
    order = np.argsort(scores, kind="stable")
    bonafide = labels[order] == BONAFIDE
    false_rejection = np.cumsum(bonafide) / bonafide.sum()  # bona fide at or below each threshold
    false_acceptance = 1 - np.cumsum(~bonafide) / (~bonafide).sum()  # spoof above it
    index = np.argmin(np.abs(false_rejection - false_acceptance))
    return float((false_rejection[index] + false_acceptance[index]) / 2)


def trivial_cues(dataset: SyntheticDataset) -> dict[str, np.ndarray]:
    """Per utterance: RMS level (dBFS), peak level (dBFS), duration (s) and the fraction of
    near-silent samples (more than -SILENCE_DB below the utterance's peak)."""
    cues: dict[str, list[float]] = {"rms": [], "peak": [], "duration": [], "silence": []}
    for utterance in dataset.utterances:
        wave = dataset.read_wave(utterance)
        peak = np.abs(wave).max()
        cues["rms"].append(10 * np.log10(np.mean(wave.astype(np.float64) ** 2)))
        cues["peak"].append(20 * np.log10(peak))
        cues["duration"].append(len(wave) / SAMPLE_RATE)
        cues["silence"].append(np.mean(np.abs(wave) < peak * 10 ** (SILENCE_DB / 20)))
    return {name: np.array(values) for name, values in cues.items()}


def mean_lfcc(dataset: SyntheticDataset) -> np.ndarray:
    """[N, 60]: per utterance, the mean over frames of 20 LFCC with their Δ and ΔΔ."""
    features = []
    with torch.no_grad():
        for utterance in dataset.utterances:
            wave = torch.from_numpy(dataset.read_wave(utterance))
            lfcc = LFCC(torchaudio.functional.preemphasis(wave, 0.97))  # [20, T']
            delta = torchaudio.functional.compute_deltas(lfcc)
            frames = torch.cat([lfcc, delta, torchaudio.functional.compute_deltas(delta)])
            features.append(frames.mean(1).numpy())
    return np.stack(features)


def mlp(seed: int) -> nn.Module:
    """Like classifiers.FF: LayerNorm, Linear(60, 128), LeakyReLU(0.2), Linear(128, 2)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.LayerNorm(60), nn.Linear(60, 128), nn.LeakyReLU(0.2), nn.Linear(128, 2))


def scores_of(model: nn.Module, features: np.ndarray) -> np.ndarray:
    """Bona fide log-odds of the two-class logits."""
    with torch.no_grad():
        logits = model(torch.from_numpy(features))
    return (logits[:, BONAFIDE] - logits[:, 1 - BONAFIDE]).numpy()


def train_proxy(train: tuple[np.ndarray, np.ndarray], dev: tuple[np.ndarray, np.ndarray], seed: int) -> nn.Module:
    """Train the MLP for 10 epochs; return it at the epoch of lowest dev EER."""
    model = mlp(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    features, labels = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    weights = 1.0 / np.bincount(train[1])[train[1]]
    generator = torch.Generator().manual_seed(seed)
    best, best_state = 1.0, None
    for _ in range(10):
        drawn = torch.multinomial(torch.from_numpy(weights), len(weights), replacement=True, generator=generator)
        for batch in drawn.split(32):
            loss = nn.functional.cross_entropy(model(features[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        dev_eer = eer(scores_of(model, dev[0]), dev[1])
        if dev_eer < best:
            best, best_state = dev_eer, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model


def main() -> None:
    with tempfile.TemporaryDirectory() as data_root:
        start = time.perf_counter()
        datasets = {split: SyntheticDataset(split, data_root) for split in SPLITS}
        seconds = time.perf_counter() - start
        print(f"generation of all splits from scratch: {seconds:.1f} s wall ({WORKERS} rendering processes)")
        for split, dataset in datasets.items():
            attacks = [u.attack for u in dataset.utterances]
            audio = sum(u.source[1] - u.source[0] for u in dataset.utterances) / SAMPLE_RATE
            counts = ", ".join(f"{a or 'bonafide'} {attacks.count(a)}" for a in [None, *sorted(set(attacks) - {None})])
            speakers = len({u.speaker for u in dataset.utterances})
            print(f"  {split:5s} {len(dataset):5d} utterances, {audio / 60:5.1f} min, {speakers} speakers: {counts}")
        for attack, about in ATTACKS.items():
            print(f"  {attack} ({', '.join(about['splits'])}): {about['description']}")

        labels = {split: dataset.labels for split, dataset in datasets.items()}
        print("\ntrivial cues, EER (%) of the cue as a score (50 = useless; <40 or >60 = a giveaway):")
        for split, dataset in datasets.items():
            cues = trivial_cues(dataset)
            rates = (f"{name} {100 * eer(values, labels[split]):5.1f}" for name, values in cues.items())
            print(f"  {split:5s} " + "  ".join(rates))

        features = {split: mean_lfcc(dataset) for split, dataset in datasets.items()}
        untrained = [100 * eer(scores_of(mlp(seed), features["eval"]), labels["eval"]) for seed in range(5)]
        print("\nuntrained MLP on mean LFCC, eval EER (%) for 5 initialisations: "
              + " ".join(f"{value:.1f}" for value in untrained) + f" (mean {np.mean(untrained):.1f})")

        print("\nproxy countermeasure (mean LFCC + MLP, trained on train), EER (%):")
        eval_attacks = [u.attack for u in datasets["eval"].utterances]
        unseen = sorted({a for a in eval_attacks if a is not None and "train" not in ATTACKS[a]["splits"]})
        subsets = {attack: [attack] for attack in sorted(set(eval_attacks) - {None})}
        subsets.update({"known": sorted(set(subsets) - set(unseen)), "unseen": unseen})
        for seed in range(3):
            model = train_proxy((features["train"], labels["train"]), (features["dev"], labels["dev"]), seed)
            dev_eer = eer(scores_of(model, features["dev"]), labels["dev"])
            eval_scores = scores_of(model, features["eval"])
            per_subset = []
            for name, attacks in subsets.items():
                keep = np.array([a is None or a in attacks for a in eval_attacks])
                subset_eer = 100 * eer(eval_scores[keep], labels["eval"][keep])
                per_subset.append(f"{name}{'*' if name in unseen else ''} {subset_eer:4.1f}")
            print(f"  seed {seed}: dev {100 * dev_eer:4.1f}  eval {100 * eer(eval_scores, labels['eval']):4.1f}  |  "
                  + "  ".join(per_subset))
        print("  (per attack and pooled over the known or the unseen attacks: that spoof against all bona fide;"
              " * = unseen in train and dev)")


if __name__ == "__main__":
    main()
