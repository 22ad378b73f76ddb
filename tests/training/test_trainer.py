"""The Trainer: epochs, the best epoch on dev, checkpoints, the training log and divergence."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from classifiers.feedforward import FF
from conventions import BONAFIDE, SPOOF
from datasets.base import AudioDataset, Utterance
from extractors.spectral import LFCC
from losses.cross_entropy import CrossEntropyLoss
from model import Countermeasure
from processors.mean import MeanPooling
from training.scoring import TrainingDiverged
from training.trainer import Trainer, TrainingSettings, seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")


class ToneDataset(AudioDataset):
    """Bona fide: a low tone; spoof: a high tone; each with a little noise (learnable in a few epochs)."""

    def __init__(self, size: int, seed: int) -> None:
        super().__init__([Utterance(f"u{seed}_{index}", BONAFIDE if index % 2 else SPOOF) for index in range(size)])
        self.seed = seed

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        index = int(utterance.utt_id.split("_")[1])
        rng = np.random.default_rng([self.seed, index])
        frequency = 300.0 if utterance.label == BONAFIDE else 2500.0
        time = np.arange(4000) / 16000
        return (0.3 * np.sin(2 * np.pi * frequency * time) + 0.3 * rng.standard_normal(4000)).astype(np.float32)


class ListLog:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[tuple[int, dict]] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    def metrics(self, values: dict, step: int) -> None:
        self.values.append((step, values))


def tiny_trainer(log: ListLog, loss: torch.nn.Module | None = None, **settings) -> Trainer:
    seed_everything(0)
    model = Countermeasure(LFCC(), MeanPooling(1, 60), FF(60, 2, hidden_dim=8))
    return Trainer(model, loss or CrossEntropyLoss(8, 2), TrainingSettings(batch_size=8, lr=1e-2, **settings), torch.device("cpu"), log)


def test_fit_keeps_the_best_epoch_on_dev_and_writes_its_checkpoints(tmp_path):
    log = ListLog()
    trainer = tiny_trainer(log, num_epochs=3)
    best = trainer.fit(ToneDataset(32, 0), ToneDataset(16, 1), tmp_path / "checkpoints", {"note": "arguments"})
    dev_eers = [values["dev/eer"] for _, values in log.values]
    assert [step for step, _ in log.values] == [1, 2, 3] and best == 1 + dev_eers.index(min(dev_eers))
    assert all(set(values) == {"Loss/Total", "dev/eer"} for _, values in log.values)
    assert sum(line.startswith("epoch ") for line in log.lines) == 3 and f"best epoch on dev: {best}" in log.lines[-1]
    best_checkpoint = torch.load(tmp_path / "checkpoints" / "best.pt", weights_only=True)
    last_checkpoint = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert best_checkpoint["epoch"] == best and last_checkpoint["epoch"] == 3
    assert best_checkpoint["arguments"] == {"note": "arguments"} and "optimizer" in best_checkpoint
    for key, value in trainer.model.trainable_state_dict().items():  # the model is left at the best epoch
        torch.testing.assert_close(value, best_checkpoint["model"][key])
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()) == ["best.pt", "last.pt"]


def test_the_same_seed_trains_the_same_model(tmp_path):
    states = []
    for run in ("a", "b"):
        trainer = tiny_trainer(ListLog(), num_epochs=1)
        trainer.fit(ToneDataset(16, 0), ToneDataset(8, 1), tmp_path / run, {})
        states.append(trainer.model.trainable_state_dict())
    for key in states[0]:
        torch.testing.assert_close(states[0][key], states[1][key], rtol=0, atol=0)


class ExplodingLoss(CrossEntropyLoss):
    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return super().compute_loss(logits, labels) * float("inf")


def test_a_non_finite_training_loss_stops_with_the_fix_named(tmp_path):
    trainer = tiny_trainer(ListLog(), loss=ExplodingLoss(8, 2))
    with pytest.raises(TrainingDiverged, match=r"the training loss became inf at batch 1 \(epoch 1\); lower --lr"):
        trainer.fit(ToneDataset(16, 0), ToneDataset(8, 1), tmp_path / "checkpoints", {})


def test_a_fine_tuned_extractor_trains_at_its_own_learning_rate():
    trainer = tiny_trainer(ListLog(), extractor_lr=1e-6)
    trainer.model.extractor.register_parameter("gain", torch.nn.Parameter(torch.ones(1)))
    groups = trainer.optimizer().param_groups
    assert [group["lr"] for group in groups] == [1e-2, 1e-6]
    assert groups[1]["params"] == [trainer.model.extractor.gain]
    frozen = tiny_trainer(ListLog())
    (group,) = frozen.optimizer().param_groups
    assert group["params"] == [*frozen.model.classifier.parameters()]  # Mean and CrossEntropy have none


def test_score_keeps_corpus_order_and_collects_skipped_audio():
    trainer = tiny_trainer(ListLog())
    dataset = ToneDataset(10, 2)
    table = trainer.score(dataset, None, "dev")
    assert table.utt_ids == [utterance.utt_id for utterance in dataset.utterances]
    assert np.isfinite(table.scores).all() and trainer.skipped["dev"] == set()
