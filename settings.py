"""Component settings on the command line, and their resolution into each chosen component's values.

Every setting a component declares (conventions.declarations) is a flag in two forms:
- `--NAME VALUE` (bare) sets NAME in every chosen component that takes it. When those components
  read it with different meanings (say --margin for AdditiveAngularMargin, in radians, and CosFace,
  in cosine units) it is refused, with the scoped form to use instead.
- `--COMPONENT.NAME VALUE` (scoped) sets it in that component only, and wins over the bare flag:
  `--loss CosFace+AdditiveAngularMargin --CosFace.margin 0.2 --AdditiveAngularMargin.margin 0.3`.
A flag that reaches no chosen component is refused. A setting given by neither form takes the
component's default.

The resolved values (`resolve_settings`) are one section per chosen component:
`{"extractor": {...}, "processor": {...}, "classifier": {...}, "loss": {name: {...}},
"miner": {...}, "augmentation": {name: {...}}}`; "loss" holds every loss of the run, the terms of
--loss and the losses they name (Combined's proxy_type), each under its registered name. They are
what the builder, config.json, the checkpoints and the results CSV use.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any, Callable

from common import (
    DATASETS,
    LOSS_METADATA,
    REFERENCE_MODELS,
    REGISTRIES,
    component_choices,
    parameter_metadata,
    reference_model_parameters,
)
from conventions import ComponentChoice, Declaration, UsageError, declarations

MODEL_STAGES = ("extractor", "processor", "classifier")


@dataclass(frozen=True)
class Taker:
    """A registered component that declares a setting."""

    stage: str
    component: str
    declaration: Declaration

    @property
    def scoped_flag(self) -> str:
        return f"--{self.component}.{self.declaration.name}"

    def meaning(self) -> tuple:
        """What tells two takers of one name apart: the declared type and declaration (help, unit, range)."""
        return self.declaration.type, self.declaration.spec

    def describe(self) -> str:
        unit = getattr(self.declaration.spec, "unit", None)
        return f"{self.component} ({self.declaration.spec.help}{', ' + unit if unit else ''})"


def setting_takers() -> dict[str, list[Taker]]:
    """Setting name -> every registered component that declares it, in registry order."""
    takers: dict[str, list[Taker]] = {}
    for stage, registry in REGISTRIES.items():
        for name, component in registry.items():
            for declared in declarations(component).values():
                takers.setdefault(declared.name, []).append(Taker(stage, name, declared))
    return takers


def _bare_type(name: str, takers: list[Taker]) -> type:
    """The argparse type of a bare flag: the takers' type; int and float share float."""
    types = {taker.declaration.type for taker in takers}
    if len(types) == 1:
        return types.pop()
    if types == {int, float}:
        return float
    raise TypeError(f"components declare the setting {name!r} with incompatible types {types}")


def _add_flag(group: argparse._ArgumentGroup, flag: str, kind: type, help: str) -> None:
    dest = flag[2:]
    if kind is bool:
        group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help)
    else:
        group.add_argument(flag, dest=dest, type=kind, default=None, metavar=kind.__name__.upper(), help=help)


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """The bare flag of every setting (shown in --help with the components that take it) and the
    scoped flag of every component's setting (documented in the group's description and --list)."""
    group = parser.add_argument_group(
        "component settings",
        "--NAME VALUE sets NAME in every chosen component that takes it (refused when they read it "
        "differently); --COMPONENT.NAME VALUE sets it in one component, e.g. --loss CosFace+AdditiveAngularMargin "
        "--CosFace.margin 0.2 --AdditiveAngularMargin.margin 0.3. Default: each component's own. "
        "--list shows every component's settings with their units, ranges and defaults.",
    )
    for name, takers in sorted(setting_takers().items()):
        _add_flag(group, f"--{name}", _bare_type(name, takers), f"taken by {', '.join(taker.component for taker in takers)}")
        for taker in takers:
            _add_flag(group, taker.scoped_flag, taker.declaration.type, argparse.SUPPRESS)


def setting_flag_dests() -> set[str]:
    """The argparse destinations of every setting flag: `NAME` and `COMPONENT.NAME`."""
    return {dest for name, takers in setting_takers().items() for dest in (name, *(taker.scoped_flag[2:] for taker in takers))}


def given_setting_flags(args: argparse.Namespace) -> list[str]:
    """The setting flags given on the command line (bare and scoped), as the user wrote them."""
    given = []
    for dest in sorted(setting_flag_dests()):
        value = getattr(args, dest, None)
        if value is not None:
            given.append(f"--no-{dest}" if value is False else f"--{dest}")
    return given


def loss_sections(names: list[str], section: Callable[[str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The sections of the losses `names` and of every loss they name (a ComponentChoice), each
    after the loss naming it; `section(name)` makes one. A loss named twice has one section."""
    sections: dict[str, dict[str, Any]] = {}
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name not in sections:
            sections[name] = section(name)
            pending += [sections[name][setting] for setting in _component_choices(REGISTRIES["loss"][name])]
    return sections


def _component_choices(component: type) -> list[str]:
    """The names of the component's ComponentChoice settings."""
    return [name for name, declared in declarations(component).items() if isinstance(declared.spec, ComponentChoice)]


class _Resolution:
    """One pass over the chosen components, remembering which components each bare flag reached
    and which given values are still to be checked (after the flags, so that a bare flag with two
    meanings is refused as such rather than for one component's range)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.reached: dict[str, list[Taker]] = {}
        self.chosen: set[tuple[str, str]] = set()
        self.given: list[tuple[str, Taker, dict[str, Any]]] = []  # (flag, taker, the section holding its value)

    def values(self, stage: str, component: str) -> dict[str, Any]:
        """The settings of `component`: its scoped flag, else the bare flag, else its default."""
        self.chosen.add((stage, component))
        values: dict[str, Any] = {}
        for declared in declarations(REGISTRIES[stage][component]).values():
            taker = Taker(stage, component, declared)
            scoped, bare = getattr(self.args, taker.scoped_flag[2:], None), getattr(self.args, declared.name, None)
            if scoped is None and bare is None:
                values[declared.name] = declared.default
                continue
            flag, values[declared.name] = (taker.scoped_flag, scoped) if scoped is not None else (f"--{declared.name}", bare)
            if scoped is None:
                self.reached.setdefault(declared.name, []).append(taker)
            if isinstance(declared.spec, ComponentChoice):  # needed now, to resolve the component it names
                values[declared.name] = _checked(flag, taker, values[declared.name])
            else:
                self.given.append((flag, taker, values))
        return values

    def check_values(self) -> None:
        """Each given value as its declared type, refused when out of its range."""
        for flag, taker, values in self.given:
            values[taker.declaration.name] = _checked(flag, taker, values[taker.declaration.name])

    def check_flags(self) -> None:
        """Refuse a bare flag that reaches no chosen component, or several with different meanings,
        and a scoped flag of a component that is not chosen."""
        for name, takers in setting_takers().items():
            if getattr(self.args, name, None) is not None:
                reached = self.reached.get(name, [])
                if not reached:
                    raise UsageError(_unreached(name, takers, self.chosen))
                if len({taker.meaning() for taker in reached}) > 1:
                    raise UsageError(
                        f"--{name} reaches components that read it differently: "
                        f"{', '.join(taker.describe() for taker in reached)}; set each with its own flag: "
                        + " ".join(f"{taker.scoped_flag} VALUE" for taker in reached)
                    )
            for taker in takers:
                if getattr(self.args, taker.scoped_flag[2:], None) is not None and (taker.stage, taker.component) not in self.chosen:
                    chosen = ", ".join(f"{stage} {component}" for stage, component in sorted(self.chosen))
                    raise UsageError(
                        f"{taker.scoped_flag}: the {taker.stage} {taker.component} is not among the chosen components "
                        f"({chosen}); choose it or drop the flag"
                    )


def _checked(flag: str, taker: Taker, value: Any) -> Any:
    """`value` as the declared type, refused (UsageError naming `flag`) when it is not allowed."""
    declared = taker.declaration
    if isinstance(declared.spec, ComponentChoice):
        choices = component_choices(declared.spec)
        if value not in choices:
            raise UsageError(f"{flag} {value} is not one of {', '.join(choices)}")
        return value
    if value is None and declared.default is None:  # None means what the declaration's `none` says
        return None
    kind, number = declared.type, isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in (int, float) and number:
        if not math.isfinite(value):
            raise UsageError(f"{flag} {value} is not a finite number")
        if kind is int and value != int(value):
            raise UsageError(f"{flag} {value} must be an integer for {taker.component}")
        value = kind(value)
    elif not isinstance(value, kind):
        raise UsageError(f"{flag} {value!r} is not of the type {kind.__name__} that {taker.component} declares")
    declared.spec.check(flag, value)
    return value


def _unreached(name: str, takers: list[Taker], chosen: set[tuple[str, str]]) -> str:
    scoped = [taker.scoped_flag for taker in takers if (taker.stage, taker.component) in chosen]
    if scoped:
        return f"--{name}: every chosen component that takes it has its own flag ({', '.join(scoped)}); drop --{name}"
    return f"--{name} does not apply to the chosen components; it is a parameter of " + ", ".join(
        f"--{taker.stage} {taker.component}" for taker in takers
    )


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of the chosen components of checked `args` (module docstring); UsageError for a
    flag that is refused or a value out of its range."""
    resolution = _Resolution(args)
    resolved: dict[str, Any] = {stage: resolution.values(stage, getattr(args, stage)) for stage in MODEL_STAGES}
    resolved["loss"] = loss_sections(args.losses, lambda name: resolution.values("loss", name))
    resolved["miner"] = {} if args.miner is None else resolution.values("miner", args.miner)
    resolved["augmentation"] = {name: resolution.values("augmentation", name) for name in args.augmentations}
    resolution.check_flags()
    resolution.check_values()
    return resolved


def restore_settings(args: argparse.Namespace, saved: dict[str, Any]) -> dict[str, Any]:
    """The settings saved with a run (`saved`, its resolved settings) for the components of `args`,
    checked and completed for this version: a setting the run did not have takes its default, and a
    loss named by another loss gets its own section (runs before sections kept its values in the
    naming loss's section; they are split out here). UsageError (naming Component.setting) for a
    value that is not allowed or a setting this version does not know; KeyError, TypeError or
    AttributeError when `saved` is not settings at all."""
    leftovers: dict[str, dict[str, Any]] = {}  # a named loss's values found in the naming loss's section

    def section(stage: str, component: str, values: dict[str, Any], extras: tuple[str, ...] = ()) -> dict[str, Any]:
        declared = declarations(REGISTRIES[stage][component])
        unknown = set(values) - set(declared) - set(extras)
        if unknown:
            raise UsageError(f"{component} has no setting {', '.join(sorted(unknown))} in this version")
        checked = {
            name: _checked(f"{component}.{name}", Taker(stage, component, setting), values[name]) if name in values else setting.default
            for name, setting in declared.items()
        }
        return {**checked, **{name: values[name] for name in extras if name in values}}

    def loss(name: str) -> dict[str, Any]:
        values = saved["loss"].get(name, leftovers.get(name, {}))
        names_another = _component_choices(REGISTRIES["loss"][name])
        own = {setting: value for setting, value in values.items() if not names_another or setting in declarations(REGISTRIES["loss"][name])}
        restored = section("loss", name, own)
        for setting in names_another:
            leftovers[restored[setting]] = {key: value for key, value in values.items() if key not in own}
        return restored

    restored: dict[str, Any] = {
        stage: section(stage, getattr(args, stage), saved.get(stage, {}), ("path", "finetune") if stage == "extractor" else ())
        for stage in MODEL_STAGES
    }
    restored["loss"] = loss_sections(args.losses, loss)
    restored["miner"] = {} if args.miner is None else section("miner", args.miner, saved.get("miner", {}))
    restored["augmentation"] = {name: section("augmentation", name, values) for name, values in saved.get("augmentation", {}).items()}
    return restored


def format_default(value: Any, none: str = "derived") -> str:
    """A default as people read it: 0.4992 rather than 0.49916416607037093; None as what it means
    for the setting (`none`: "derived" by the component, "equal", ...)."""
    if value is None:
        return none
    return f"{value:.4g}" if isinstance(value, float) and not value.is_integer() else str(value)


def describe_setting(name: str, metadata: dict) -> str:
    """One --list line: `name (type, unit, default D, range R): help; one of ...`."""
    default = format_default(metadata["default"], metadata.get("none", "derived"))
    details = [metadata["type"], *([metadata["unit"]] if "unit" in metadata else []), f"default {default}"]
    details += [f"range {metadata['interval']}"] if "interval" in metadata else []
    allowed = f"; one of {', '.join(map(str, metadata['choices']))}" if "choices" in metadata else ""
    return f"{name} ({', '.join(details)}): {metadata['help']}{allowed}"


def component_list() -> str:
    """Every registered component with its settings, for `--list`; then the datasets."""
    lines = ["Each setting is a flag: --NAME VALUE (every chosen component that takes it) or --COMPONENT.NAME VALUE."]
    for stage, registry in REGISTRIES.items():
        lines.append(f"{'losses' if stage == 'loss' else stage + 's'}:")
        for name, component in registry.items():
            header = f"  {name}"
            if stage == "loss":
                metadata = LOSS_METADATA[name]
                aliases = f", aliases {', '.join(metadata['aliases'])}" if metadata["aliases"] else ""
                header += f"  [{metadata['type']}{aliases}]  {metadata['reference']}; score: {metadata['score']}"
            if getattr(component, "pretrained", False):
                header += f"  {component.model_id} (--extractor_path, --finetune, --extractor_lr)"
            lines.append(header)
            lines.extend(f"      {describe_setting(setting, values)}" for setting, values in parameter_metadata(component).items())
    lines.append("datasets:")
    lines.extend(f"  {name}  {dataset.__doc__.strip().splitlines()[0]}" for name, dataset in DATASETS.items())
    lines.append("reference models (every setting at its default; parameters counted from the code):")
    for name, model in REFERENCE_MODELS.items():
        count = f"{reference_model_parameters(model):,} parameters"
        if model.stack is not None:
            count += f" after {model.extractor}'s {model.stack[0]} x {model.stack[1]} layer stack"
        lines.append(f"  {name}  --extractor {model.extractor} --processor {model.processor} --classifier {model.classifier}")
        lines.append(f"      {count}; {model.reference}; published: {model.published}")
    return "\n".join(lines)
