"""Labels, component registries and the one check of a combination of components.

Every component module imports its constants from here, so the constants come first and the
component imports after them (each component package's __init__ imports this module first,
which makes any component module importable on its own).
"""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from typing import Any

SAMPLE_RATE = 16000  # Hz; every wave in the pipeline is mono float32 at this rate
BONAFIDE = 0
SPOOF = 1
LABEL_NAMES = {BONAFIDE: "bonafide", SPOOF: "spoof"}
N_CLASSES = len(LABEL_NAMES)


class UsageError(Exception):
    """A user mistake: reported as one line on stderr, exit status 2, nothing written."""


_INTERVAL = re.compile(r"^([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])$")
_BOUNDS = {"inf": math.inf, "-inf": -math.inf, "pi": math.pi}


@dataclass(frozen=True)
class HyperParameter:
    """A constructor argument of a component, exposed as the command-line flag `--<name>`.

    Its default is the constructor's default. `interval` is the allowed range in interval
    notation, e.g. "[0, 1)" or "(0, inf)"; `choices` lists the allowed values.
    """

    type: type
    help: str
    choices: tuple | None = None
    interval: str | None = None

    def check(self, name: str, value: Any) -> None:
        """Raise UsageError when `value` is not allowed for `--name`."""
        if self.choices is not None and value not in self.choices:
            raise UsageError(f"--{name} {value} is not one of {', '.join(map(str, self.choices))}")
        if self.interval is None:
            return
        low_bracket, low, high, high_bracket = _INTERVAL.match(self.interval).groups()
        low, high = (_BOUNDS[bound] if bound in _BOUNDS else float(bound) for bound in (low, high))
        above = value >= low if low_bracket == "[" else value > low
        below = value <= high if high_bracket == "]" else value < high
        if not (above and below):
            raise UsageError(f"--{name} {value} is outside the allowed range {self.interval}")


# Component modules import the definitions above, so they are imported only now.
from classifiers.feedforward import FF, EmbeddingFF  # noqa: E402
from datasets.synthetic import SyntheticDataset  # noqa: E402
from extractors.spectral import LFCC, MFCC, LogSpec  # noqa: E402
from losses.additive_angular_margin import AdditiveAngularMarginLoss  # noqa: E402
from losses.cross_entropy import CrossEntropyLoss  # noqa: E402
from processors.mean import MeanPooling  # noqa: E402

EXTRACTORS = {"LFCC": LFCC, "MFCC": MFCC, "LogSpec": LogSpec}
PROCESSORS = {"Mean": MeanPooling}
CLASSIFIERS = {"FF": FF, "EmbeddingFF": EmbeddingFF}
EMBEDDING_COMPATIBLE_CLASSIFIERS = ("EmbeddingFF",)
LOSSES = {
    "CrossEntropy": CrossEntropyLoss,
    "AdditiveAngularMargin": AdditiveAngularMarginLoss,
}
LOSS_ALIASES = {"ArcFace": "AdditiveAngularMargin"}
DATASETS = {"Synthetic": SyntheticDataset}

REGISTRIES = {
    "extractor": EXTRACTORS,
    "processor": PROCESSORS,
    "classifier": CLASSIFIERS,
    "loss": LOSSES,
}


def hyper_parameter_metadata(component: type) -> dict[str, dict]:
    """`{name: {"default", "type", "help", ...}}` for a component; defaults come from its constructor."""
    signature = inspect.signature(component.__init__).parameters
    return {
        name: {
            "default": signature[name].default,
            "type": spec.type.__name__,
            "help": spec.help,
            **({"choices": list(spec.choices)} if spec.choices else {}),
            **({"interval": spec.interval} if spec.interval else {}),
        }
        for name, spec in component.hyper_parameters.items()
    }


LOSS_METADATA = {
    name: {
        "type": loss.loss_type,
        "parameters": hyper_parameter_metadata(loss),
        "reference": loss.reference,
        "score": loss.score_description,
        "aliases": [alias for alias, target in LOSS_ALIASES.items() if target == name],
    }
    for name, loss in LOSSES.items()
}


def canonical_loss_name(name: str) -> str:
    """The registered name of a loss given its name or alias."""
    return LOSS_ALIASES.get(name, name)


def check_combination(extractor: str, processor: str, classifier: str, loss: str) -> None:
    """Refuse, with a UsageError naming the fix, a combination of components that cannot work together."""
    for stage, name in (("extractor", extractor), ("processor", processor), ("classifier", classifier), ("loss", loss)):
        if name not in REGISTRIES[stage]:
            raise UsageError(f"unknown {stage} {name!r}; choose one of {', '.join(REGISTRIES[stage])}")
    loss_type = LOSS_METADATA[loss]["type"]
    if loss_type != "logits" and classifier not in EMBEDDING_COMPATIBLE_CLASSIFIERS:
        raise UsageError(
            f"--loss {loss} is an {loss_type} loss and needs a classifier that returns an embedding; "
            f"--classifier {classifier} returns logits only: use --classifier "
            f"{' or '.join(EMBEDDING_COMPATIBLE_CLASSIFIERS)}"
        )
