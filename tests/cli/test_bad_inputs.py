"""Every user mistake we know of, through the command line (in-process): exit status 2, one line on
stderr naming the problem, no traceback, and nothing written (docs/RELIABILITY.md)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile
import torch

from reporting.results_csv import RESULTS_COLUMNS
from train_and_eval import main

SHORT = ["--limit", "60", "-ep", "1"]
EMBEDDING = ["--classifier", "EmbeddingFF"]


class Files:
    """What a case may build in its folder before the command runs."""

    def __init__(self, root: Path, trained: Path) -> None:
        self.root, self.trained = root, trained

    def file(self, name: str, content: bytes = b"") -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return str(path)

    def folder(self, name: str) -> str:
        (self.root / name).mkdir(parents=True, exist_ok=True)
        return str(self.root / name)

    def wave(self, name: str, samples: int = 8000, scale: float = 0.1) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, (scale * np.random.default_rng(len(name)).standard_normal(samples)).astype(np.float32), 16000, subtype="FLOAT")
        return str(path)

    def corpus(self, rows: dict[str, list[str]] | None = None) -> str:
        """A ProtocolDataset corpus of two bona fide and two spoof waves per split, its protocols
        listing them, or `rows` for the splits it names."""
        root = self.root / "corpus"
        for split in ("train", "dev", "eval"):
            lines = [f"{split}/{index}.wav,{'bonafide' if index < 2 else 'spoof'},s{index % 2}" for index in range(4)]
            for index in range(4):
                self.wave(f"corpus/{split}/{index}.wav")
            lines = (rows or {}).get(split, lines)
            (root / f"protocol_{split}.csv").write_text(
                "\n".join(["path,label,speaker", *lines]) + "\n", encoding="utf-8", errors="surrogateescape"
            )
        return str(root)

    def checkpoint(self, change: Callable[[dict], None]) -> str:
        checkpoint = torch.load(self.trained / "checkpoints" / "best.pt", weights_only=True)
        change(checkpoint)
        torch.save(checkpoint, self.root / "changed.pt")
        return str(self.root / "changed.pt")


class RunsCode:
    """Unpickling this creates a file: a crafted checkpoint."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path(self.path).touch, ())


def crafted(files: Files) -> str:
    torch.save({"model": RunsCode(str(files.root / "ran")), "loss": {}, "arguments": {}, "epoch": 1}, files.root / "crafted.pt")
    return str(files.root / "crafted.pt")


def csv_file(files: Files, content: bytes) -> list[str]:
    return ["--results_csv", files.file("old.csv", content), *SHORT]


def protocol_corpus(**options) -> Callable[[Files], list[str]]:
    return lambda files: ["--dataset", "ProtocolDataset_single", "--data_root", files.corpus(**options), *SHORT]


def dev_row(row: str, *arguments: str, prepare: Callable[[Files], object] = lambda files: None) -> Callable[[Files], list[str]]:
    """A corpus whose dev split (read whole every epoch) lists `row` and one spoof wave (after
    `prepare`), and the arguments that read it."""

    def build(files: Files) -> list[str]:
        prepare(files)
        return [*protocol_corpus(rows={"dev": [row.format(root=files.root), "dev/2.wav,spoof,s0"]})(files), *arguments]

    return build


# (name, arguments (or a function of Files building them), a fragment of the expected message)
CASES: list[tuple[str, list[str] | Callable[[Files], list[str]], str]] = [
    ("lr not a number", ["--lr", "fast"], "'fast' is not a float"),
    ("lr negative", ["--lr", "-1"], "must be greater than 0"),
    ("lr nan", ["--lr", "nan"], "not a finite number"),
    ("no epochs", ["-ep", "0"], "must be greater than 0"),
    ("batch of 0", ["--batch_size", "0"], "must be greater than 0"),
    ("negative seed", ["--seed", "-1"], "must be at least 0"),
    ("seed beyond numpy", ["--seed", "4294967296"], "is too large"),
    ("absurd weight decay", ["--weight_decay", "1e300"], "beyond any useful value"),
    ("negative workers", ["--num_workers", "-2"], "must be at least 0"),
    ("unknown loss", ["--loss", "NoSuchLoss"], "unknown loss 'NoSuchLoss'"),
    ("a loss twice", ["--loss", "CosFace+AMSoftmax", *EMBEDDING], "names a loss twice"),
    ("unknown extractor", ["--extractor", "Nope"], "invalid choice: 'Nope'"),
    ("unknown dataset", ["--dataset", "Nope"], "invalid choice: 'Nope'"),
    ("setting of no chosen component", ["--margin", "0.3"], "--margin does not apply to the chosen components"),
    ("setting with two meanings", ["--loss", "CosFace+ArcFace", *EMBEDDING, "--margin", "0.3"], "read it differently"),
    ("scoped setting of another loss", ["--CosFace.margin", "0.2"], "the loss CosFace is not among the chosen components"),
    ("setting out of range", ["--loss", "ArcFace", *EMBEDDING, "--margin", "4"], "outside the allowed range"),
    ("setting of the wrong type", ["--loss", "ASoftmax", *EMBEDDING, "--margin", "2.5"], "must be an integer for ASoftmax"),
    ("embedding loss on logits", ["--loss", "ArcFace", "--classifier", "FF"], "use --classifier EmbeddingFF"),
    ("pair head without pairs", ["--classifier", "FFDiff"], "needs a pair dataset"),
    ("miner without a pair loss", ["--miner", "BatchHard", "--loss", "ArcFace", *EMBEDDING], "has none"),
    ("weights of one loss", ["--loss_weights", "1,2"], "weighs the losses of a sum"),
    ("non-finite loss weight", ["--loss", "CosFace+CrossEntropy", *EMBEDDING, "--loss_weights", "nan,1"], "every weight must be a finite number"),
    ("too few loss weights", ["--loss", "CosFace+CrossEntropy", *EMBEDDING, "--loss_weights", "1"], "gives 1 weights for the 2 losses"),
    ("loss weights not numbers", ["--loss", "CosFace+CrossEntropy", *EMBEDDING, "--loss_weights", "a,b"], "not a comma-separated list"),
    ("loss weights all zero", ["--loss", "CosFace+CrossEntropy", *EMBEDDING, "--loss_weights", "0,0"], "not all 0"),
    ("unknown augmentation", ["-a", "nope"], "unknown augmentation 'nope'"),
    ("inverted SNR range", ["-a", "noise", "--snr_min", "30", "--snr_max", "10"], "must not exceed --snr_max"),
    ("absurd speed factor", ["-a", "speed", "--speed_factors", "5000"], "between 0.5 and 2"),
    ("crop too short", ["--max_len", "0.02"], "too short for whole frames"),
    ("samples given as seconds", ["--max_len", "64600"], "give seconds (4.0375) or samples"),
    ("length in another unit", ["--eval_max_len", "4s"], "neither seconds (4.0375) nor samples"),
    ("crop without a length", ["--crop", "first"], "add --max_len"),
    ("momentum of adam", ["--momentum", "0.5"], "--momentum applies to --optimizer sgd, not adam"),
    ("nesterov without momentum", ["--optimizer", "sgd", "--nesterov", "--momentum", "0"], "--nesterov needs a momentum"),
    ("exponential without a floor", ["--scheduler", "exponential"], "decays to --min_lr: give it"),
    ("floor above the rate", ["--scheduler", "cosine", "--min_lr", "0.01"], "must be below --lr"),
    ("step setting of another schedule", ["--step_epochs", "3"], "--step_epochs applies to --scheduler step"),
    ("two warm-ups", ["--warmup_epochs", "1", "--warmup_steps", "3"], "not both"),
    ("average without K", ["--average", "best"], "is not best:K or last:K"),
    ("average of more epochs than trained", ["--average", "last:20"], "averages more epochs than --num_epochs"),
    ("class weights as a list", ["--class_weights", "0.1,0.9"], "does not match"),
    ("a class weighed twice", ["--class_weights", "bonafide=0.9,bonafide=0.1", *SHORT], "name every class once"),
    ("limit of one", ["--limit", "1"], "--limit 1 cannot keep every class"),
    ("empty output dir", ["--output_dir", ""], "--output_dir is empty"),
    ("output dir exists", lambda files: ["--output_dir", files.folder("exists"), *SHORT], "already exists"),
    ("output dir under a file", lambda files: ["--output_dir", files.file("plain") + "/run", *SHORT], "which is a file, not a folder"),
    ("output dir in /proc", ["--output_dir", "/proc/ca_mhfa_run", *SHORT], "cannot write in /proc"),
    ("runs dir is a file", lambda files: ["--runs_dir", files.file("plain"), *SHORT], "which is a file, not a folder"),
    ("run name climbing out", ["--run_name", "../../escaped", *SHORT], "is not a plain name"),
    ("results csv is a folder", lambda files: ["--results_csv", files.folder("results"), *SHORT], "is a directory"),
    ("results csv of another tool", lambda files: csv_file(files, b"a,b\n1,2\n"), "has another header"),
    ("results csv not text", lambda files: csv_file(files, b"\xff\xfe\x00garbage"), "is not UTF-8 text"),
    ("results csv with a short row", lambda files: csv_file(files, (",".join(RESULTS_COLUMNS) + "\n1,2\n").encode()), "row 2: 2 fields"),
    ("results csv under a file", lambda files: ["--results_csv", files.file("plain") + "/r.csv", *SHORT], "which is a file"),
    ("asv protocol alone", ["--asv_protocol", "keys.txt"], "add --asv_scores"),
    ("asv scores missing", ["--asv_scores", "/nonexistent/scores.txt"], "is not a file"),
    ("fine-tuning LFCC", ["--finetune"], "--finetune applies to the self-supervised extractors"),
    ("extractor rate without fine-tuning", ["--extractor", "WavLM_base", "--extractor_lr", "1e-5"], "add --finetune"),
    ("weights not in the cache", ["--extractor", "XLSR_300M", *SHORT], "hf download facebook/wav2vec2-xls-r-300m"),
    ("cuda without a gpu", ["--device", "cuda", *SHORT], "no CUDA device is available"),
    ("eval only without checkpoint", ["--eval_only"], "give --checkpoint"),
    ("checkpoint without eval only", ["--checkpoint", "x.pt"], "add --eval_only"),
    ("missing checkpoint", ["--eval_only", "--checkpoint", "none.pt"], "does not exist"),
    ("checkpoint is text", lambda files: ["--eval_only", "--checkpoint", files.file("text.pt", b"hello")], "is not a checkpoint of this tool"),
    ("crafted checkpoint", lambda files: ["--eval_only", "--checkpoint", crafted(files)], "never unpickled"),
    ("checkpoint without its parts", lambda files: ["--eval_only", "--checkpoint", files.checkpoint(lambda c: c.pop("model"))], "no model, loss and arguments"),
    ("checkpoint with malformed arguments", lambda files: ["--eval_only", "--checkpoint", files.checkpoint(lambda c: c.update(arguments="x"))], "do not fit this version"),
    ("checkpoint whose loss does not fit", lambda files: ["--eval_only", "--checkpoint", files.checkpoint(lambda c: c.update(loss={"weight": torch.zeros(3)}))], "loss state does not fit"),
    ("model flag with eval only", lambda files: ["--eval_only", "--checkpoint", str(files.trained / "checkpoints" / "best.pt"), "--processor", "MHFA"], "--processor comes from the checkpoint"),
    ("score folder without eval only", lambda files: ["--score_folder", files.folder("audio")], "add --eval_only"),
    ("score folder without audio", lambda files: ["--eval_only", "--checkpoint", str(files.trained / "checkpoints" / "best.pt"), "--score_folder", files.folder("audio")], "holds no audio file"),
    ("score folder name with a tab", lambda files: ["--eval_only", "--checkpoint", str(files.trained / "checkpoints" / "best.pt"), "--score_folder", str(Path(files.wave("audio/a\tb.wav")).parent)], "holds a tab or a line break"),
    ("corpus not there", lambda files: ["--dataset", "ASVspoof2019LADataset_single", "--data_root", files.folder("empty"), *SHORT], "not found"),
    ("protocol not UTF-8", protocol_corpus(rows={"train": ["train/0.wav,bonafide,caf\udce9"]}), "is not UTF-8 text"),
    ("protocol with a header only", protocol_corpus(rows={"dev": []}), "holds no utterance"),
    ("protocol of one class", protocol_corpus(rows={"eval": ["eval/0.wav,bonafide,s0"]}), "holds only bonafide utterances"),
    ("protocol label unknown", protocol_corpus(rows={"train": ["train/0.wav,maybe,s0"]}), "label 'maybe' is not"),
    ("protocol path climbing out", dev_row("../outside/secret.wav,bonafide,s0", prepare=lambda f: f.wave("outside/secret.wav")), "outside --data_root"),
    ("protocol path absolute", dev_row("{root}/elsewhere/x.wav,bonafide,s0", prepare=lambda f: f.wave("elsewhere/x.wav")), "outside --data_root"),
    ("protocol row too short", protocol_corpus(rows={"train": ["train/0.wav"]}), "1 fields where the header has 3"),
    ("audio is a folder", dev_row("dev/x.wav,bonafide,s0", prepare=lambda f: f.folder("corpus/dev/x.wav")), "is a folder, not an audio file"),
    ("audio far beyond full scale", dev_row("dev/loud.wav,bonafide,s0", prepare=lambda f: f.wave("corpus/dev/loud.wav", scale=1e30)), "far beyond full scale"),
    ("audio missing", dev_row("dev/none.wav,bonafide,s0"), "missing (no such file)"),
    ("audio shorter than a frame", dev_row("dev/tiny.wav,bonafide,s0", prepare=lambda f: f.wave("corpus/dev/tiny.wav", samples=100)), "shorter than the front-end's first frame"),
    ("bad audio in a worker", dev_row("dev/none.wav,bonafide,s0", "--num_workers", "2"), "missing (no such file)"),
    ("audio is a fifo", dev_row("dev/pipe.wav,bonafide,s0", prepare=lambda f: (f.folder("corpus/dev"), os.mkfifo(f.root / "corpus" / "dev" / "pipe.wav"))), "is not a regular file"),
    ("resume of no run", lambda files: ["--resume", files.folder("nothing")], "is not a run directory"),
    ("resume with a new flag", lambda files: ["--resume", str(files.trained), "--lr", "0.1"], "a resumed run keeps its own arguments"),
    ("resume of a finished run", lambda files: ["--resume", str(files.trained)], "the run has finished"),
]


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    assert main([*SHORT, "--data_root", str(data_root), "--output_dir", str(run_dir), "--results_csv", str(run_dir.parent / "results.csv")]) == 0
    return run_dir


def files_under(root: Path) -> dict[str, bytes | None]:
    return {str(path.relative_to(root)): (path.read_bytes() if path.is_file() else None) for path in root.rglob("*") if not path.is_fifo()}


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60 and len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("arguments, message", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_mistake_exits_2_with_one_line_and_writes_nothing(arguments, message, trained, data_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CA_MHFA_DATA_ROOT", str(data_root))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_hf_cache"))
    if callable(arguments):
        arguments = arguments(Files(tmp_path, trained))
    before = files_under(tmp_path)
    try:
        code = main(arguments)
    except SystemExit as exit:
        code = exit.code
    error = capsys.readouterr().err
    assert code == 2, error
    assert error.count("\n") == 1 and "Traceback" not in error, error
    assert message in error, error
    assert files_under(tmp_path) == before  # no run directory, results row or stray file
    assert not (tmp_path / "ran").exists()
