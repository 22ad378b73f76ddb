"""Shared fixtures: offline settings, one Synthetic corpus per session, a CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """A data root shared by the session, so that the Synthetic corpus is generated once."""
    return tmp_path_factory.mktemp("data")


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
