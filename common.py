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
from typing import Any, Callable

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
    """A constructor argument of a component, exposed as the command-line flag `--<name>`.

    Its default is the constructor's default. `interval` is the allowed range in interval
    notation, e.g. "[0, 1)" or "(0, inf)"; `choices` lists the allowed values (or is a function
    returning them, for lists known only once the registries exist). With `names_loss`, the value
    names a registered loss whose own hyper-parameters then apply too. A default of None means
    "derived by the component" (for example from the number of layers) and is always allowed.
    """

    type: type
    help: str
    choices: tuple | Callable[[], tuple] | None = None
    interval: str | None = None
    names_loss: bool = False

    def allowed(self) -> tuple | None:
        return self.choices() if callable(self.choices) else self.choices

    def check(self, name: str, value: Any) -> None:
        """Raise UsageError when `value` is not allowed for `--name`."""
        if value is None:
            return
        if isinstance(value, float) and (math.isnan(value) or (math.isinf(value) and self.interval is None)):
            raise UsageError(f"--{name} {value} is not a finite number")
        allowed = self.allowed()
        if allowed is not None and value not in allowed:
            raise UsageError(f"--{name} {value} is not one of {', '.join(map(str, allowed))}")
        if self.interval is None:
            return
        low_bracket, low, high, high_bracket = _INTERVAL.match(self.interval).groups()
        low, high = (_bound(bound) for bound in (low, high))
        above = value >= low if low_bracket == "[" else value > low
        below = value <= high if high_bracket == "]" else value < high
        if not (above and below):
            raise UsageError(f"--{name} {value} is outside the allowed range {self.interval}")


def _bound(text: str) -> float:
    """An interval bound: a number, ±inf, pi or pi/2."""
    return {"inf": math.inf, "-inf": -math.inf, "pi": math.pi, "pi/2": math.pi / 2}.get(text) or float(text)


# Component modules import the definitions above, so they are imported only now.
from augmentation.codec import TelephoneCodec  # noqa: E402
from augmentation.mulaw import MuLaw  # noqa: E402
from augmentation.noise import AdditiveNoise  # noqa: E402
from augmentation.rawboost import RawBoost  # noqa: E402
from augmentation.speed import SpeedPerturbation  # noqa: E402
from augmentation.time_mask import TimeMask  # noqa: E402
from classifiers.differential import FFConcat, FFDiff, FFDiffAbs, FFDiffQuadratic  # noqa: E402
from classifiers.feedforward import FF, EmbeddingFF  # noqa: E402
from datasets.registry import CORPUS_DATASETS  # noqa: E402
from datasets.synthetic import SyntheticDataset  # noqa: E402
from extractors.spectral import LFCC, MFCC, LogSpec  # noqa: E402
from extractors.ssl import SSL_EXTRACTORS  # noqa: E402
from losses.a_softmax import ASoftmaxLoss  # noqa: E402
from losses.additive_angular_margin import AdditiveAngularMarginLoss  # noqa: E402
from losses.combined import CombinedLoss  # noqa: E402
from losses.cosface import CosFaceLoss  # noqa: E402
from losses.cross_entropy import CrossEntropyLoss  # noqa: E402
from losses.focal import FocalLoss  # noqa: E402
from losses.focal_style_proxy_anchor import FocalStyleProxyAnchorLoss  # noqa: E402
from losses.large_margin_softmax import LargeMarginSoftmaxLoss  # noqa: E402
from losses.magface import MagFaceLoss  # noqa: E402
from losses.normalized_softmax import NormalizedSoftmaxLoss  # noqa: E402
from losses.oc_softmax import OCSoftmaxLoss  # noqa: E402
from losses.pml_adapter import PML_LOSSES, PML_MINERS, PMLLoss  # noqa: E402
from losses.proxy_anchor import ProxyAnchorLoss  # noqa: E402
from losses.proxy_nca import ProxyNCALoss  # noqa: E402
from losses.soft_triple import SoftTripleLoss  # noqa: E402
from losses.sphereface2 import SphereFace2Loss  # noqa: E402
from losses.subcenter_arcface import SubCenterArcFaceLoss  # noqa: E402
from processors.aasist import AASIST  # noqa: E402
from processors.mean import MeanPooling  # noqa: E402
from processors.mhfa import MHFA, ContextAwareMHFA  # noqa: E402
from processors.sls import SLS  # noqa: E402
from processors.statistics import AttentiveStatisticsPooling, MeanStdPooling  # noqa: E402

EXTRACTORS = {"LFCC": LFCC, "MFCC": MFCC, "LogSpec": LogSpec, **SSL_EXTRACTORS}
PROCESSORS = {
    "Mean": MeanPooling,
    "MeanStd": MeanStdPooling,
    "ASP": AttentiveStatisticsPooling,
    "MHFA": MHFA,
    "CA-MHFA": ContextAwareMHFA,
    "AASIST": AASIST,
    "SLS": SLS,
}
CLASSIFIERS = {
    "FF": FF,
    "EmbeddingFF": EmbeddingFF,
    "FFDiff": FFDiff,
    "FFDiffAbs": FFDiffAbs,
    "FFDiffQuadratic": FFDiffQuadratic,
    "FFConcat": FFConcat,
}
EMBEDDING_COMPATIBLE_CLASSIFIERS = ("EmbeddingFF",)
LOSSES = {
    "CrossEntropy": CrossEntropyLoss,
    "Focal": FocalLoss,
    "AdditiveAngularMargin": AdditiveAngularMarginLoss,
    "CosFace": CosFaceLoss,
    "ASoftmax": ASoftmaxLoss,
    "LargeMarginSoftmax": LargeMarginSoftmaxLoss,
    "SphereFace2": SphereFace2Loss,
    "MagFace": MagFaceLoss,
    "OCSoftmax": OCSoftmaxLoss,
    "ProxyAnchor": ProxyAnchorLoss,
    "FocalStyleProxyAnchor": FocalStyleProxyAnchorLoss,
    "ProxyNCA": ProxyNCALoss,
    "NormalizedSoftmax": NormalizedSoftmaxLoss,
    "SoftTriple": SoftTripleLoss,
    "SubCenterArcFace": SubCenterArcFaceLoss,
    "Combined": CombinedLoss,
    **PML_LOSSES,
}
LOSS_ALIASES = {"ArcFace": "AdditiveAngularMargin", "AMSoftmax": "CosFace", "SphereFace": "ASoftmax"}
MINERS = PML_MINERS
AUGMENTATIONS = {
    "rawboost": RawBoost,
    "noise": AdditiveNoise,
    "time_mask": TimeMask,
    "mulaw": MuLaw,
    "speed": SpeedPerturbation,
    "codec": TelephoneCodec,
}
DATASETS = {"Synthetic": SyntheticDataset, **CORPUS_DATASETS}

REGISTRIES = {
    "extractor": EXTRACTORS,
    "processor": PROCESSORS,
    "classifier": CLASSIFIERS,
    "loss": LOSSES,
    "miner": MINERS,
    "augmentation": AUGMENTATIONS,
}


def hyper_parameter_metadata(component: type) -> dict[str, dict]:
    """`{name: {"default", "type", "help", ...}}` for a component; defaults come from its constructor."""
    signature = inspect.signature(component).parameters
    return {
        name: {
            "default": signature[name].default,
            "type": spec.type.__name__,
            "help": spec.help,
            **({"choices": list(spec.choices)} if spec.choices and not callable(spec.choices) else {}),
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


def parse_loss_spec(spec: str) -> list[str]:
    """The registered names of the losses in `spec`: one name or alias, or several joined by '+'."""
    names = [LOSS_ALIASES.get(name, name) for name in spec.split("+")]
    for name in names:
        if name not in LOSSES:
            raise UsageError(
                f"--loss {spec}: unknown loss {name!r}; choose from {', '.join([*LOSSES, *LOSS_ALIASES])} (or join several with +)"
            )
    if len(set(names)) < len(names):
        raise UsageError(f"--loss {spec} names a loss twice; give each loss once and weigh it with --loss_weights")
    return names


def loss_type(names: list[str]) -> str:
    """"logits", "embedding" or "combined" for a sum of the named losses."""
    types = {LOSS_METADATA[name]["type"] for name in names}
    return types.pop() if len(types) == 1 else "combined"


def check_combination(
    extractor: str, processor: str, classifier: str, losses: list[str], miner: str | None = None, dataset: str | None = None
) -> None:
    """Refuse, with a UsageError naming the fix, a combination of components that cannot work together."""
    for stage, name in (("extractor", extractor), ("processor", processor), ("classifier", classifier)):
        if name not in REGISTRIES[stage]:
            raise UsageError(f"unknown {stage} {name!r}; choose one of {', '.join(REGISTRIES[stage])}")
    kind = loss_type(losses)
    if kind != "logits" and classifier not in EMBEDDING_COMPATIBLE_CLASSIFIERS:
        raise UsageError(
            f"--loss {'+'.join(losses)} is an {kind} loss and needs a classifier that returns an embedding; "
            f"--classifier {classifier} returns logits only: use --classifier "
            f"{' or '.join(EMBEDDING_COMPATIBLE_CLASSIFIERS)}"
        )
    if getattr(CLASSIFIERS[classifier], "pair_input", False) and dataset is not None and not getattr(DATASETS[dataset], "pairs", False):
        pair_datasets = [name for name, corpus in DATASETS.items() if getattr(corpus, "pairs", False)]
        raise UsageError(
            f"--classifier {classifier} compares each trial with a bona fide reference and needs a pair dataset; "
            f"--dataset {dataset} has no references: use one of {', '.join(pair_datasets)}"
        )
    if miner is not None and not any(issubclass(LOSSES[name], PMLLoss) for name in losses):
        raise UsageError(
            f"--miner {miner} chooses pairs for pytorch-metric-learning pair losses, and --loss {'+'.join(losses)} "
            f"has none; use a loss such as {', '.join(list(PML_LOSSES)[:3])}, or drop --miner"
        )
