"""--eval_only: a trained model scores a dataset again, identically, without training."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from conventions import SAMPLE_RATE, UsageError
from datasets.synthetic import SyntheticDataset
from parse_arguments import parse_arguments
from train_and_eval import main

SHORT_RUN = ["--limit", "60", "-ep", "2", "--classifier", "EmbeddingFF", "--loss", "ArcFace", "--margin", "0.3"]


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    """The run directory of a short training run."""
    run_dir = tmp_path_factory.mktemp("trained") / "train"
    code = main([*SHORT_RUN, "--data_root", str(data_root), "--results_csv", str(run_dir.parent / "results.csv"),
                 "--output_dir", str(run_dir)])
    assert code == 0
    return run_dir


def test_eval_only_reproduces_the_scores_of_the_run(trained, data_root, tmp_path, capsys):
    common = ["--data_root", str(data_root), "--results_csv", str(tmp_path / "results.csv")]
    shutil.copy(trained.parent / "results.csv", tmp_path / "results.csv")
    checkpoint = trained / "checkpoints" / "best.pt"
    code = main(["--eval_only", "--checkpoint", str(checkpoint), "--limit", "60", *common, "--output_dir", str(tmp_path / "eval")])
    assert code == 0, capsys.readouterr().err
    for split in ("dev", "eval"):
        assert (tmp_path / "eval" / "scores" / f"{split}.txt").read_text() == (trained / "scores" / f"{split}.txt").read_text()
    assert not (tmp_path / "eval" / "checkpoints").exists()
    rows = (tmp_path / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].split(",")[12:14] == rows[2].split(",")[12:14]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--eval_only"], "give --checkpoint"),
        (["--checkpoint", "x.pt"], "add --eval_only"),
        (["--eval_only", "--checkpoint", "x.pt", "--processor", "MHFA"], "--processor comes from the checkpoint"),
        (["--eval_only", "--checkpoint", "x.pt", "--margin", "0.2"], "--margin comes from the checkpoint"),
        (["--eval_only", "--checkpoint", "x.pt", "--init_from", "x.pt"], "--init_from starts a training; with --eval_only give"),
    ],
)
def test_eval_only_flags_are_checked(arguments, message):
    with pytest.raises(UsageError, match=message):
        parse_arguments(arguments)


def test_eval_only_scores_what_the_run_scored_unless_told_otherwise(trained, data_root, tmp_path, capsys):
    """The run trained with --limit 60: without --limit, --eval_only takes it from the checkpoint."""
    checkpoint = str(trained / "checkpoints" / "best.pt")
    files = ["--data_root", str(data_root), "--results_csv", str(tmp_path / "results.csv")]
    assert main(["--eval_only", "--checkpoint", checkpoint, *files, "--output_dir", str(tmp_path / "same")]) == 0, capsys.readouterr().err
    assert (tmp_path / "same" / "scores" / "eval.txt").read_text() == (trained / "scores" / "eval.txt").read_text()
    assert "as the run scored: --limit 60" in (tmp_path / "same" / "train.log").read_text()
    assert main(["--eval_only", "--checkpoint", checkpoint, *files, "--limit", "80", "--output_dir", str(tmp_path / "other")]) == 0
    assert len((tmp_path / "other" / "scores" / "eval.txt").read_text().splitlines()) == 80


def test_score_folder_follows_no_link_out_of_it_and_lists_files_too_short_to_score(trained, tmp_path, capsys):
    folder, elsewhere = tmp_path / "recordings", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    soundfile.write(folder / "speech.wav", noise, SAMPLE_RATE)
    soundfile.write(folder / "click.wav", noise[:100], SAMPLE_RATE)
    soundfile.write(elsewhere / "secret.wav", noise, SAMPLE_RATE)
    (folder / "link.wav").symlink_to(elsewhere / "secret.wav")
    checkpoint = ["--eval_only", "--checkpoint", str(trained / "checkpoints" / "best.pt"), "--score_folder", str(folder)]
    assert main([*checkpoint, "--output_dir", str(tmp_path / "strict")]) == 2
    assert "click.wav: 100 samples, shorter than the front-end's first frame (512)" in capsys.readouterr().err
    assert main([*checkpoint, "--on_bad_audio", "skip", "--output_dir", str(tmp_path / "run")]) == 0
    assert [line.split("\t")[0] for line in (tmp_path / "run" / "scores" / "folder.txt").read_text().splitlines()] == ["speech.wav"]
    log = (tmp_path / "run" / "train.log").read_text()
    assert "not scored: 1 link(s) to files outside" in log and "link.wav" in log and "click.wav" in log


def test_a_missing_or_foreign_checkpoint_exits_2(tmp_path, capsys):
    assert main(["--eval_only", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "text.pt").write_text("not a checkpoint")
    assert main(["--eval_only", "--checkpoint", str(tmp_path / "text.pt")]) == 2
    assert "is not a checkpoint" in capsys.readouterr().err


def test_score_folder_scores_every_audio_file_like_the_dataset_run(trained, data_root, tmp_path, capsys):
    evaluation = SyntheticDataset("eval", data_root)
    run_scores = {line.split()[0]: float(line.split()[3]) for line in (trained / "scores" / "eval.txt").read_text().splitlines()}
    chosen = [u for u in evaluation.utterances if u.utt_id in run_scores][:3]
    folder = tmp_path / "recordings"
    (folder / "nested dir").mkdir(parents=True)
    for index, utterance in enumerate(chosen):
        where = folder / ("nested dir" if index else "") / f"{utterance.utt_id}.{'flac' if index else 'wav'}"
        soundfile.write(where, evaluation.read_wave(utterance), SAMPLE_RATE, subtype="FLOAT" if index == 0 else "PCM_16")
    (folder / "notes.txt").write_text("not audio")
    code = main(["--eval_only", "--checkpoint", str(trained / "checkpoints" / "best.pt"), "--score_folder", str(folder),
                 "--output_dir", str(tmp_path / "folder"), "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    lines = [line.split("\t") for line in (tmp_path / "folder" / "scores" / "folder.txt").read_text().splitlines()]
    assert [path for path, _ in lines] == sorted(
        [f"{chosen[0].utt_id}.wav", f"nested dir/{chosen[1].utt_id}.flac", f"nested dir/{chosen[2].utt_id}.flac"]
    )
    scores = {path.split("/")[-1].split(".")[0]: float(score) for path, score in lines}
    np.testing.assert_allclose(scores[chosen[0].utt_id], run_scores[chosen[0].utt_id], rtol=1e-5, atol=1e-5)
    for utterance in chosen[1:]:  # 16-bit files: the same wave up to the Synthetic corpus's own int16 storage
        np.testing.assert_allclose(scores[utterance.utt_id], run_scores[utterance.utt_id], rtol=1e-4, atol=1e-4)
    assert not (tmp_path / "results.csv").exists()


def test_score_folder_needs_eval_only_and_an_audio_folder(tmp_path, trained, capsys):
    with pytest.raises(UsageError, match="add --eval_only"):
        parse_arguments(["--score_folder", str(tmp_path)])
    assert main(["--eval_only", "--checkpoint", str(trained / "checkpoints" / "best.pt"), "--score_folder", str(tmp_path),
                 "--output_dir", str(tmp_path / "out")]) == 2
    assert "holds no audio file" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_checkpoint_from_before_newer_flags_still_scores(trained, tmp_path, capsys):
    checkpoint = torch.load(trained / "checkpoints" / "best.pt", weights_only=True)
    for flag in ("extractor_path", "finetune", "extractor_lr", "max_len", "augment"):
        del checkpoint["arguments"][flag]
    del checkpoint["arguments"]["hyper_parameters"]["augmentation"]
    torch.save(checkpoint, tmp_path / "old.pt")
    code = main(["--eval_only", "--checkpoint", str(tmp_path / "old.pt"), "--limit", "60", "--data_root",
                 checkpoint["arguments"]["data_root"], "--output_dir", str(tmp_path / "eval"), "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "eval" / "scores" / "eval.txt").read_text() == (trained / "scores" / "eval.txt").read_text()


def test_a_checkpoint_with_the_older_flattened_settings_of_combined_still_scores(data_root, tmp_path, capsys):
    """Before each loss had its own section, Combined's settings held its embedding loss's values too."""
    run_dir = tmp_path / "train"
    code = main(["--loss", "Combined", "--classifier", "EmbeddingFF", "--proxy_type", "CosFace", "--margin", "0.2",
                 "--limit", "60", "-ep", "1", "--data_root", str(data_root), "--output_dir", str(run_dir),
                 "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    checkpoint = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    sections = checkpoint["arguments"]["hyper_parameters"]["loss"]
    assert sections == {
        "Combined": {"lambda_combined": 0.5, "class_weights": None, "proxy_type": "CosFace"},
        "CosFace": {"margin": 0.2, "s": 30.0},
    }
    older = {"lambda_combined": 0.5, "proxy_type": "CosFace", **sections["CosFace"]}  # before sections and class weights
    checkpoint["arguments"]["hyper_parameters"]["loss"] = {"Combined": older}
    torch.save(checkpoint, tmp_path / "old.pt")
    code = main(["--eval_only", "--checkpoint", str(tmp_path / "old.pt"), "--limit", "60", "--data_root", str(data_root),
                 "--output_dir", str(tmp_path / "eval"), "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "eval" / "scores" / "eval.txt").read_text() == (run_dir / "scores" / "eval.txt").read_text()


def test_a_checkpoint_that_needs_arbitrary_unpickling_is_refused_and_not_run(tmp_path, capsys):
    marker = tmp_path / "ran"
    torch.save({"model": RunsCode(str(marker)), "loss": {}, "arguments": {}, "epoch": 1}, tmp_path / "crafted.pt")
    assert main(["--eval_only", "--checkpoint", str(tmp_path / "crafted.pt"), "--output_dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "never unpickled" in error and "Traceback" not in error
    assert not marker.exists() and not (tmp_path / "out").exists()


class RunsCode:
    """Unpickling this would create the file `path` (pathlib's touch through a reduce call)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path(self.path).touch, ())


def test_training_flags_are_refused_with_eval_only():
    with pytest.raises(UsageError, match="--num_epochs comes from the checkpoint"):
        parse_arguments(["--eval_only", "--checkpoint", "x.pt", "-ep", "3"])
