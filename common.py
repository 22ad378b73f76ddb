"""The registries: every component by name, the losses' metadata, and the one check of a combination.

Imports run one way: conventions.py <- the components <- this module <- building, training,
reporting and the command line. No component imports this module; a component that needs another
one (Combined's embedding loss, CrossBatchMemory's pair loss) declares it with a
conventions.ComponentChoice and the builder (model.py) hands it in. Adding a component is its
file plus one line here.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from augmentation.codec import TelephoneCodec
from augmentation.mulaw import MuLaw
from augmentation.noise import AdditiveNoise
from augmentation.rawboost import RawBoost
from augmentation.speed import SpeedPerturbation
from augmentation.time_mask import TimeMask
from classifiers.differential import FFConcat, FFDiff, FFDiffAbs, FFDiffQuadratic
from classifiers.feedforward import FF, EmbeddingFF, LinearHead
from conventions import N_CLASSES, ComponentChoice, UsageError, declarations
from datasets.asvspoof import (
    ASVspoof5Dataset_pair,
    ASVspoof5Dataset_single,
    ASVspoof2019LADataset_pair,
    ASVspoof2019LADataset_single,
    ASVspoof2021DFDataset_pair,
    ASVspoof2021DFDataset_single,
    ASVspoof2021LADataset_pair,
    ASVspoof2021LADataset_single,
)
from datasets.in_the_wild import InTheWildDataset_pair, InTheWildDataset_single
from datasets.protocol import ProtocolDataset_pair, ProtocolDataset_single
from datasets.synthetic import SyntheticDataset, SyntheticDataset_pair
from extractors.sinc import SincAASIST, SincRawNet2
from extractors.spectral import LFCC, MFCC, LogSpec
from extractors.ssl import SSL_EXTRACTORS
from losses.a_softmax import ASoftmaxLoss
from losses.additive_angular_margin import AdditiveAngularMarginLoss
from losses.combined import CombinedLoss
from losses.cosface import CosFaceLoss
from losses.cross_entropy import CrossEntropyLoss
from losses.focal import FocalLoss
from losses.focal_style_proxy_anchor import FocalStyleProxyAnchorLoss
from losses.label_smoothing import LabelSmoothingLoss
from losses.large_margin_softmax import LargeMarginSoftmaxLoss
from losses.magface import MagFaceLoss
from losses.normalized_softmax import NormalizedSoftmaxLoss
from losses.oc_softmax import OCSoftmaxLoss
from losses.pml_adapter import PML_LOSSES, PML_MINERS, PMLLoss
from losses.proxy_anchor import ProxyAnchorLoss
from losses.proxy_nca import ProxyNCALoss
from losses.soft_triple import SoftTripleLoss
from losses.sphereface2 import SphereFace2Loss
from losses.subcenter_arcface import SubCenterArcFaceLoss
from processors import raw_aasist, rawnet2
from processors.aasist import AASIST
from processors.conformer import TCM, Conformer
from processors.lcnn import LCNN
from processors.mean import MeanPooling
from processors.mhfa import MHFA, ContextAwareMHFA
from processors.nes2net import Nes2NetX
from processors.raw_aasist import RawAASIST, RawAASISTL
from processors.rawnet2 import RawNet2
from processors.sls import SLS
from processors.statistics import AttentiveStatisticsPooling, MeanStdPooling

EXTRACTORS = {
    "LFCC": LFCC,
    "MFCC": MFCC,
    "LogSpec": LogSpec,
    "SincAASIST": SincAASIST,
    "SincRawNet2": SincRawNet2,
    **SSL_EXTRACTORS,
}
PROCESSORS = {
    "Mean": MeanPooling,
    "MeanStd": MeanStdPooling,
    "ASP": AttentiveStatisticsPooling,
    "MHFA": MHFA,
    "CA-MHFA": ContextAwareMHFA,
    "AASIST": AASIST,
    "SLS": SLS,
    "RawAASIST": RawAASIST,
    "RawAASIST-L": RawAASISTL,
    "RawNet2": RawNet2,
    "LCNN": LCNN,
    "Nes2Net-X": Nes2NetX,
    "Conformer": Conformer,
    "TCM": TCM,
}
CLASSIFIERS = {
    "Linear": LinearHead,
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
    "LabelSmoothing": LabelSmoothingLoss,
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
DATASETS = {
    "Synthetic": SyntheticDataset,
    "Synthetic_pair": SyntheticDataset_pair,
    "ASVspoof2019LADataset_single": ASVspoof2019LADataset_single,
    "ASVspoof2019LADataset_pair": ASVspoof2019LADataset_pair,
    "ASVspoof2021LADataset_single": ASVspoof2021LADataset_single,
    "ASVspoof2021LADataset_pair": ASVspoof2021LADataset_pair,
    "ASVspoof2021DFDataset_single": ASVspoof2021DFDataset_single,
    "ASVspoof2021DFDataset_pair": ASVspoof2021DFDataset_pair,
    "ASVspoof5Dataset_single": ASVspoof5Dataset_single,
    "ASVspoof5Dataset_pair": ASVspoof5Dataset_pair,
    "InTheWildDataset_single": InTheWildDataset_single,
    "InTheWildDataset_pair": InTheWildDataset_pair,
    "ProtocolDataset_single": ProtocolDataset_single,
    "ProtocolDataset_pair": ProtocolDataset_pair,
}


@dataclass(frozen=True)
class ReferenceModel:
    """A published countermeasure as its stage choices, every setting at its default.

    `stack` is the layer stack (L, D) of a pretrained extractor, to count the back-end's parameters
    without its weights; None when the extractor is built from its settings alone. `key_map` turns
    the authors' released state_dict into (the processor's state, the state of the Linear
    classifier's nn.Linear); `scoring_flags` are the flags that score as the authors do.
    """

    extractor: str
    processor: str
    classifier: str
    reference: str
    published: str
    stack: tuple[int, int] | None = None
    key_map: Callable[[Mapping[str, torch.Tensor]], tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]] | None = None
    scoring_flags: tuple[str, ...] = ()


XLSR_300M_STACK = (25, 1024)  # the CNN output and 24 transformer layers of 1024 values
# clovaai/aasist scores the first 64,600 samples (repeated when shorter) by the bona fide logit
AASIST_SCORING = ("--eval_max_len", "64600samples", "--CrossEntropy.scoring", "bonafide_logit")
REFERENCE_MODELS = {
    "AASIST": ReferenceModel(
        "SincAASIST", "RawAASIST", "Linear", "Jung et al., ICASSP 2022 (clovaai/aasist)",
        "ASVspoof 2019 LA eval: 0.83 % EER, min t-DCF 0.0275",
        key_map=raw_aasist.from_reference_state_dict, scoring_flags=AASIST_SCORING,
    ),
    "AASIST-L": ReferenceModel(
        "SincAASIST", "RawAASIST-L", "Linear", "Jung et al., ICASSP 2022 (clovaai/aasist)",
        "ASVspoof 2019 LA eval: 0.99 % EER, min t-DCF 0.0309",
        key_map=raw_aasist.from_reference_state_dict, scoring_flags=AASIST_SCORING,
    ),
    "RawNet2": ReferenceModel(
        "SincRawNet2", "RawNet2", "Linear", "Tak et al., ICASSP 2021; the ASVspoof 2021 baseline (asvspoof-challenge/2021)",
        "the raw-waveform baseline of ASVspoof 2021 LA and DF",
        key_map=rawnet2.from_reference_state_dict, scoring_flags=("--eval_max_len", "64600samples"),
    ),
    "LFCC-LCNN": ReferenceModel(
        "LFCC", "LCNN", "Linear", "Wang and Yamagishi, Interspeech 2021; the ASVspoof 2021 baseline (LCNN-LSTM-sum)",
        "ASVspoof 2019 LA eval: 1.92-3.10 % EER over six seeds",
    ),
    "XLSR-AASIST": ReferenceModel(
        "XLSR_300M", "AASIST", "Linear", "Tak et al., Odyssey 2022 (TakHemlata/SSL_Anti-spoofing)",
        "ASVspoof 2021 LA and DF, XLSR-300M fine-tuned", stack=XLSR_300M_STACK,
    ),
    "XLSR-Nes2Net-X": ReferenceModel(
        "XLSR_300M", "Nes2Net-X", "Linear", "Liu et al., IEEE TIFS 2025 (Liu-Tianchi/Nes2Net_ASVspoof_ITW)",
        "ASVspoof 2021 DF: 1.49-1.65 % EER; In-the-Wild: 5.15-5.52 %", stack=XLSR_300M_STACK,
    ),
    "XLSR-Conformer": ReferenceModel(
        "XLSR_300M", "Conformer", "Linear",
        "Rosello et al., Interspeech 2023 (ErosRos/conformer-based-classifier-for-anti-spoofing)",
        "ASVspoof 2021 LA and DF, XLSR-300M fine-tuned", stack=XLSR_300M_STACK,
    ),
    "XLSR-TCM": ReferenceModel(
        "XLSR_300M", "TCM", "Linear", "Truong et al., Interspeech 2024 (ductuantruong/tcm_add)",
        "ASVspoof 2021 LA: 1.03 % EER, DF: 2.06 %; In-the-Wild: 7.79 %", stack=XLSR_300M_STACK,
    ),
}


def reference_model_modules(model: ReferenceModel) -> tuple[nn.Module | None, nn.Module, nn.Module]:
    """(extractor, processor, classifier) of a reference model at its default settings; the extractor
    is None for a pretrained one, whose back-end is built on its layer stack `model.stack`."""
    if model.stack is None:
        extractor = EXTRACTORS[model.extractor]()
        n_layers, dim = extractor.n_layers, extractor.dim
    else:
        extractor, (n_layers, dim) = None, model.stack
    processor = PROCESSORS[model.processor](n_layers=n_layers, dim=dim)
    return extractor, processor, CLASSIFIERS[model.classifier](in_dim=processor.out_dim, n_classes=N_CLASSES)


def reference_model_parameters(model: ReferenceModel) -> int:
    """Parameters of a reference model at its default settings: extractor (when built from its settings
    alone), processor and classifier; for a pretrained extractor, of the back-end on its layer stack."""
    modules = [module for module in reference_model_modules(model) if module is not None]
    return sum(parameter.numel() for module in modules for parameter in module.parameters())


# the component registries by stage: the stages whose components take settings
REGISTRIES = {
    "extractor": EXTRACTORS,
    "processor": PROCESSORS,
    "classifier": CLASSIFIERS,
    "loss": LOSSES,
    "miner": MINERS,
    "augmentation": AUGMENTATIONS,
}


def component_choices(choice: ComponentChoice) -> tuple[str, ...]:
    """The registered names a ComponentChoice accepts."""
    return tuple(name for name, component in REGISTRIES[choice.stage].items() if choice.accepts(component))


def parameter_metadata(component: type) -> dict[str, dict]:
    """`{name: {"default", "type", "help", "none", "unit", "interval", "choices"}}` of a component's
    settings (unit, interval and choices only where declared; none, what a None default means, only
    for those)."""
    metadata = {}
    for name, declared in declarations(component).items():
        spec = declared.spec
        choices = component_choices(spec) if isinstance(spec, ComponentChoice) else spec.choices
        metadata[name] = {
            "default": declared.default,
            "type": declared.type.__name__,
            "help": spec.help,
            **({"none": spec.none} if declared.default is None else {}),
            **({"unit": spec.unit} if getattr(spec, "unit", None) else {}),
            **({"interval": spec.interval} if getattr(spec, "interval", None) else {}),
            **({"choices": list(choices)} if choices else {}),
        }
    return metadata


LOSS_METADATA = {
    name: {
        "type": loss.loss_type,
        "parameters": parameter_metadata(loss),
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
