"""pytorch-metric-learning's pair and tuple losses, and its miners, by their PML names through one adapter.

`PML_LOSSES["TripletMargin"]` is a BaseLoss around `pytorch_metric_learning.losses.TripletMarginLoss`;
`PML_MINERS["MultiSimilarity"]` builds `miners.MultiSimilarityMiner`. Parameters keep PML's names
and defaults, except that angles are in radians here (PML takes degrees) and a logit scale is `s`.
"""
from __future__ import annotations

import inspect
import math
from typing import Annotated, Any

import torch
import torch.distributed as dist
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning import miners as pml_miners
from pytorch_metric_learning.distances import CosineSimilarity, SNRDistance
from torch import nn

from conventions import BONAFIDE, ComponentChoice, HyperParameter
from losses.base import BaseLoss
from losses.geometry import normalize

CENTROID_MOMENTUM = 0.9  # weight of the running centroid against each new training batch's bona fide mean


def _triplets_per_anchor(value: str) -> Any:
    return value if value == "all" else int(value)


class AcosSafeCosineSimilarity(CosineSimilarity):
    """PML's cosine similarity kept one machine epsilon inside ±1: losses that take its acos
    (TupletMargin) would otherwise get NaN from rounding past 1 and an infinite gradient at 1."""

    def compute_mat(self, query_emb: torch.Tensor, ref_emb: torch.Tensor) -> torch.Tensor:
        similarity = super().compute_mat(query_emb, ref_emb)
        eps = torch.finfo(similarity.dtype).eps
        return similarity.clamp(-1 + eps, 1 - eps)


class FiniteSNRDistance(SNRDistance):
    """PML's signal-to-noise distance var(b − a) / var(a), with var(a) kept above one machine
    epsilon: a zero (or constant) anchor would divide by zero. A unit vector of E ≤ 10^6
    components that is not constant has var(a) ≥ 1/E ≫ epsilon, so only those anchors change."""

    def compute_mat(self, query_emb: torch.Tensor, ref_emb: torch.Tensor) -> torch.Tensor:
        noise = torch.var(query_emb.unsqueeze(1) - ref_emb, dim=2)
        return noise / _floored_variance(query_emb).unsqueeze(1)

    def pairwise_distance(self, query_emb: torch.Tensor, ref_emb: torch.Tensor) -> torch.Tensor:
        return torch.var(query_emb - ref_emb, dim=1) / _floored_variance(query_emb)


def _floored_variance(x: torch.Tensor) -> torch.Tensor:
    return torch.var(x, dim=1).clamp_min(torch.finfo(x.dtype).eps)


class PMLLoss(BaseLoss):
    """A PML loss on the L2-normalised embedding [B, E'], with an optional PML miner choosing its
    pairs or triplets. (PML's distances normalise the embeddings anyway; normalising first, without
    overflow, keeps huge embeddings finite, and gives Angular, which also uses the raw embeddings,
    the unit-norm features of its paper.)

    PML's pair and tuple losses have no class weights, so the score is the cosine between the
    embedding and `bonafide_centroid [E']`: an exponential moving average (CENTROID_MOMENTUM per
    training batch) of the mean L2-normalised bona fide training embedding, kept as a buffer
    so that it is saved in checkpoints.
    """

    loss_type = "embedding"
    score_description = "cosine between the embedding and the running centroid of the bona fide training embeddings"
    pml_class: type
    defaults: dict[str, Any] = {}  # our parameters and their defaults
    angles: tuple[str, ...] = ()  # parameters in radians here, in degrees for PML
    renamed: dict[str, str] = {}  # our name -> PML's name
    converters: dict[str, Any] = {}  # parameter -> function turning our value into PML's
    distance: type | None = None  # a PML distance class replacing the loss's default one

    def __init__(self, embedding_dim: int, n_classes: int, **parameters: Any) -> None:
        super().__init__(embedding_dim, n_classes)
        self.loss = self.pml_loss(embedding_dim, {**self.defaults, **parameters})
        self.miner = None
        self.register_buffer("bonafide_centroid", torch.zeros(embedding_dim))
        self.register_buffer("centroid_initialised", torch.tensor(False))

    @classmethod
    def pml_loss(cls, embedding_dim: int, parameters: dict[str, Any]) -> nn.Module:
        """The PML loss for our parameter values (angles converted to degrees, names to PML's)."""
        converted = {}
        for name, value in parameters.items():
            if name in cls.angles:
                value = math.degrees(value)
            if name in cls.converters:
                value = cls.converters[name](value)
            converted[cls.renamed.get(name, name)] = value
        if cls.distance is not None:
            converted["distance"] = cls.distance()
        return cls.pml_class(**converted)

    @torch.no_grad()
    def update_centroid(self, embedding: torch.Tensor, labels: torch.Tensor) -> None:
        bonafide = embedding[labels == BONAFIDE]
        if len(bonafide) == 0:
            return
        mean = bonafide.mean(0).to(self.bonafide_centroid.dtype)
        if self.centroid_initialised:
            mean = CENTROID_MOMENTUM * self.bonafide_centroid + (1 - CENTROID_MOMENTUM) * mean
        self.bonafide_centroid.copy_(mean)
        self.centroid_initialised.fill_(True)

    def compute_loss(self, embedding: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        embedding = normalize(embedding)
        if self.training and torch.is_grad_enabled():
            embedding, labels = gathered_across_ranks(embedding, labels)
        if self.training:
            self.update_centroid(embedding.detach(), labels)
        indices = None if self.miner is None else self.miner(embedding, labels)
        return self.loss(embedding, labels, indices)

    def compute_score(self, embedding: torch.Tensor) -> torch.Tensor:
        return normalize(embedding) @ normalize(self.bonafide_centroid.to(embedding.dtype))


def is_memory_loss(loss: type) -> bool:
    """Whether CrossBatchMemory can hold `loss`: a PML pair loss other than itself."""
    return issubclass(loss, PMLLoss) and not issubclass(loss, CrossBatchMemoryLoss)


def gathered_across_ranks(embedding: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Under torchrun, the embeddings [N, E'] (with their gradients) and labels [N] of every rank's
    batch, in rank order, so that a pair loss pairs across the whole global batch; unchanged in one
    process. Every rank computes the same loss; the gradient reaching each rank's own embeddings is
    the sum over ranks, which DDP's average over ranks turns back into the gradient of that loss."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return embedding, labels
    world_size = dist.get_world_size()
    sizes = [torch.zeros(1, dtype=torch.long, device=labels.device) for _ in range(world_size)]
    dist.all_gather(sizes, torch.tensor([len(labels)], device=labels.device))
    largest = max(int(size) for size in sizes)
    embeddings = _GatherWithGradients.apply(torch.nn.functional.pad(embedding, (0, 0, 0, largest - len(embedding))))
    padded_labels = torch.nn.functional.pad(labels, (0, largest - len(labels)))
    label_lists = [torch.empty_like(padded_labels) for _ in range(world_size)]
    dist.all_gather(label_lists, padded_labels)
    return (
        torch.cat([part[: int(size)] for part, size in zip(embeddings.split(largest), sizes)]),
        torch.cat([part[: int(size)] for part, size in zip(label_lists, sizes)]),
    )


class _GatherWithGradients(torch.autograd.Function):
    """[N, ...] on each rank -> [world_size · N, ...], every rank's in rank order; the gradient of a
    rank's own rows is the sum of the gradients that every rank's copy of them received."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, gradient: torch.Tensor) -> torch.Tensor:
        gradient = gradient.contiguous().clone()
        dist.all_reduce(gradient)
        rows = gradient.shape[0] // dist.get_world_size()
        return gradient[dist.get_rank() * rows : (dist.get_rank() + 1) * rows]


class CrossBatchMemoryLoss(PMLLoss):
    """PML's CrossBatchMemory (Wang et al., Cross-Batch Memory for Embedding Learning, CVPR 2020):
    `memory_loss`, a PML pair loss handed in by the builder (made with its own settings), also pairs
    the batch with the last `memory_size` embeddings of earlier batches."""

    pml_class = pml_losses.CrossBatchMemory
    reference = "Wang et al., Cross-Batch Memory for Embedding Learning, CVPR 2020"

    def __init__(
        self,
        embedding_dim: int,
        n_classes: int,
        *,
        memory_loss: Annotated[
            PMLLoss,
            ComponentChoice(
                "loss", "memory_loss", "Contrastive", "the PML loss applied to the batch and the memory (its own settings apply)", is_memory_loss
            ),
        ],
        memory_size: Annotated[int, HyperParameter("embeddings kept from earlier batches", interval="[1, inf)")] = 1024,
    ) -> None:
        super().__init__(embedding_dim, n_classes, memory_loss=memory_loss, memory_size=memory_size)

    @classmethod
    def pml_loss(cls, embedding_dim: int, parameters: dict[str, Any]) -> nn.Module:
        return cls.pml_class(parameters["memory_loss"].loss, embedding_size=embedding_dim, memory_size=parameters["memory_size"])

    def get_extra_state(self) -> dict[str, Any]:
        """The memory's write position and whether it has wrapped (PML keeps them outside its buffers)."""
        return {"queue_idx": int(self.loss.queue_idx), "has_been_filled": bool(self.loss.has_been_filled)}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.loss.queue_idx, self.loss.has_been_filled = int(state["queue_idx"]), bool(state["has_been_filled"])


class PMLMiner(nn.Module):
    """A PML miner: (embedding [B, E'], labels [B]) -> the index tuple a PML loss takes.

    Settings are `miner_<PML name>`; angles are in radians here, in degrees for PML.
    """

    pml_class: type
    defaults: dict[str, Any] = {}
    angles: tuple[str, ...] = ()

    def __init__(self, **parameters: Any) -> None:
        super().__init__()
        self.miner = self.pml_class(
            **{
                name.removeprefix("miner_"): math.degrees(value) if name in self.angles else value
                for name, value in {**self.defaults, **parameters}.items()
            }
        )

    def forward(self, embedding: torch.Tensor, labels: torch.Tensor) -> tuple:
        return self.miner(embedding, labels)


def _registered(base: type, name: str, pml_class: type, parameters: dict, reference: str, **attributes: Any) -> type:
    """A subclass of `base` for `pml_class` with `parameters` {name: (default, annotation)}.

    The table entry is the one declaration of each setting: the class's signature takes it as a
    keyword argument with that default and annotation, as a hand-written constructor would
    (conventions.declarations reads it there), and `defaults` applies it when the argument is left out.
    """
    fixed = [parameter for parameter in inspect.signature(base).parameters.values() if parameter.kind is not parameter.VAR_KEYWORD]
    keywords = [
        inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for key, (default, annotation) in parameters.items()
    ]
    return type(
        name,
        (base,),
        {
            "__doc__": f"pytorch-metric-learning's {pml_class.__name__} ({reference}).",
            "__signature__": inspect.Signature(fixed + keywords),
            "pml_class": pml_class,
            "defaults": {key: default for key, (default, _) in parameters.items()},
            "reference": reference,
            **attributes,
        },
    )


def _float(default: float, help: str, interval: str | None = None, unit: str | None = None) -> tuple[float, Any]:
    return default, Annotated[float, HyperParameter(help, unit=unit, interval=interval)]


_DISTANCE_MARGINS = {
    "pos_margin": _float(0.0, "positive pairs are penalised beyond this distance", "[0, inf)", "L2 distance of unit vectors"),
    "neg_margin": _float(1.0, "negative pairs are penalised within this distance", "[0, inf)", "L2 distance of unit vectors"),
}
_TRIPLETS_PER_ANCHOR = ("all", Annotated[str, HyperParameter("triplets per anchor: 'all' or a number", pattern="all|[1-9][0-9]*")])

_LOSS_TABLE: dict[str, tuple[type, dict, str, dict]] = {
    "Angular": (
        pml_losses.AngularLoss,
        {"alpha": _float(math.radians(40), "angle bound α", "(0, pi/2)", "radians")},
        "Wang et al., Deep Metric Learning with Angular Loss, ICCV 2017",
        {"angles": ("alpha",)},
    ),
    "Circle": (
        pml_losses.CircleLoss,
        {"m": _float(0.4, "relaxation margin m", "[0, 1]", "cosine units"), "gamma": _float(80.0, "scale γ", "(0, inf)")},
        "Sun et al., Circle Loss: A Unified Perspective of Pair Similarity Optimization, CVPR 2020",
        {},
    ),
    "Contrastive": (pml_losses.ContrastiveLoss, dict(_DISTANCE_MARGINS), "Hadsell et al., Dimensionality Reduction by Learning an Invariant Mapping, CVPR 2006", {}),
    "FastAP": (
        pml_losses.FastAPLoss,
        {"num_bins": (10, Annotated[int, HyperParameter("histogram bins", interval="[1, inf)")])},
        "Cakir et al., Deep Metric Learning to Rank, CVPR 2019",
        {},
    ),
    "GeneralizedLiftedStructure": (
        pml_losses.GeneralizedLiftedStructureLoss,
        dict(_DISTANCE_MARGINS),
        "Hermans et al., In Defense of the Triplet Loss for Person Re-Identification, 2017",
        {},
    ),
    "IntraPairVariance": (
        pml_losses.IntraPairVarianceLoss,
        {"pos_eps": _float(0.01, "tolerance ε+ of positive similarities", "[0, 1]", "fraction"), "neg_eps": _float(0.01, "tolerance ε− of negative similarities", "[0, 1]", "fraction")},
        "Yu et al., Deep Metric Learning with Tuplet Margin Loss, ICCV 2019",
        {},
    ),
    "LiftedStructure": (
        pml_losses.LiftedStructureLoss,
        dict(_DISTANCE_MARGINS),
        "Oh Song et al., Deep Metric Learning via Lifted Structured Feature Embedding, CVPR 2016",
        {},
    ),
    "Margin": (
        pml_losses.MarginLoss,
        {
            "margin": _float(0.2, "margin α around the boundary β", "[0, inf)", "L2 distance of unit vectors"),
            "nu": _float(0.0, "regularisation weight ν of β", "[0, inf)"),
            "beta": _float(1.2, "boundary β between positive and negative distances", "[0, inf)", "L2 distance of unit vectors"),
            "triplets_per_anchor": _TRIPLETS_PER_ANCHOR,
        },
        "Wu et al., Sampling Matters in Deep Embedding Learning, ICCV 2017",
        {"converters": {"triplets_per_anchor": _triplets_per_anchor}},
    ),
    "MultiSimilarity": (
        pml_losses.MultiSimilarityLoss,
        {
            "alpha": _float(2.0, "weight α of positive pairs", "(0, inf)"),
            "beta": _float(50.0, "weight β of negative pairs", "(0, inf)"),
            "base": _float(0.5, "similarity offset λ", "[-1, 1]", "cosine units"),
        },
        "Wang et al., Multi-Similarity Loss with General Pair Weighting, CVPR 2019",
        {},
    ),
    "NCA": (
        pml_losses.NCALoss,
        {"softmax_scale": _float(1.0, "scale of the negative squared distances in the softmax", "(0, inf)")},
        "Goldberger et al., Neighbourhood Components Analysis, NeurIPS 2004",
        {},
    ),
    "NPairs": (pml_losses.NPairsLoss, {}, "Sohn, Improved Deep Metric Learning with Multi-class N-pair Loss Objective, NeurIPS 2016", {}),
    "NTXent": (
        pml_losses.NTXentLoss,
        {"temperature": _float(0.07, "softmax temperature τ", "(0, inf)", "cosine units")},
        "Chen et al., A Simple Framework for Contrastive Learning of Visual Representations, ICML 2020",
        {},
    ),
    "SignalToNoiseRatioContrastive": (
        pml_losses.SignalToNoiseRatioContrastiveLoss,
        {
            "pos_margin": _float(0.0, "positive pairs are penalised beyond this distance", "[0, inf)", "signal-to-noise distance"),
            "neg_margin": _float(1.0, "negative pairs are penalised within this distance", "[0, inf)", "signal-to-noise distance"),
        },
        "Yuan et al., Signal-to-Noise Ratio: A Robust Distance Metric for Deep Metric Learning, CVPR 2019",
        {"distance": FiniteSNRDistance},
    ),
    "SupCon": (
        pml_losses.SupConLoss,
        {"temperature": _float(0.1, "softmax temperature τ", "(0, inf)", "cosine units")},
        "Khosla et al., Supervised Contrastive Learning, NeurIPS 2020",
        {},
    ),
    "ThresholdConsistentMargin": (
        pml_losses.ThresholdConsistentMarginLoss,
        {
            "lambda_plus": _float(1.0, "weight λ+ of the positive term", "[0, inf)"),
            "lambda_minus": _float(1.0, "weight λ− of the negative term", "[0, inf)"),
            "margin_plus": _float(0.9, "margin m+ of positive pairs", "[-1, 1]", "cosine"),
            "margin_minus": _float(0.5, "margin m− of negative pairs", "[-1, 1]", "cosine"),
        },
        "Zhang et al., Threshold-Consistent Margin Loss for Open-World Deep Metric Learning, ICLR 2024",
        {},
    ),
    "TripletMargin": (
        pml_losses.TripletMarginLoss,
        {
            "margin": _float(0.05, "margin between anchor-positive and anchor-negative distances", "[0, inf)", "L2 distance of unit vectors"),
            "swap": (False, Annotated[bool, HyperParameter("use the positive-negative distance when it is smaller")]),
            "smooth_loss": (False, Annotated[bool, HyperParameter("softplus instead of the hinge")]),
            "triplets_per_anchor": _TRIPLETS_PER_ANCHOR,
        },
        "Weinberger and Saul, Distance Metric Learning for Large Margin Nearest Neighbor Classification, JMLR 2009",
        {"converters": {"triplets_per_anchor": _triplets_per_anchor}},
    ),
    "TupletMargin": (
        pml_losses.TupletMarginLoss,
        {
            "margin": _float(math.radians(5.73), "angular margin β", "[0, pi)", "radians"),
            "s": _float(64.0, "scale s of the cosine logits", "(0, inf)"),
        },
        "Yu and Tao, Deep Metric Learning with Tuplet Margin Loss, ICCV 2019",
        {"angles": ("margin",), "renamed": {"s": "scale"}, "distance": AcosSafeCosineSimilarity},
    ),
}

PML_LOSSES: dict[str, type[PMLLoss]] = {
    name: _registered(PMLLoss, name, pml_class, parameters, reference, **attributes)
    for name, (pml_class, parameters, reference, attributes) in _LOSS_TABLE.items()
}
PML_LOSSES["CrossBatchMemory"] = CrossBatchMemoryLoss


_STRATEGIES = ("easy", "semihard", "hard", "all")
_MINER_TABLE: dict[str, tuple[type, dict, str, dict]] = {
    "Angular": (pml_miners.AngularMiner, {"miner_angle": _float(math.radians(20), "triplets whose angle at the negative exceeds this", "[0, pi)", "radians")}, "Wang et al., ICCV 2017", {"angles": ("miner_angle",)}),
    "BatchEasyHard": (
        pml_miners.BatchEasyHardMiner,
        {
            "miner_pos_strategy": ("easy", Annotated[str, HyperParameter("which positive per anchor", choices=_STRATEGIES)]),
            "miner_neg_strategy": ("semihard", Annotated[str, HyperParameter("which negative per anchor", choices=_STRATEGIES)]),
        },
        "Xuan et al., Improved Embeddings with Easy Positive Triplet Mining, WACV 2020",
        {},
    ),
    "BatchHard": (pml_miners.BatchHardMiner, {}, "Hermans et al., In Defense of the Triplet Loss, 2017", {}),
    "DistanceWeighted": (
        pml_miners.DistanceWeightedMiner,
        {
            "miner_cutoff": _float(0.5, "distances are clipped below this", "[0, inf)", "L2 distance of unit vectors"),
            "miner_nonzero_loss_cutoff": _float(1.4, "negatives farther than this are ignored", "[0, inf)", "L2 distance of unit vectors"),
        },
        "Wu et al., Sampling Matters in Deep Embedding Learning, ICCV 2017",
        {},
    ),
    "HDC": (pml_miners.HDCMiner, {"miner_filter_percentage": _float(0.5, "share of pairs kept", "(0, 1]", "fraction")}, "Yuan et al., Hard-Aware Deeply Cascaded Embedding, ICCV 2017", {}),
    "MultiSimilarity": (pml_miners.MultiSimilarityMiner, {"miner_epsilon": _float(0.1, "similarity margin ε of informative pairs", "[0, inf)", "cosine units")}, "Wang et al., CVPR 2019", {}),
    "PairMargin": (
        pml_miners.PairMarginMiner,
        {
            "miner_pos_margin": _float(0.2, "positive pairs farther than this are mined", "[0, inf)", "L2 distance of unit vectors"),
            "miner_neg_margin": _float(0.8, "negative pairs closer than this are mined", "[0, inf)", "L2 distance of unit vectors"),
        },
        "pytorch-metric-learning",
        {},
    ),
    "TripletMargin": (
        pml_miners.TripletMarginMiner,
        {
            "miner_margin": _float(0.2, "triplet margin", "[0, inf)", "L2 distance of unit vectors"),
            "miner_type_of_triplets": ("all", Annotated[str, HyperParameter("which triplets violate the margin", choices=("all", "hard", "semihard", "easy"))]),
        },
        "pytorch-metric-learning",
        {},
    ),
}

PML_MINERS: dict[str, type[PMLMiner]] = {
    name: _registered(PMLMiner, name, pml_class, parameters, reference, **attributes)
    for name, (pml_class, parameters, reference, attributes) in _MINER_TABLE.items()
}
