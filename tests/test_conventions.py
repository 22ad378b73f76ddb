"""The floor: labels, the range checks of a setting, and reading a constructor's declarations."""
from __future__ import annotations

import subprocess
import sys
from typing import Annotated, Optional

import pytest

from conventions import BONAFIDE, LABEL_NAMES, SPOOF, ComponentChoice, HyperParameter, UsageError, declarations


def test_labels():
    assert (BONAFIDE, SPOOF) == (0, 1) and LABEL_NAMES == {0: "bonafide", 1: "spoof"}


@pytest.mark.parametrize(
    "interval,inside,outside",
    [("[0, 1)", [0.0, 0.5], [1.0, -0.1]), ("(0, inf)", [1e-9, 1e9], [0.0, -1.0]), ("[1, 3]", [1, 3], [0, 4]), ("[0, pi)", [3.14], [3.1416])],
)
def test_hyper_parameter_intervals(interval, inside, outside):
    spec = HyperParameter("x", interval=interval)
    for value in inside:
        spec.check("--x", value)
    for value in outside:
        with pytest.raises(UsageError, match=r"--x .* is outside the allowed range"):
            spec.check("--x", value)


def test_hyper_parameter_choices_and_non_finite_values():
    spec = HyperParameter("x", choices=("C", "A", "M"))
    spec.check("--x", "A")
    with pytest.raises(UsageError, match="--x B is not one of C, A, M"):
        spec.check("--x", "B")
    with pytest.raises(UsageError, match="--Loss.x nan is not a finite number"):
        HyperParameter("x", interval="[0, inf]").check("--Loss.x", float("nan"))


Width = Annotated[int, HyperParameter("a shared declaration", interval="[1, inf)")]


class Example:
    def __init__(
        self,
        n_classes: int,
        width: Width = 4,
        margin: Annotated[float, HyperParameter("a margin", unit="radians", interval="[0, pi)")] = 0.5,
        heads: Annotated[Optional[int], HyperParameter("derived when None")] = None,
        *,
        inner: Annotated[object, ComponentChoice("loss", "inner_type", "CosFace", "the inner loss")],
        plain: float = 1.0,
    ) -> None:
        pass


def test_declarations_read_type_default_and_spec_from_the_signature():
    settings = declarations(Example)
    assert list(settings) == ["width", "margin", "heads", "inner_type"]
    assert (settings["width"].type, settings["width"].default, settings["width"].spec.interval) == (int, 4, "[1, inf)")
    assert (settings["margin"].type, settings["margin"].spec.unit) == (float, "radians")
    assert (settings["heads"].type, settings["heads"].default) == (int, None)
    inner = settings["inner_type"]
    assert (inner.argument, inner.type, inner.default) == ("inner", str, "CosFace")


def test_the_floor_imports_nothing_of_the_project():
    code = "import sys, conventions; print(sorted(m for m in sys.modules if m.split('.')[0] in {'common', 'losses', 'datasets', 'extractors', 'processors', 'classifiers', 'augmentation', 'torch'}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
