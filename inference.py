"""Using a trained countermeasure: load it from a run directory, a checkpoint or the authors' released
weights of a reference model, score waves and audio files, export it to TorchScript or ONNX.

    from inference import load_countermeasure
    countermeasure = load_countermeasure("runs/<run>")          # or a checkpoint, or released weights
    countermeasure.score_files(["a.flac", "b.wav"])              # {"a.flac": 2.31, "b.wav": -4.02}
    countermeasure.score_wave(samples, sample_rate=16000)        # higher = bona fide
    countermeasure.probabilities(scores)                         # a run trained with --calibrate: P(bona fide)

Scores are the run's own: its loss's scoring rule on the first --eval_max_len of each wave when the
run scored that way, batched as the run scored (its batch size, length buckets, precision).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from calibration import LinearCalibration
from common import REFERENCE_MODELS
from conventions import SAMPLE_RATE, UsageError
from datasets.audio import at_sample_rate
from datasets.base import AudioDataset
from datasets.folder import FileListDataset, WaveListDataset
from losses.base import BaseLoss
from model import Countermeasure, build_model
from parse_arguments import adopt_checkpoint, parse_arguments, recorded_arguments
from published_weights import recognise_published_weights
from reporting.report import CALIBRATION_FILE
from reporting.run_log import RunLog
from training.checkpoints import is_checkpoint, read_weights_file
from training.scoring import ScoreTable
from training.trainer import Trainer, TrainingSettings

EXPORT_FORMATS = ("onnx", "torchscript")
EXPORT_TOLERANCE = 1e-4  # largest difference between the exported model's scores and PyTorch's, relative to their scale


def load_model_file(path: str, flag: str = "--checkpoint") -> dict[str, Any]:
    """A checkpoint of this tool, or the authors' released weights of a reference model as one: epoch
    0, no loss state, and the arguments of a run of that model at its default settings that scores
    as the authors do (`ReferenceModel.scoring_flags`); its "published" entry names the model."""
    content = read_weights_file(path, flag)
    if is_checkpoint(content):
        return content
    published = recognise_published_weights(content, f"{flag} {path}")
    reference = REFERENCE_MODELS[published.model]
    flags = ["--extractor", reference.extractor, "--processor", reference.processor, "--classifier", reference.classifier]
    arguments = recorded_arguments(parse_arguments([*flags, *reference.scoring_flags]))
    return {"epoch": 0, "model": published.state, "loss": None, "arguments": arguments, "published": published.model}


def restore(model: Countermeasure, loss: BaseLoss, checkpoint: dict[str, Any], source: str) -> None:
    """The model's and the loss's state from `checkpoint` (load_model_file; released weights carry no loss state)."""
    model.load_trainable_state_dict(checkpoint["model"])
    if checkpoint["loss"] is None:
        return
    try:
        loss.load_state_dict(checkpoint["loss"])
    except RuntimeError as error:
        message = " ".join(str(error).split())
        raise UsageError(f"{source}: its loss state does not fit the loss built from its arguments ({message})") from None


def checkpoint_path(path: str | Path) -> Path:
    """The model a run directory evaluated (checkpoints/average.pt when it averaged epochs, else
    checkpoints/best.pt), or the file itself."""
    path = Path(path)
    if not path.is_dir():
        return path
    average = path / "checkpoints" / "average.pt"
    return average if average.is_file() else path / "checkpoints" / "best.pt"


class ScoringModule(nn.Module):
    """wave [B, T] (16 kHz, zero-padded) and lengths [B] (samples) -> scores [B], higher = bona fide:
    the countermeasure and its loss's scoring rule as one module, for export."""

    def __init__(self, model: Countermeasure, loss: BaseLoss) -> None:
        super().__init__()
        self.model, self.loss = model, loss

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.loss.score(self.model(wave, lengths))


def run_calibration_file(checkpoint: Path) -> Path | None:
    """<run>/CALIBRATION_FILE of the run that wrote `checkpoint` (<run>/checkpoints/*.pt), None when there is none."""
    path = checkpoint.parent.parent / CALIBRATION_FILE
    return path if checkpoint.parent.name == "checkpoints" and path.is_file() else None


def read_calibration(path: str | Path) -> LinearCalibration:
    """A calibration written by train_and_eval.py --calibrate (CALIBRATION_FILE); UsageError for any other file."""
    path = Path(path)
    try:
        calibration = LinearCalibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise UsageError(f"calibration {path} cannot be read ({error.strerror})") from None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not a {CALIBRATION_FILE} written by train_and_eval.py --calibrate ({error})") from None
    if calibration.n_columns != 1:
        raise UsageError(f"{path} maps {calibration.n_columns} score columns (a fusion); a model's calibration maps one")
    return calibration


class TrainedCountermeasure:
    """A trained model with its loss's scoring rule, in eval mode, scoring as its run scored; with
    the run's calibration (train_and_eval.py --calibrate) when it has one."""

    def __init__(
        self, model: Countermeasure, loss: BaseLoss, arguments: argparse.Namespace, device: torch.device,
        calibration: LinearCalibration | None = None,
    ) -> None:
        self.model, self.loss, self.arguments, self.device = model.to(device).eval(), loss.to(device).eval(), arguments, device
        self.calibration = calibration
        self.trainer = Trainer(self.model, self.loss, TrainingSettings.from_arguments(arguments), device, RunLog(None))

    @property
    def description(self) -> str:
        """The model's stages, e.g. "LFCC -> Mean -> FF -> CrossEntropy"."""
        args = self.arguments
        return f"{args.extractor} -> {args.processor} -> {args.classifier} -> {args.loss}"

    def score_dataset(self, dataset: AudioDataset, name: str = "files") -> ScoreTable:
        """Every utterance of `dataset` scored; bad audio raises BadAudioError (or is skipped and
        listed in `self.trainer.skipped[name]` when dataset.on_bad_audio is "skip")."""
        if self.model.uses_reference:
            raise UsageError(
                f"the model's classifier {self.arguments.classifier} compares each trial with a bona fide reference "
                "of its speaker, which single recordings do not have; score it on a corpus with train_and_eval.py --eval_only"
            )
        self.trainer.skipped.pop(name, None)
        dataset.min_length = self.model.extractor.min_samples
        if self.arguments.eval_max_len is not None:
            dataset.configure_scoring(round(self.arguments.eval_max_len * SAMPLE_RATE))
        return self.trainer.score(dataset, None, name)

    def score_files(self, paths: Sequence[str | Path]) -> dict[str, float]:
        """{path as given: score} for audio files (any rate, mono or averaged channels)."""
        table = self.score_dataset(FileListDataset(paths))
        return dict(zip(table.utt_ids, table.scores.tolist()))

    def score_waves(self, waves: Sequence[np.ndarray | torch.Tensor], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """One score per wave (mono [T] at `sample_rate` Hz): float64 [N]."""
        arrays = [np.asarray(torch.as_tensor(wave, dtype=torch.float32).cpu()) for wave in waves]
        for index, wave in enumerate(arrays):
            if wave.ndim != 1 or wave.size == 0:
                raise UsageError(f"wave {index} has shape {wave.shape}; give mono samples [T]")
        return self.score_dataset(WaveListDataset([at_sample_rate(wave, sample_rate) for wave in arrays]), "waves").scores

    def score_wave(self, wave: np.ndarray | torch.Tensor, sample_rate: int = SAMPLE_RATE) -> float:
        """The score of one mono wave [T] at `sample_rate` Hz."""
        return float(self.score_waves([wave], sample_rate)[0])

    def llrs(self, scores: np.ndarray | Sequence[float]) -> np.ndarray:
        """Natural-log likelihood ratios (bona fide vs spoof) of this model's scores [N], through the run's
        calibration fitted on dev; UsageError when the run has none."""
        if self.calibration is None:
            raise UsageError("this model has no calibration: train its run with train_and_eval.py --calibrate, or give the "
                             f"{CALIBRATION_FILE} of an --eval_only --calibrate run of it")
        return self.calibration.apply(np.asarray(scores, dtype=np.float64))

    def probabilities(self, scores: np.ndarray | Sequence[float], prior: float = 0.5) -> np.ndarray:
        """P(bona fide | score) [N] of this model's scores at the bona fide `prior`: sigmoid(llr + logit(prior))."""
        if not 0.0 < prior < 1.0:
            raise UsageError(f"prior {prior} must lie strictly between 0 and 1")
        return expit(self.llrs(scores) + math.log(prior / (1.0 - prior)))

    def export(self, path: str | Path, export_format: str) -> Path:
        """The model and its scoring rule as `path` (ONNX, or TorchScript traced): inputs wave [B, T]
        float32 and lengths [B] int64, output scores [B], any batch size and length. The exported
        model is checked against this one on batches of other sizes and lengths than the one it was
        traced with; a model whose computation the format cannot express is refused (UsageError)
        and nothing is left at `path`."""
        if export_format not in EXPORT_FORMATS:
            raise UsageError(f"--export {export_format}: give one of {', '.join(EXPORT_FORMATS)}")
        if self.model.uses_reference:
            raise UsageError(f"--export: the classifier {self.arguments.classifier} needs a bona fide reference per trial; export a single-input model")
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")  # renamed to `path` once checked
        module = ScoringModule(self.model, self.loss).to("cpu").eval()
        try:
            check_export(module, partial, export_format)
            os.replace(partial, path)
        except ExportMismatch as error:
            raise UsageError(f"--export {export_format}: {self.description} does not export faithfully: {error}; score with score.py instead") from None
        except Exception as error:  # the exporters raise many types for a computation they cannot express
            reason = exporter_reason(error)
            raise UsageError(
                f"--export {export_format}: {self.description} cannot be exported ({reason}); score with score.py instead"
            ) from None
        finally:
            partial.unlink(missing_ok=True)
            self.model.to(self.device)
        return path


def check_export(module: ScoringModule, path: Path, export_format: str) -> None:
    """Exports `module` to `path`, traced on a batch of two lengths, then runs the file on batches of
    other sizes and lengths: ExportMismatch when its scores are not the module's."""
    run_exported = (_export_onnx if export_format == "onnx" else _export_torchscript)(module, example_batch([16000, 12000], seed=0), path)
    for lengths, seed in (([20000, 8000, 16000], 1), ([32000], 2)):
        check = example_batch(lengths, seed)
        with torch.no_grad():
            expected = module(*check).double().numpy()
        difference = float(np.abs(run_exported(*check) - expected).max())
        if not difference <= EXPORT_TOLERANCE * max(1.0, float(np.abs(expected).max())):
            raise ExportMismatch(f"its scores differ from the model's by up to {difference:.3g} on other lengths")


def exporter_reason(error: Exception) -> str:
    """An exporter's error in one short line: torch.export's own cause (its "Exception summary"), else
    the first line, without terminal colours."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    summary = re.search(r"Exception summary\s+(.+)", text)
    line = summary.group(1) if summary else (text.strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {line.strip()[:200]}"


class ExportMismatch(Exception):
    """The exported model's scores are not the model's."""


def example_batch(lengths: list[int], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A zero-padded batch of noise waves of `lengths` samples: (wave [B, T], lengths [B])."""
    generator = torch.Generator().manual_seed(seed)
    wave = 0.1 * torch.randn(len(lengths), max(lengths), generator=generator)
    lengths_tensor = torch.tensor(lengths)
    wave[torch.arange(wave.shape[1]) >= lengths_tensor[:, None]] = 0.0
    return wave, lengths_tensor


ExportedModel = Callable[[torch.Tensor, torch.Tensor], np.ndarray]  # (wave, lengths) -> float64 scores


def _export_onnx(module: ScoringModule, example: tuple[torch.Tensor, torch.Tensor], path: Path) -> ExportedModel:
    import onnxruntime  # here: scoring never needs it

    batch, time = torch.export.Dim("batch", min=1), torch.export.Dim("time", min=2)
    exporter_log = logging.getLogger("torch")
    level = exporter_log.level
    exporter_log.setLevel(logging.CRITICAL)  # its notes on operators we do not use and on failed attempts
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, example, str(path), dynamo=True, external_data=False, input_names=["wave", "lengths"],
                output_names=["score"], dynamic_shapes={"wave": {0: batch, 1: time}, "lengths": {0: batch}},
            )
    finally:
        exporter_log.setLevel(level)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda wave, lengths: session.run(None, {"wave": wave.numpy(), "lengths": lengths.numpy()})[0].astype(np.float64)


def _export_torchscript(module: ScoringModule, example: tuple[torch.Tensor, torch.Tensor], path: Path) -> ExportedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
        traced.save(str(path))
        loaded = torch.jit.load(str(path))

    def run(wave: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return loaded(wave, lengths).double().numpy()

    return run


def load_countermeasure(
    path: str | Path, device: str | torch.device = "cpu", name: str = "checkpoint", calibration: str | Path | None = None
) -> TrainedCountermeasure:
    """A trained countermeasure from a run directory (the model it evaluated: checkpoint_path), a checkpoint, or the
    authors' released weights of a reference model (README: Reference models), with the `calibration` file
    given, else its run's when it has one (run_calibration_file); `name` names `path` in errors.
    Self-supervised extractors load their pretrained weights as the run did
    (--extractor_path, or the local cache)."""
    source = checkpoint_path(path)
    checkpoint = load_model_file(str(source), name)
    args = parse_arguments(["--eval_only", "--checkpoint", str(source)])
    adopt_checkpoint(args, checkpoint["arguments"])
    model, loss = build_model(args)
    restore(model, loss, checkpoint, f"{name} {source}")
    calibration = calibration or run_calibration_file(source)
    return TrainedCountermeasure(model, loss, args, torch.device(device), read_calibration(calibration) if calibration else None)
