"""The README and docs/ARCHITECTURE.md stay true to the code: the loss table, component names, first commands, the loss example, the layers."""
import re
from pathlib import Path

from common import DATASETS, LOSSES, MINERS, REGISTRIES
from scripts.loss_table import loss_table
from tests.test_architecture import LAYERS

REPOSITORY = Path(__file__).resolve().parent.parent
README = (REPOSITORY / "README.md").read_text()


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


def test_the_loss_example_is_the_real_file_and_its_registry_line():
    section = README.split("## Adding a component")[1].split("\n## ")[0]
    example, line = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    assert example == (REPOSITORY / "losses" / "label_smoothing.py").read_text()
    assert line.strip() in (REPOSITORY / "common.py").read_text()
    assert 20 <= len([text for text in example.splitlines() if text.strip()]) <= 30


def test_the_architecture_map_names_every_layer_of_the_import_check():
    architecture = (REPOSITORY / "docs" / "ARCHITECTURE.md").read_text()
    for unit in LAYERS:
        assert f"`{unit}" in architecture, unit
