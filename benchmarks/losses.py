"""Forward + backward time of every registered loss against plain Linear + cross-entropy and PML.

Run: .venv/bin/python benchmarks/losses.py [--repeats N]

B = 256 embeddings of E' = 256 dimensions, C = 2 and C = 1000 classes, float32 on the CPU. Each
time is the median of N runs of forward + backward (the loss's own parameters included) after
warm-up. The baseline, measured in the same run, is a Linear(E', C) head with F.cross_entropy;
"vs PML" compares with pytorch-metric-learning's loss of the same definition where there is one.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from benchmarks/

from common import LOSS_METADATA, LOSSES  # noqa: E402
from model import build_loss  # noqa: E402

BATCH, EMBEDDING_DIM = 256, 256


def pml_counterpart(name: str, n_classes: int, parameters: dict) -> torch.nn.Module | None:
    """PML's loss of the same definition, configured like ours (None where PML has none)."""
    size = {"num_classes": n_classes, "embedding_size": EMBEDDING_DIM}
    counterparts = {
        "AdditiveAngularMargin": lambda p: pml.ArcFaceLoss(**size, margin=math.degrees(p["margin"]), scale=p["s"]),
        "CosFace": lambda p: pml.CosFaceLoss(**size, margin=p["margin"], scale=p["s"]),
        "ASoftmax": lambda p: pml.SphereFaceLoss(**size, margin=p["margin"], scale=1),
        "LargeMarginSoftmax": lambda p: pml.LargeMarginSoftmaxLoss(**size, margin=p["margin"], scale=p["s"]),
        "ProxyAnchor": lambda p: pml.ProxyAnchorLoss(**size, alpha=p["proxy_alpha"], margin=p["proxy_delta"]),
        "ProxyNCA": lambda p: pml.ProxyNCALoss(**size, softmax_scale=p["softmax_scale"]),
        "NormalizedSoftmax": lambda p: pml.NormalizedSoftmaxLoss(**size, temperature=p["temperature"]),
        "SoftTriple": lambda p: pml.SoftTripleLoss(
            **size, centers_per_class=p["centers_per_class"], la=p["la"], gamma=p["gamma"], margin=p["margin"]
        ),
        "SubCenterArcFace": lambda p: pml.SubCenterArcFaceLoss(
            **size, margin=math.degrees(p["margin"]), scale=p["s"], sub_centers=p["sub_centers"]
        ),
    }
    if name in counterparts:
        return counterparts[name](parameters)
    pml_class = getattr(LOSSES[name], "pml_class", None)
    return None if pml_class is None else build_loss(name, {}, EMBEDDING_DIM, n_classes).loss


def median_seconds(step, repeats: int, budget_seconds: float = 2.0) -> float:
    """Median time of `step` after a warm-up run, over `repeats` runs or as many as fit in the budget
    (at least one: PML's lifted-structure losses take a minute per call with 2 classes)."""
    step()
    times: list[float] = []
    while len(times) < repeats and (not times or sum(times) < budget_seconds):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(loss: torch.nn.Module, output, labels: torch.Tensor, repeats: int) -> float:
    inputs = [tensor for tensor in (output if isinstance(output, tuple) else (output,))]

    def step() -> None:
        for tensor in inputs:
            tensor.grad = None
        loss.zero_grad(set_to_none=True)
        loss(output, labels).backward()

    return median_seconds(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--losses", default=",".join(LOSS_METADATA), help="comma-separated losses (default: all)")
    options = parser.parse_args()
    repeats, names = options.repeats, options.losses.split(",")
    torch.manual_seed(0)
    print(f"B={BATCH}, E'={EMBEDDING_DIM}, float32, CPU threads {torch.get_num_threads()}, median of {repeats}")
    print(f"{'loss':30}{'C':>6}{'ms':>9}{'vs CE':>8}{'PML ms':>9}{'vs PML':>8}")
    for n_classes in (2, 1000):
        labels = torch.randint(0, n_classes, (BATCH,))
        embedding = torch.randn(BATCH, EMBEDDING_DIM, requires_grad=True)
        head = torch.nn.Linear(EMBEDDING_DIM, n_classes)
        logits = torch.randn(BATCH, n_classes, requires_grad=True)
        baseline = median_seconds(lambda: F.cross_entropy(head(embedding), labels).backward(), repeats)
        print(f"{'Linear + cross_entropy':30}{n_classes:>6}{1000 * baseline:9.3f}{1.0:8.2f}")
        for name in names:
            metadata = LOSS_METADATA[name]
            parameters = {key: spec["default"] for key, spec in metadata["parameters"].items()}
            loss = build_loss(name, {}, EMBEDDING_DIM, n_classes)
            ours = timed(loss, (logits, embedding), labels, repeats)
            reference = pml_counterpart(name, n_classes, parameters)
            if reference is None:
                versus = ""
            else:
                theirs = timed(reference, embedding, labels, repeats)
                versus = f"{1000 * theirs:9.3f}{ours / theirs:8.2f}"
            print(f"{name:30}{n_classes:>6}{1000 * ours:9.3f}{ours / baseline:8.2f}{versus}")


if __name__ == "__main__":
    main()
