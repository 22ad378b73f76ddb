"""--eval_only: a trained model scores a dataset again, identically, without training."""
import pytest

from common import UsageError
from parse_arguments import parse_arguments
from train_and_eval import main

SHORT_RUN = ["--limit", "60", "-ep", "2", "--classifier", "EmbeddingFF", "--loss", "ArcFace", "--margin", "0.3"]


def test_eval_only_reproduces_the_scores_of_the_run(data_root, tmp_path, capsys):
    common = ["--data_root", str(data_root), "--results_csv", str(tmp_path / "results.csv")]
    assert main([*SHORT_RUN, *common, "--output_dir", str(tmp_path / "train")]) == 0, capsys.readouterr().err
    checkpoint = tmp_path / "train" / "checkpoints" / "best.pt"
    code = main(["--eval_only", "--checkpoint", str(checkpoint), "--limit", "60", *common, "--output_dir", str(tmp_path / "eval")])
    assert code == 0, capsys.readouterr().err
    for split in ("dev", "eval"):
        trained = (tmp_path / "train" / "scores" / f"{split}.txt").read_text()
        assert (tmp_path / "eval" / "scores" / f"{split}.txt").read_text() == trained
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
    ],
)
def test_eval_only_flags_are_checked(arguments, message):
    with pytest.raises(UsageError, match=message):
        parse_arguments(arguments)


def test_a_missing_or_foreign_checkpoint_exits_2(tmp_path, capsys):
    assert main(["--eval_only", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "text.pt").write_text("not a checkpoint")
    assert main(["--eval_only", "--checkpoint", str(tmp_path / "text.pt")]) == 2
    assert "is not a checkpoint" in capsys.readouterr().err
