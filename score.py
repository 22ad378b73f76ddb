"""Score audio files with a trained countermeasure, or export it.

    python score.py runs/<run> recordings/ one.flac       # path<TAB>score lines, higher = bona fide
    python score.py runs/<run> recordings/ --output scores.txt
    python score.py runs/<run> one.flac --probability   # path<TAB>score<TAB>P(bona fide), a run trained with --calibrate
    python score.py runs/<run> --export onnx --output model.onnx

MODEL is a run directory (the model it evaluated: checkpoints/average.pt or best.pt), a checkpoint, or the authors' released weights of
a reference model (AASIST.pth, AASIST-L.pth, RawNet2's). A folder is scored recursively (wav, flac,
ogg, mp3), as train_and_eval.py --score_folder scores one.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import torch

from conventions import UsageError, one_line
from datasets.audio import BadAudioError
from datasets.folder import AUDIO_SUFFIXES, FileListDataset, audio_files_under
from inference import EXPORT_FORMATS, load_countermeasure
from parse_arguments import OneLineErrorParser
from reporting.files import atomic_write_text, check_writable_location
from reporting.score_files import folder_scores_text


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="score.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", metavar="MODEL", help="a run directory, a checkpoint, or released weights of a reference model")
    parser.add_argument("inputs", nargs="*", metavar="FILE_OR_FOLDER", help="audio files, and folders scored recursively")
    parser.add_argument("--output", metavar="FILE", help="write the scores (or the exported model) here (default: scores to stdout)")
    parser.add_argument("--export", choices=EXPORT_FORMATS, help="write the model as ONNX or TorchScript to --output instead of scoring")
    parser.add_argument("--probability", action="store_true", help="a third column: the probability of bona fide (prior 0.5) from the run's calibration (train_and_eval.py --calibrate)")
    parser.add_argument("--calibration", metavar="FILE", help="with --probability: the calibration.json of another run (an --eval_only --calibrate run of this model)")
    parser.add_argument("--on_bad_audio", choices=("error", "skip"), default="error", help="an unreadable file: stop (error) or leave it out, named on stderr (skip)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="(default: cpu)")
    return parser


def input_files(inputs: Sequence[str]) -> list[Path]:
    """The files given, and the audio files under each folder given, in the order given."""
    files: list[Path] = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            found, outside = audio_files_under(path, "score.py")
            if outside:
                print(f"score.py: not scored: {len(outside)} link(s) to files outside {path}: {' '.join(outside)}", file=sys.stderr)
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{name} is neither an audio file nor a folder; give files ({', '.join(AUDIO_SUFFIXES)}) or folders")
    if not files:
        raise UsageError(f"no audio file ({', '.join(AUDIO_SUFFIXES)}) in {' '.join(inputs)}")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.export is not None and (args.inputs or args.output is None):
            raise UsageError("--export writes the model to --output and scores nothing; give MODEL --export FORMAT --output FILE")
        if args.export is None and not args.inputs:
            raise UsageError("give the audio files or folders to score after MODEL (or --export FORMAT --output FILE)")
        if args.export is not None and args.probability:
            raise UsageError("--probability is a column of the scores; --export writes the model (its scores, uncalibrated)")
        if args.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA device is available; use --device cpu")
        if args.output is not None:
            check_writable_location(Path(args.output), "--output")
        files = input_files(args.inputs) if args.export is None else []
        if args.calibration and not args.probability:
            raise UsageError("--calibration gives the probabilities of --probability; add --probability")
        countermeasure = load_countermeasure(args.model, args.device, "MODEL", args.calibration)
        if args.probability and countermeasure.calibration is None:
            raise UsageError(f"--probability: {args.model} has no calibration.json in its run directory; train the run with "
                             "train_and_eval.py --calibrate, or give --calibration <an --eval_only --calibrate run>/calibration.json")
        if args.export is not None:
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            print(f"score.py: {countermeasure.export(args.output, args.export)} ({args.export}, {countermeasure.description})", file=sys.stderr)
            return 0
        dataset = FileListDataset(files)
        dataset.on_bad_audio = args.on_bad_audio
        table = countermeasure.score_dataset(dataset)
    except (UsageError, BadAudioError) as error:
        fix = "; fix or remove the file, or pass --on_bad_audio skip" if isinstance(error, BadAudioError) else ""
        print(f"score.py: error: {one_line(error)}{fix}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("score.py: interrupted; nothing was written", file=sys.stderr)
        return 130
    skipped = sorted(countermeasure.trainer.skipped.get("files", ()))
    if skipped:
        print(f"score.py: skipped as bad audio: {' '.join(skipped)}", file=sys.stderr)
    lines = folder_scores_text(table, countermeasure.probabilities(table.scores) if args.probability else None)
    if args.output is None:
        sys.stdout.write(lines)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(args.output), lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
