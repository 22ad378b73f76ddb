"""The floor of the project: what every module agrees on. Imports nothing of the project.

- Audio: mono float32 at SAMPLE_RATE; labels BONAFIDE / SPOOF; the corpus SPLITS.
- UsageError: a user mistake, reported as one line on stderr with exit status 2.
- How a component declares its settings: each hyper-parameter is a constructor argument whose
  annotation carries a HyperParameter (or, for an argument that receives another component, a
  ComponentChoice); `declarations(component)` reads them back. Type, default, unit, range and help
  are thus written once, in the constructor, and the command line, `--list`, the registries'
  metadata and the checks all read them from there.
"""
from __future__ import annotations

import functools
import inspect
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Union

SAMPLE_RATE = 16000  # Hz; every wave in the pipeline is mono float32 at this rate
BONAFIDE = 0
SPOOF = 1
LABEL_NAMES = {BONAFIDE: "bonafide", SPOOF: "spoof"}
N_CLASSES = len(LABEL_NAMES)
SPLITS = ("train", "dev", "eval")  # the splits of every corpus


class UsageError(Exception):
    """A user mistake: reported as one line on stderr, exit status 2, nothing written."""


_INTERVAL = re.compile(r"^([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])$")


@dataclass(frozen=True)
class HyperParameter:
    """Marks a constructor argument as a hyper-parameter, inside its annotation:

        margin: Annotated[float, HyperParameter("additive angular margin m", unit="radians", interval="[0, pi)")] = 0.5

    The argument's type (int, float, bool or str) and default come from the signature; a default of
    None is always allowed and means what `none` says ("derived" by the component, its help says
    from what; or "equal", "none", ...). `unit`
    names the unit of a quantity ("radians", "cosine units", "dB", "Hz", ...); `interval` is the
    allowed range in interval notation ("[0, 1)", "(0, inf)"; bounds may be numbers, ±inf, pi, pi/2);
    `choices` lists the allowed values; `pattern` is a regular expression a str value must match whole.
    """

    help: str
    unit: str | None = None
    interval: str | None = None
    choices: tuple | None = None
    pattern: str | None = None
    none: str = "derived"

    def check(self, flag: str, value: Any) -> None:
        """Raise UsageError when `value` is not allowed for `flag` (as the user wrote it, e.g. --margin)."""
        if value is None:
            return
        if isinstance(value, float) and (math.isnan(value) or (math.isinf(value) and self.interval is None)):
            raise UsageError(f"{flag} {value} is not a finite number")
        if self.choices is not None and value not in self.choices:
            raise UsageError(f"{flag} {value} is not one of {', '.join(map(str, self.choices))}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise UsageError(f"{flag} {value!r} does not match {self.pattern}")
        if self.interval is None:
            return
        low_bracket, low, high, high_bracket = _INTERVAL.match(self.interval).groups()
        low, high = (_bound(bound) for bound in (low, high))
        above = value >= low if low_bracket == "[" else value > low
        below = value <= high if high_bracket == "]" else value < high
        if not (above and below):
            raise UsageError(f"{flag} {value} is outside the allowed range {self.interval}")


@dataclass(frozen=True)
class ComponentChoice:
    """Marks a constructor argument that receives another component, chosen by name:

        embedding_loss: Annotated[BaseLoss, ComponentChoice("loss", "proxy_type", "ProxyAnchor", "the embedding loss X")]

    The setting `name` (a flag, e.g. --proxy_type) holds the registered name, `default` when not
    given; the builder makes that component from the registry of `stage`, with its own settings,
    and hands it in. `accepts(component_class)` tells which registered components fit.
    """

    stage: str
    name: str
    default: str
    help: str
    accepts: Callable[[type], bool] = lambda component: True


@dataclass(frozen=True)
class Declaration:
    """One setting of a component, as its constructor declares it."""

    name: str  # the setting's name: its flag and its key in the resolved configuration
    argument: str  # the constructor argument that receives it (a built component, for a ComponentChoice)
    type: type  # int, float, bool or str (a registered name, for a ComponentChoice)
    default: Any  # None: derived by the component
    spec: HyperParameter | ComponentChoice


@functools.cache
def declarations(component: type) -> dict[str, Declaration]:
    """The settings of `component`, by name, in constructor order: its arguments annotated with a
    HyperParameter or a ComponentChoice."""
    found = {}
    for argument, parameter in inspect.signature(component, eval_str=True).parameters.items():
        if typing.get_origin(parameter.annotation) is not Annotated:
            continue
        base, *markers = typing.get_args(parameter.annotation)
        for spec in markers:
            if isinstance(spec, ComponentChoice):
                found[spec.name] = Declaration(spec.name, argument, str, spec.default, spec)
            elif isinstance(spec, HyperParameter):
                found[argument] = Declaration(argument, argument, _plain_type(base), parameter.default, spec)
    return found


def _plain_type(annotation: Any) -> type:
    """int for int, Optional[int] and int | None."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        (annotation,) = [member for member in typing.get_args(annotation) if member is not type(None)]
    return annotation


def _bound(text: str) -> float:
    """An interval bound: a number, ±inf, pi or pi/2."""
    return {"inf": math.inf, "-inf": -math.inf, "pi": math.pi, "pi/2": math.pi / 2}.get(text) or float(text)


def one_line(error: BaseException) -> str:
    """The error's message on one line: raised in a DataLoader worker, the original message comes
    after the worker's traceback, as `module.Error: message` on its last line."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    if len(lines) > 1 and "Traceback" in str(error):
        return re.sub(r"^[\w.]+: ", "", lines[-1])
    return " ".join(line.strip() for line in lines)
