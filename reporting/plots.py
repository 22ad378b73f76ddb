"""Evaluation plots written to image files: the DET curve of a system or of several overlaid, and the
score histograms of the two classes.

Figures are drawn on matplotlib's Agg canvas directly, without pyplot: importing this module needs no
display, selects no global backend and leaves no open figures behind.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator
from numpy.typing import ArrayLike
from scipy.stats import norm

from metrics import compute_det_curve, compute_eer, validate_scores

# DET axis ticks (error rates); the ones inside the plotted range are shown
DET_TICKS = (0.0001, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999, 0.9999)
HISTOGRAM_BINS = 60


def _new_figure() -> Figure:
    # fixed margins fit the labels drawn here and render twice as fast as an automatic layout
    figure = Figure(figsize=(6.0, 5.0), dpi=100)
    figure.subplots_adjust(left=0.17, bottom=0.17, right=0.96, top=0.92)
    FigureCanvasAgg(figure)
    return figure


def _probit(rates: np.ndarray, floor: float) -> np.ndarray:
    """Normal deviates of error rates clipped to [floor, 1 - floor], so that 0 and 1 stay on the plot."""
    return norm.ppf(np.clip(rates, floor, 1.0 - floor))


def _det_figure(caller: str, score_sets: list[tuple[ArrayLike, ArrayLike]], title: str) -> tuple[Figure, Axes, list[tuple]]:
    """A figure with DET axes (normal deviates labelled in %, chance diagonal, grid) wide enough for the
    largest class of `score_sets`, and each set's curve as (FAR deviates, FRR deviates, EER, EER deviate)."""
    validated = [validate_scores(caller, bonafide, spoof) for bonafide, spoof in score_sets]
    # half a trial below the finest rate the largest class can show, and no coarser than 0.1 %
    floor = min(1e-3, 0.5 / max(max(bonafide.size, spoof.size) for bonafide, spoof in validated))
    ticks = [tick for tick in DET_TICKS if floor <= tick <= 1.0 - floor]
    limits = (norm.ppf(floor), norm.ppf(1.0 - floor))

    figure = _new_figure()
    axes = figure.subplots()
    axes.plot(limits, limits, color="0.7", linestyle="--", linewidth=0.8)
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(FixedLocator(norm.ppf(ticks)))
        axis.set_major_formatter(FixedFormatter([f"{100 * tick:g}%" for tick in ticks]))
    axes.tick_params(axis="x", labelrotation=45)
    axes.set_xlim(limits)
    axes.set_ylim(limits)
    axes.set_aspect("equal")
    axes.grid(True, linewidth=0.5, alpha=0.5)
    axes.set_xlabel("false acceptance rate (spoof accepted)")
    axes.set_ylabel("false rejection rate (bona fide rejected)")
    axes.set_title(title)
    curves = []
    for bonafide, spoof in validated:
        frr, far, _ = compute_det_curve(bonafide, spoof)
        eer, _ = compute_eer(bonafide, spoof)
        curves.append((_probit(far, floor), _probit(frr, floor), eer, _probit(np.array([eer]), floor)[0]))
    return figure, axes, curves


def plot_det_curve(
    path: str | os.PathLike, bonafide_scores: ArrayLike, spoof_scores: ArrayLike, title: str = ""
) -> None:
    """Write the DET curve (FAR on x, FRR on y, normal-deviate axes labelled in %) with its EER point to `path`."""
    figure, axes, ((far, frr, eer, eer_deviate),) = _det_figure("plot_det_curve", [(bonafide_scores, spoof_scores)], title)
    axes.plot(far, frr, color="tab:blue", label="DET")
    axes.plot(eer_deviate, eer_deviate, "o", color="tab:red", label=f"EER = {100 * eer:.2f}%")
    axes.legend(loc="upper right")
    save_atomically(figure, path)


def plot_det_curves(path: str | os.PathLike, curves: dict[str, tuple[ArrayLike, ArrayLike]], title: str = "") -> None:
    """Write the DET curves of several systems, {label: (bona fide scores, spoof scores)}, overlaid to
    `path`: one colour each, with its EER point, and a legend of the labels and EERs."""
    if not curves:
        raise ValueError("plot_det_curves: no curves to plot")
    figure, axes, traced = _det_figure("plot_det_curves", list(curves.values()), title)
    palette = colormaps["tab10"] if len(curves) <= 10 else colormaps["turbo"].resampled(len(curves))
    for index, (label, (far, frr, eer, eer_deviate)) in enumerate(zip(curves, traced)):
        axes.plot(far, frr, color=palette(index), label=f"{label} (EER {100 * eer:.2f}%)")
        axes.plot(eer_deviate, eer_deviate, "o", color=palette(index))
    axes.legend(loc="upper right", fontsize="small")
    save_atomically(figure, path)


def plot_score_histogram(
    path: str | os.PathLike,
    bonafide_scores: ArrayLike,
    spoof_scores: ArrayLike,
    title: str = "",
    threshold: float | None = None,
) -> None:
    """Write overlaid score densities of both classes on shared bins to `path`, with an optional threshold line."""
    bonafide, spoof = validate_scores("plot_score_histogram", bonafide_scores, spoof_scores)
    bins = np.histogram_bin_edges(np.concatenate((bonafide, spoof)), bins=HISTOGRAM_BINS).tolist()

    figure = _new_figure()
    axes = figure.subplots()
    for scores, name, color in ((bonafide, "bona fide", "tab:green"), (spoof, "spoof", "tab:red")):
        label = f"{name} (n={scores.size})"
        axes.hist(scores, bins=bins, density=True, histtype="stepfilled", alpha=0.45, color=color, label=label)
    if threshold is not None:
        axes.axvline(threshold, color="black", linestyle="--", label=f"threshold = {threshold:.4g}")
    axes.set_xlabel("score (higher = more bona fide)")
    axes.set_ylabel("density")
    axes.set_title(title)
    axes.legend()
    save_atomically(figure, path)


def save_atomically(figure: Figure, path: str | os.PathLike) -> None:
    """The figure as a PNG at `path`, through a temporary file renamed over it."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp.png")
    try:
        figure.savefig(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)

