"""The Trainer: epochs, the best epoch on dev, checkpoints, the log, divergence, the learning-rate
schedule, precision, accumulation, clipping, selection, early stopping, averaging and exact resume."""
from __future__ import annotations

import math

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
from training.checkpoints import load_checkpoint
from training.scoring import TrainingDiverged
from training.trainer import Trainer, TrainingSettings, seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")


class ToneDataset(AudioDataset):
    """Bona fide: a low tone; spoof: a high tone; each with noise and a length of 0.15 to 0.35 s."""

    def __init__(self, size: int, seed: int) -> None:
        super().__init__([Utterance(f"u{seed}_{index}", BONAFIDE if index % 2 else SPOOF) for index in range(size)])
        self.seed = seed

    def read_wave(self, utterance: Utterance) -> np.ndarray:
        index = int(utterance.utt_id.split("_")[1])
        rng = np.random.default_rng([self.seed, index])
        frequency = 300.0 if utterance.label == BONAFIDE else 2500.0
        time = np.arange(2400 + 400 * (index % 9)) / 16000
        return (0.3 * np.sin(2 * np.pi * frequency * time) + 0.3 * rng.standard_normal(len(time))).astype(np.float32)


class ListLog:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: list[tuple[int, dict]] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    def metrics(self, values: dict, step: int) -> None:
        self.values.append((step, values))


def tiny_trainer(log: ListLog | None = None, loss: torch.nn.Module | None = None, **settings) -> Trainer:
    seed_everything(0)
    model = Countermeasure(LFCC(), MeanPooling(1, 60), FF(60, 2, hidden_dim=8))
    options = {"batch_size": 8, "lr": 1e-2, **settings}
    return Trainer(model, loss or CrossEntropyLoss(8, 2), TrainingSettings(**options), torch.device("cpu"), log or ListLog())


def fit(trainer: Trainer, directory, train_size=32, resume=None):
    return trainer.fit(ToneDataset(train_size, 0), ToneDataset(16, 1), directory, {"note": "arguments"}, resume=resume)


def parameters(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in trainer.model.trainable_state_dict().items()}


def test_fit_keeps_the_best_epoch_on_dev_and_writes_its_checkpoints(tmp_path):
    log = ListLog()
    trainer = tiny_trainer(log, num_epochs=3)
    fitted = fit(trainer, tmp_path / "checkpoints")
    dev_eers = [values["dev/eer"] for _, values in log.values]
    assert [step for step, _ in log.values] == [1, 2, 3] and fitted.best_epoch == 1 + dev_eers.index(min(dev_eers))
    assert fitted.epochs == [fitted.best_epoch] and fitted.last_epoch == 3
    assert all(set(values) == {"Loss/Total", "lr", "padding", "dev/eer"} for _, values in log.values)
    assert sum(line.startswith("epoch ") for line in log.lines) == 3 and f"best epoch on dev: {fitted.best_epoch}" in log.lines[-1]
    best_checkpoint = load_checkpoint(str(tmp_path / "checkpoints" / "best.pt"))
    last_checkpoint = load_checkpoint(str(tmp_path / "checkpoints" / "last.pt"))
    assert best_checkpoint["epoch"] == fitted.best_epoch and last_checkpoint["epoch"] == 3
    assert best_checkpoint["arguments"] == {"note": "arguments"} and {"optimizer", "schedule", "random"} <= last_checkpoint.keys()
    for key, value in trainer.model.trainable_state_dict().items():  # the model is left at the best epoch
        torch.testing.assert_close(value, best_checkpoint["model"][key])
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()) == ["best.pt", "last.pt"]


def test_the_same_seed_trains_the_same_model(tmp_path):
    states = []
    for run in ("a", "b"):
        trainer = tiny_trainer(num_epochs=1)
        fit(trainer, tmp_path / run, train_size=16)
        states.append(parameters(trainer))
    for key in states[0]:
        torch.testing.assert_close(states[0][key], states[1][key], rtol=0, atol=0)


class ExplodingLoss(CrossEntropyLoss):
    def compute_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return super().compute_loss(logits, labels) * float("inf")


def test_a_non_finite_training_loss_stops_with_the_fix_named(tmp_path):
    trainer = tiny_trainer(loss=ExplodingLoss(8, 2))
    with pytest.raises(TrainingDiverged, match=r"the training loss became inf at batch 1 \(epoch 1\); lower --lr"):
        fit(trainer, tmp_path / "checkpoints", train_size=16)


def test_a_fine_tuned_extractor_trains_at_its_own_learning_rate_on_the_same_schedule(tmp_path):
    trainer = tiny_trainer(extractor_lr=1e-4, scheduler="cosine", num_epochs=2)
    trainer.model.extractor.register_parameter("gain", torch.nn.Parameter(torch.ones(1)))
    groups = trainer.optimizer().param_groups
    assert [group["lr"] for group in groups] == [1e-2, 1e-4] and groups[1]["params"] == [trainer.model.extractor.gain]
    frozen = tiny_trainer()
    (group,) = frozen.optimizer().param_groups
    assert group["params"] == [*frozen.model.classifier.parameters()]  # Mean and CrossEntropy have none
    optimizer = trainer.optimizer()
    schedule = trainer.schedule(optimizer, steps_per_epoch=4)
    for _ in range(5):
        schedule.before_step()
    main, extractor = (group["lr"] for group in optimizer.param_groups)
    assert main == pytest.approx(1e-2 * (1 + math.cos(math.pi * 4 / 8)) / 2) and extractor == pytest.approx(main / 100)


def test_the_learning_rate_of_each_epoch_is_logged(tmp_path):
    log = ListLog()
    trainer = tiny_trainer(log, num_epochs=3, scheduler="step", step_epochs=1, decay_factor=0.5)
    fit(trainer, tmp_path / "checkpoints")
    assert [values["lr"] for _, values in log.values] == pytest.approx([1e-2, 5e-3, 2.5e-3])
    assert "lr 0.005" in log.lines[1]


def test_accumulating_two_half_batches_is_one_whole_batch(tmp_path):
    whole = tiny_trainer(num_epochs=1, batch_size=8, bucket=False, optimizer="sgd", momentum=0.0)
    fit(whole, tmp_path / "whole", train_size=16)
    halves = tiny_trainer(num_epochs=1, batch_size=4, grad_accumulation=2, bucket=False, optimizer="sgd", momentum=0.0)
    fit(halves, tmp_path / "halves", train_size=16)
    untrained = parameters(tiny_trainer())
    for key, value in parameters(whole).items():
        torch.testing.assert_close(parameters(halves)[key], value, rtol=1e-5, atol=1e-7)
        assert not torch.equal(value, untrained[key])


def test_clipping_bounds_each_step_by_the_rate_times_the_norm(tmp_path):
    trainer = tiny_trainer(num_epochs=1, optimizer="sgd", momentum=0.0, grad_clip=1e-3, lr=1.0)
    before = parameters(trainer)
    fit(trainer, tmp_path / "checkpoints", train_size=8)  # one batch: one step
    change = torch.cat([(parameters(trainer)[key] - value).flatten() for key, value in before.items()])
    assert 0 < change.norm() <= 1e-3 * 1.0001


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_trains_to_finite_parameters_close_to_fp32(tmp_path, precision):
    reference = tiny_trainer(num_epochs=1)
    fit(reference, tmp_path / "fp32", train_size=16)
    trainer = tiny_trainer(num_epochs=1, precision=precision)
    fit(trainer, tmp_path / precision, train_size=16)
    for key, value in parameters(trainer).items():
        assert torch.isfinite(value).all() and value.dtype == torch.float32
        torch.testing.assert_close(value, parameters(reference)[key], rtol=0.05, atol=0.05)


@pytest.mark.parametrize("select", ["dev_loss", "dev_min_dcf"])
def test_other_selection_metrics_are_logged_and_choose_the_epoch(tmp_path, select):
    log = ListLog()
    fitted = fit(tiny_trainer(log, num_epochs=3, select=select), tmp_path / "checkpoints")
    values = [logged[select.replace("dev_", "dev/")] for _, logged in log.values]
    assert fitted.best_epoch == 1 + values.index(min(values)) and select.replace("_", " ") in log.lines[0]


def test_patience_stops_training_early(tmp_path):
    log = ListLog()
    fitted = fit(tiny_trainer(log, num_epochs=8, patience=1, lr=1e-6), tmp_path / "checkpoints")
    assert fitted.last_epoch < 8 and any(line.startswith("early stopping after epoch") for line in log.lines)
    assert fitted.last_epoch - fitted.best_epoch == 1


@pytest.mark.parametrize("average", ["best:2", "last:2"])
def test_averaging_holds_the_mean_of_the_kept_epochs(tmp_path, average):
    trainer = tiny_trainer(num_epochs=4, average=average)
    fitted = fit(trainer, tmp_path / "checkpoints")
    assert len(fitted.epochs) == 2 and (average == "best:2" or fitted.epochs == [3, 4]) and fitted.best_epoch in (
        fitted.epochs if average == "best:2" else range(1, 5)
    )
    files = sorted(path.name for path in (tmp_path / "checkpoints").glob("epoch_*.pt"))
    assert files == [f"epoch_{epoch}.pt" for epoch in fitted.epochs]
    kept = [load_checkpoint(str(tmp_path / "checkpoints" / name)) for name in files]
    average_file = load_checkpoint(str(tmp_path / "checkpoints" / "average.pt"))
    assert average_file["averaged_epochs"] == fitted.epochs
    for key, value in parameters(trainer).items():
        torch.testing.assert_close(value, (kept[0]["model"][key] + kept[1]["model"][key]) / 2)
        torch.testing.assert_close(value, average_file["model"][key])


class StopsAtEpoch(ToneDataset):
    """Interrupted (as by Ctrl-C) when epoch `stop` is about to start."""

    stop = 3

    def set_epoch(self, epoch: int) -> None:
        if epoch == self.stop:
            raise KeyboardInterrupt
        super().set_epoch(epoch)


def test_a_resumed_fit_ends_exactly_where_an_uninterrupted_one_does(tmp_path):
    settings = {"num_epochs": 4, "scheduler": "cosine", "optimizer": "adamw", "average": "last:2", "weight_decay": 1e-3}
    uninterrupted = tiny_trainer(**settings)
    fit(uninterrupted, tmp_path / "uninterrupted")
    interrupted = tiny_trainer(**settings)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(StopsAtEpoch(32, 0), ToneDataset(16, 1), tmp_path / "interrupted", {})
    last = load_checkpoint(str(tmp_path / "interrupted" / "last.pt"))
    assert last["epoch"] == 2
    resumed = tiny_trainer(**settings)
    torch.manual_seed(123)  # whatever the generators hold now, the checkpoint's are restored
    fitted = fit(resumed, tmp_path / "interrupted", resume=last)
    assert fitted.epochs == [3, 4]
    for key, value in parameters(uninterrupted).items():
        torch.testing.assert_close(parameters(resumed)[key], value, rtol=0, atol=0)


def embedding_trainer(log: ListLog | None = None, **settings) -> Trainer:
    """EmbeddingFF with CrossBatchMemory: a loss whose memory state must survive a resume."""
    from classifiers.feedforward import EmbeddingFF
    from model import build_loss

    seed_everything(0)
    model = Countermeasure(LFCC(), MeanPooling(1, 60), EmbeddingFF(60, 2, hidden_dim=8))
    loss = build_loss("CrossBatchMemory", {"CrossBatchMemory": {"memory_size": 24}}, 8)
    options = {"batch_size": 8, "lr": 1e-2, **settings}
    return Trainer(model, loss, TrainingSettings(**options), torch.device("cpu"), log or ListLog())


def test_a_loss_with_a_memory_resumes_exactly_and_its_dev_loss_leaves_it_alone(tmp_path):
    uninterrupted = embedding_trainer(num_epochs=3)
    fit(uninterrupted, tmp_path / "uninterrupted")
    by_dev_loss = embedding_trainer(num_epochs=3, select="dev_loss")
    fit(by_dev_loss, tmp_path / "dev_loss")
    interrupted = embedding_trainer(num_epochs=3)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(StopsAtEpoch(32, 0), ToneDataset(16, 1), tmp_path / "interrupted", {})
    resumed = embedding_trainer(num_epochs=3)
    fit(resumed, tmp_path / "interrupted", resume=load_checkpoint(str(tmp_path / "interrupted" / "last.pt")))
    final = {name: load_checkpoint(str(tmp_path / name / "last.pt")) for name in ("uninterrupted", "dev_loss", "interrupted")}
    for name in ("dev_loss", "interrupted"):
        assert final[name]["loss"]["_extra_state"] == final["uninterrupted"]["loss"]["_extra_state"]
        for part in ("model", "loss"):
            for key, value in final["uninterrupted"][part].items():
                if isinstance(value, torch.Tensor):
                    torch.testing.assert_close(final[name][part][key], value, rtol=0, atol=0)


def test_the_logged_rate_is_the_one_the_epoch_trained_at(tmp_path):
    log = ListLog()
    fit(tiny_trainer(log, num_epochs=4, scheduler="plateau", plateau_patience=1, decay_factor=0.5, lr=1e-6), tmp_path / "checkpoints")
    rates, eers = [values["lr"] for _, values in log.values], [values["dev/eer"] for _, values in log.values]
    expected, factor, best = [], 1.0, math.inf
    for eer in eers:  # patience 1: every epoch without a new best halves the rate of the next
        expected.append(1e-6 * factor)
        factor, best = (factor, eer) if eer < best else (factor * 0.5, best)
    assert rates == pytest.approx(expected)


def test_the_last_partial_accumulation_step_averages_the_batches_it_has(tmp_path):
    whole = tiny_trainer(num_epochs=1, batch_size=8, bucket=False, optimizer="sgd", momentum=0.0)
    fit(whole, tmp_path / "whole", train_size=8)
    partial = tiny_trainer(num_epochs=1, batch_size=4, grad_accumulation=4, bucket=False, optimizer="sgd", momentum=0.0)
    fit(partial, tmp_path / "partial", train_size=8)  # two batches of four, one step of the four it could take
    for key, value in parameters(whole).items():
        torch.testing.assert_close(parameters(partial)[key], value, rtol=1e-5, atol=1e-7)


def test_a_loss_that_grows_a_hundredfold_stops_training_with_the_fix_named(tmp_path):
    trainer = tiny_trainer(lr=10.0, num_epochs=2)  # Adam: the loss explodes without becoming inf
    with pytest.raises(TrainingDiverged, match=r"the training loss grew from [0-9.]+ at the start to .* in epoch 1 \(over 100 times\); lower --lr \(it is 10\)"):
        fit(trainer, tmp_path / "checkpoints", train_size=64)
    assert trainer.loss_start == pytest.approx(trainer.first_loss) and 0.3 < trainer.loss_start < 3  # cross-entropy at the start
