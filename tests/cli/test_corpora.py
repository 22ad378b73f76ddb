"""The seed command on a fake ASVspoof 2019 LA corpus (Synthetic utterances written in the official
layout as flac), bad audio handled both ways, and training-time crops and augmentation."""
import json

import numpy as np
import pytest

from metrics import compute_min_tdcf, read_asv_scores
from train_and_eval import main

def run(tmp_path, la2019_root, capsys, *arguments: str, expect: int = 0) -> dict | None:
    output_dir = tmp_path / "run"
    code = main([*arguments, "-ep", "2", "--data_root", str(la2019_root), "--output_dir", str(output_dir),
                 "--results_csv", str(tmp_path / "results.csv")])
    error = capsys.readouterr().err
    assert code == expect, error
    return json.loads((output_dir / "metrics.json").read_text()) if expect == 0 else error


@pytest.mark.parametrize(
    "head",
    [
        ["--classifier", "FF"],
        ["--classifier", "EmbeddingFF", "--loss", "AdditiveAngularMargin", "--margin", "0.3"],
        ["--classifier", "FFDiff"],
    ],
)
def test_seed_command_with_lfcc_on_the_2019_la_layout(head, tmp_path, la2019_root, capsys):
    metrics = run(tmp_path, la2019_root, capsys, "--local", "--dataset", "ASVspoof2019LADataset_pair",
                  "--extractor", "LFCC", "--processor", "MHFA", *head)
    assert set(metrics["eval"]["eer_per_attack"]) == {"A01", "A02", "A03", "A04", "A05", "pooled"}
    assert (tmp_path / "run" / "scores" / "eval.txt").read_text().count("\n") == 60
    assert "references: 60 pairs" in (tmp_path / "run" / "train.log").read_text()


@pytest.fixture
def corrupt_root(la2019_root, tmp_path):
    """The fake corpus with one dev file (every dev file is read each epoch) replaced by bytes that are not audio."""
    root = linked_copy(la2019_root, tmp_path / "corrupt")
    broken = sorted((root / "LA" / "ASVspoof2019_LA_dev" / "flac").glob("*.flac"))[0]
    broken.unlink()
    broken.write_bytes(b"not a flac file")
    return root, broken


def test_bad_audio_stops_the_run_naming_the_file(corrupt_root, tmp_path, capsys):
    root, broken = corrupt_root
    error = run(tmp_path, root, capsys, "--dataset", "ASVspoof2019LADataset_single", expect=2)
    assert error.count("\n") == 1 and str(broken) in error and "--on_bad_audio skip" in error
    assert not (tmp_path / "run").exists() and not (tmp_path / "results.csv").exists()


def test_bad_audio_is_skipped_listed_and_counted(corrupt_root, tmp_path, capsys):
    root, broken = corrupt_root
    metrics = run(tmp_path, root, capsys, "--dataset", "ASVspoof2019LADataset_single", "--on_bad_audio", "skip")
    assert metrics["skipped_bad_audio"] == {"dev": 1}
    assert broken.stem in (tmp_path / "run" / "train.log").read_text()


def test_crops_and_augmentation_train_and_are_recorded(tmp_path, la2019_root, capsys):
    metrics = run(tmp_path, la2019_root, capsys, "--dataset", "ASVspoof2019LADataset_single",
                  "--max_len", "1.5", "-a", "rawboost,noise", "--algo", "3")
    assert 0 <= metrics["eval"]["eer"] <= 1
    row = (tmp_path / "results.csv").read_text().splitlines()[1]
    assert "augment=rawboost+noise" in row and "max_len=1.5" in row
    assert "frozen extractor" in (tmp_path / "run" / "train.log").read_text()


def linked_copy(source, target):
    """`target` holding symbolic links to every file of `source`."""
    for path in source.rglob("*"):
        if path.is_file():
            link = target / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    return target


def test_min_tdcf_with_the_organisers_asv_scores_in_their_place(tmp_path, la2019_root, capsys):
    root = linked_copy(la2019_root, tmp_path / "with_asv")
    generator = np.random.default_rng(0)
    lines = [f"bonafide target {score}" for score in generator.normal(3, 1, 50)]
    lines += [f"bonafide nontarget {score}" for score in generator.normal(-3, 1, 200)]
    lines += [f"A01 spoof {score}" for score in generator.normal(1, 1, 100)]
    asv_file = root / "LA" / "ASVspoof2019_LA_asv_scores" / "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt"
    asv_file.parent.mkdir(parents=True)
    asv_file.write_text("\n".join(lines) + "\n")
    metrics = run(tmp_path, root, capsys, "--dataset", "ASVspoof2019LADataset_single")
    scores = [line.split() for line in (tmp_path / "run" / "scores" / "eval.txt").read_text().splitlines()]
    bonafide = [float(s) for _, _, key, s in scores if key == "bonafide"]
    spoof = [float(s) for _, _, key, s in scores if key == "spoof"]
    expected, _ = compute_min_tdcf(bonafide, spoof, *read_asv_scores(asv_file), variant="2019")
    assert metrics["eval"]["min_tdcf"] == pytest.approx(expected) and "min_tdcf" not in metrics["dev"]
    assert "dev: no ASV scores at" in (tmp_path / "run" / "train.log").read_text()


def test_a_mistake_found_after_training_keeps_the_checkpoints(tmp_path, la2019_root, capsys):
    root = linked_copy(la2019_root, tmp_path / "missing_eval_file")
    missing = sorted((root / "LA" / "ASVspoof2019_LA_eval" / "flac").glob("*.flac"))[0]
    missing.unlink()
    error = run(tmp_path, root, capsys, "--dataset", "ASVspoof2019LADataset_single", expect=2)
    assert missing.name in error and "checkpoints of the training are kept" in error
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file() and not (tmp_path / "results.csv").exists()
