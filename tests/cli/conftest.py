"""Fixtures of the command-line tests: running train_and_eval.py as a separate process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_cli(tmp_path, data_root):
    """Run `train_and_eval.py` with `arguments` in tmp_path (runs/ and results.csv land there)."""

    def run(*arguments: str) -> subprocess.CompletedProcess:
        environment = {**os.environ, "CA_MHFA_DATA_ROOT": str(data_root), "WANDB_DIR": str(tmp_path)}
        return subprocess.run(
            [sys.executable, str(REPOSITORY / "train_and_eval.py"), *arguments],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run
