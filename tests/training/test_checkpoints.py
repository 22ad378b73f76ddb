"""Checkpoint files: atomic writes, and reads that refuse anything but tensors and plain values."""
from pathlib import Path

import pytest
import torch

from conventions import UsageError
from training.checkpoints import load_checkpoint, save_checkpoint


def test_a_checkpoint_round_trips_tensors_and_plain_values(tmp_path):
    state = {"epoch": 2, "model": {"w": torch.arange(3.0)}, "loss": {}, "arguments": {"loss": "CosFace", "weights": [1.0, 0.5]}}
    save_checkpoint(tmp_path / "best.pt", state)
    loaded = load_checkpoint(str(tmp_path / "best.pt"))
    assert loaded["arguments"] == state["arguments"] and torch.equal(loaded["model"]["w"], state["model"]["w"])


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot be saved")


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1, "model": {}, "loss": {}, "arguments": {}})
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="cannot be saved"):
        save_checkpoint(path, {"epoch": 2, "model": {"bad": Unpicklable()}, "loss": {}, "arguments": {}})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["last.pt"]


class CreatesAFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (self.path.touch, ())


@pytest.mark.parametrize(
    "content, message",
    [
        ("crafted", "never unpickled"),
        ("text", "is not a checkpoint of this tool"),
        ("incomplete", "no model, loss and arguments"),
        ("missing", "does not exist"),
        ("directory", "is a directory"),
    ],
)
def test_files_that_are_not_our_checkpoints_are_refused_and_nothing_in_them_runs(tmp_path, content, message):
    path, marker = tmp_path / "checkpoint.pt", tmp_path / "ran"
    if content == "crafted":
        torch.save({"model": CreatesAFile(marker), "loss": {}, "arguments": {}, "epoch": 1}, path)
    elif content == "text":
        path.write_text("not a checkpoint")
    elif content == "incomplete":
        torch.save({"model": {}}, path)
    elif content == "directory":
        path.mkdir()
    with pytest.raises(UsageError, match=message):
        load_checkpoint(str(path))
    assert not marker.exists()
