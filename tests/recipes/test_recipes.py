"""Every recipe in recipes/ runs whole on fake corpora in their official layouts (conftest.py), as a
smoke run: its flags overridden by tiny model settings, a few utterances and one epoch, given after
them as a caller would. bash runs the script itself with a PYTHON that records each train_and_eval.py
command; the test then runs the commands, in order, through train_and_eval.main in this process (as
`python train_and_eval.py` would), which spares each one the seconds of importing torch and
transformers."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from parse_arguments import parse_arguments
from tests.cli.test_reference_models import TINY
from train_and_eval import main

REPOSITORY = Path(__file__).resolve().parents[2]
RECIPES = REPOSITORY / "recipes"
LIMIT = 6
SMOKE_RUN = ["--limit", str(LIMIT), "-ep", "1", "--batch_size", str(LIMIT), "--max_len", "0.3", "--eval_max_len", "0.3"]
LA2019, LA2021, DF2021 = "ASVspoof2019LADataset_single", "ASVspoof2021LADataset_single", "ASVspoof2021DFDataset_single"
ITW, ASV5 = "InTheWildDataset_single", "ASVspoof5Dataset_single"
ONE_EPOCH_AVERAGE = ["--average", "best:1"]  # the most one epoch can average; the recipes still score average.pt
TINY_MHFA = ["--compression_dim", "8", "--embedding_dim", "8", "--warmup_epochs", "0", "--average", "last:1"]

# recipe -> (tiny model settings, {run directory under RUNS_DIR: the corpus it scores})
RECIPE_RUNS = {
    "aasist.sh": (TINY["RawAASIST"], {"aasist": LA2019}),
    "aasist_l.sh": (TINY["RawAASIST-L"], {"aasist_l": LA2019}),
    "rawnet2.sh": (TINY["RawNet2"], {"rawnet2_la": LA2021, "rawnet2_df": DF2021}),
    "lfcc_lcnn.sh": (TINY["LCNN"], {"lfcc_lcnn_la": LA2021, "lfcc_lcnn_df": DF2021}),
    "ssl_aasist.sh": (TINY["AASIST"], {"ssl_aasist_la": LA2021, "ssl_aasist_df": DF2021, "ssl_aasist_df_itw": ITW}),
    "xlsr_sls.sh": (["--embedding_dim", "8"], {"xlsr_sls_df": DF2021, "xlsr_sls_df_la": LA2021, "xlsr_sls_df_itw": ITW}),
    "xlsr_conformer.sh": ([*TINY["Conformer"], *ONE_EPOCH_AVERAGE], {"xlsr_conformer_la": LA2021, "xlsr_conformer_la_df": DF2021}),
    "xlsr_tcm.sh": ([*TINY["TCM"], *ONE_EPOCH_AVERAGE], {"xlsr_tcm_la": LA2021, "xlsr_tcm_df": DF2021, "xlsr_tcm_df_itw": ITW}),
    "xlsr_nes2net_x.sh": (
        [*TINY["Nes2Net-X"], *ONE_EPOCH_AVERAGE], {"xlsr_nes2net_x_df": DF2021, "xlsr_nes2net_x_df_la": LA2021, "xlsr_nes2net_x_df_itw": ITW},
    ),
    "wavlm_mhfa.sh": (["--head_nb", "2", *TINY_MHFA], {"wavlm_mhfa_frozen": ASV5, "wavlm_mhfa_finetuned": ASV5}),
    "wavlm_ca_mhfa.sh": (["--group_nb", "2", *TINY_MHFA], {"wavlm_ca_mhfa_frozen": ASV5, "wavlm_ca_mhfa_finetuned": ASV5}),
}
SOURCE = re.compile(r"^# source: [\w.-]+/[\w.-]+ \S", re.MULTILINE)
RECORDER = """#!/usr/bin/env bash
# Stands in for Python: keeps each command's arguments, NUL-separated, in $RECORDED/<its number>.
set -eu
printf '%s\\0' "$@" > "$RECORDED/$(find "$RECORDED" -type f | wc -l)"
"""


@pytest.fixture(scope="module")
def recorder(tmp_path_factory) -> Path:
    """An executable that records the commands given to it (RECORDER)."""
    path = tmp_path_factory.mktemp("recorder") / "python"
    path.write_text(RECORDER)
    path.chmod(0o755)
    return path


def recorded_commands(recipe: str, arguments: list[str], environment: dict[str, str], folder: Path) -> list[list[str]]:
    """The train_and_eval.py commands that `recipe` runs with `arguments`, in order (bash runs it whole)."""
    folder.mkdir()
    done = subprocess.run(
        ["bash", str(RECIPES / recipe), *arguments], env={**os.environ, **environment, "RECORDED": str(folder)},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    commands = [(folder / str(number)).read_text().split("\0")[:-1] for number in range(len(list(folder.iterdir())))]
    assert commands and all(command[0] == str(REPOSITORY / "train_and_eval.py") for command in commands)
    return [command[1:] for command in commands]


@pytest.mark.parametrize("recipe", list(RECIPE_RUNS))
def test_recipe_runs_whole(recipe, recipe_corpora, tiny_ssl_models, recorder, one_thread, tmp_path, monkeypatch, capsys):
    tiny, runs = RECIPE_RUNS[recipe]
    runs_dir = tmp_path / "runs"
    environment = {
        "PYTHON": str(recorder), "DATA_ROOT": str(recipe_corpora), "RUNS_DIR": str(runs_dir),
        "XLSR_PATH": str(tiny_ssl_models["XLSR_300M"]), "WAVLM_PATH": str(tiny_ssl_models["WavLM_base"]),
    }
    monkeypatch.chdir(tmp_path)
    for command in recorded_commands(recipe, [*SMOKE_RUN, *tiny], environment, tmp_path / "commands"):
        assert main(command) == 0, capsys.readouterr().err
    assert sorted(path.name for path in runs_dir.iterdir()) == sorted([*runs, "results.csv"])
    for run, dataset in runs.items():
        assert json.loads((runs_dir / run / "config.json").read_text())["arguments"]["dataset"] == dataset, run
        assert 0 <= json.loads((runs_dir / run / "metrics.json").read_text())["eval"]["eer"] <= 1, run
        assert (runs_dir / run / "scores" / "eval.txt").read_text().count("\n") == LIMIT, run
    with open(runs_dir / "results.csv", newline="") as results:
        assert len(list(csv.DictReader(results))) == len(runs)


@pytest.mark.parametrize("recipe", list(RECIPE_RUNS))
def test_the_published_settings_are_accepted(recipe, recorder, tmp_path):
    """The smoke runs override some of them (epochs, averages, warm-up); here they are checked as written."""
    environment = {"PYTHON": str(recorder), "RUNS_DIR": str(tmp_path / "runs"), "XLSR_PATH": str(tmp_path), "WAVLM_PATH": str(tmp_path)}
    for command in recorded_commands(recipe, [], environment, tmp_path / "commands"):
        parse_arguments(command)


def test_every_recipe_is_smoke_tested_names_its_sources_and_is_valid_bash():
    assert sorted(path.name for path in RECIPES.glob("*.sh") if path.name != "common.sh") == sorted(RECIPE_RUNS)
    for recipe in RECIPE_RUNS:
        text = (RECIPES / recipe).read_text()
        assert "set -euo pipefail" in text and SOURCE.search(text), recipe
        assert subprocess.run(["bash", "-n", str(RECIPES / recipe)], capture_output=True).returncode == 0, recipe
