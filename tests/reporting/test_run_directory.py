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


def claim(path, barrier, outcomes):
    from conventions import UsageError
    from reporting.files import make_directory

    barrier.wait()
    try:
        make_directory(path, "--output_dir")
        outcomes.put("made")
    except UsageError as error:
        outcomes.put(str(error))


def test_of_runs_asking_for_one_output_dir_at_once_exactly_one_gets_it(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for trial in range(5):
        barrier, outcomes = context.Barrier(8), context.Queue()
        processes = [context.Process(target=claim, args=(tmp_path / f"run_{trial}", barrier, outcomes)) for _ in range(8)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        results = sorted(outcomes.get() for _ in range(8))
        assert results.count("made") == 1 and all("already exists" in result for result in results if result != "made")
