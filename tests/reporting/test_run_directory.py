"""The run directory: config.json with the resolved arguments, versions and commit; names that never collide."""
import json

from parse_arguments import parse_arguments, recorded_arguments
from reporting.run_directory import create_run_dir, write_config


def test_config_records_arguments_versions_and_commit(tmp_path):
    args = parse_arguments(["--seed", "7", "--output_dir", str(tmp_path / "run")])
    run_dir = create_run_dir(args)[-1]
    write_config(run_dir, recorded_arguments(args))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["arguments"]["seed"] == 7 and config["arguments"]["loss"] == "CrossEntropy"
    assert "margin" not in config["arguments"] and "CosFace.margin" not in config["arguments"]  # settings: hyper_parameters
    assert config["versions"]["torch"].startswith("2.14.1")
    assert "git_commit" in config and "git_dirty" in config


def test_default_run_dirs_never_collide(tmp_path):
    args = parse_arguments(["--runs_dir", str(tmp_path)])
    first, second = create_run_dir(args)[-1], create_run_dir(args)[-1]
    assert first != second and first.is_dir() and second.is_dir()
