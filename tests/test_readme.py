"""The README stays true to the code: its loss table, its component names, its first commands."""
import re
from pathlib import Path

from common import DATASETS, LOSSES, MINERS, REGISTRIES
from scripts.loss_table import loss_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


def test_loss_table_is_the_generated_one():
    embedded = re.search(r"<!-- loss table:.*?-->\n(.*?)\n<!-- end of loss table -->", README, re.S).group(1)
    assert embedded == loss_table()


def test_every_component_is_named():
    for registry in (*REGISTRIES.values(), DATASETS):
        for name in registry:
            assert f"`{name}`" in README, name
    assert f"{len(LOSSES)} losses" in README and len(MINERS) == 8
