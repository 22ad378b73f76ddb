"""Time metrics.py on 100k trials against straightforward loop baselines.

Run: .venv/bin/python benchmarks/metrics_speed.py

Scores: 10k bona fide ~ N(2, 1) and 90k spoof ~ N(-2, 1.5), rounded to 0.01 so that many are tied.
Ours is the best of several runs; each baseline runs once. Baselines:
- EER: for each of the n + 1 DET thresholds, count bona fide <= t and spoof > t over all trials
  (np.count_nonzero per threshold, O(n^2)); equal to the ASVspoof EER up to how tied trials are split.
- minDCF: the ASVspoof 5 evaluation script's way: the vectorised DET curve, then a Python loop over its points.
- metrics: the four metrics from separate calls as with the official scripts: minDCF with the Python loop
  above; EER, actDCF and Cllr are vectorised in the official scripts as in ours, so ours stand in for them.
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

# scripts run from benchmarks/: put the repository root on the path to import its modules
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics import (  # noqa: E402
    compute_act_dcf,
    compute_cllr,
    compute_det_curve,
    compute_eer,
    compute_metrics,
    compute_min_dcf,
)

N_BONAFIDE, N_SPOOF = 10_000, 90_000
REPEATS = 5
P_SPOOF, C_MISS, C_FA = 0.05, 1.0, 10.0


def loop_eer(bonafide: np.ndarray, spoof: np.ndarray) -> dict[str, float]:
    """EER by counting errors anew at every DET threshold."""
    scores = np.sort(np.concatenate((bonafide, spoof)))
    thresholds = np.concatenate(([scores[0] - 0.001], scores))
    best_gap, best_eer = math.inf, math.nan
    for threshold in thresholds:
        frr = np.count_nonzero(bonafide <= threshold) / bonafide.size
        far = np.count_nonzero(spoof > threshold) / spoof.size
        if abs(frr - far) < best_gap:
            best_gap, best_eer = abs(frr - far), (frr + far) / 2
    return {"eer": best_eer}


def loop_min_dcf(bonafide: np.ndarray, spoof: np.ndarray) -> dict[str, float]:
    """minDCF as the ASVspoof 5 script computes it: a Python loop over the DET points."""
    frr, far, _ = compute_det_curve(bonafide, spoof)
    best_cost = math.inf
    for i in range(len(frr)):
        cost = C_MISS * frr[i] * (1 - P_SPOOF) + C_FA * far[i] * P_SPOOF
        if cost < best_cost:
            best_cost = cost
    return {"min_dcf": best_cost / min(C_MISS * (1 - P_SPOOF), C_FA * P_SPOOF)}


def loop_metrics(bonafide: np.ndarray, spoof: np.ndarray) -> dict[str, float]:
    """EER, minDCF, actDCF and Cllr, each from its own call as with the official scripts."""
    return {
        "eer": compute_eer(bonafide, spoof)[0],
        **loop_min_dcf(bonafide, spoof),
        "act_dcf": compute_act_dcf(bonafide, spoof)[0],
        "cllr": compute_cllr(bonafide, spoof),
    }


def seconds(function: Callable[[], dict[str, float]], repeats: int) -> tuple[float, dict[str, float]]:
    """Best wall time of `repeats` calls and the last result."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rng = np.random.default_rng(0)
    bonafide = np.round(rng.normal(2.0, 1.0, N_BONAFIDE), 2)
    spoof = np.round(rng.normal(-2.0, 1.5, N_SPOOF), 2)
    n_distinct = np.unique(np.concatenate((bonafide, spoof))).size
    print(f"{N_BONAFIDE} bona fide + {N_SPOOF} spoof trials, {n_distinct} distinct scores; ours: best of {REPEATS}")

    rows = [
        ("compute_eer", lambda: {"eer": compute_eer(bonafide, spoof)[0]}, loop_eer, "per-threshold count loop, O(n^2)"),
        (
            "compute_min_dcf",
            lambda: {"min_dcf": compute_min_dcf(bonafide, spoof)[0]},
            loop_min_dcf,
            "ASVspoof 5 script: Python loop over DET",
        ),
        ("compute_metrics", lambda: compute_metrics(bonafide, spoof), loop_metrics, "official scripts, one call each"),
    ]
    print(f"{'function':<16} {'ours (s)':>9} {'baseline (s)':>13} {'speed-up':>9}  {'max |diff|':>10}  baseline")
    for name, ours, baseline, label in rows:
        ours_seconds, ours_result = seconds(ours, REPEATS)
        baseline_seconds, baseline_result = seconds(partial(baseline, bonafide, spoof), 1)
        difference = max(abs(ours_result[key] - value) for key, value in baseline_result.items())
        times = f"{ours_seconds:>9.4f} {baseline_seconds:>13.4f} {baseline_seconds / ours_seconds:>8.0f}x"
        print(f"{name:<16} {times}  {difference:>10.1e}  {label}")
    print("max |diff|: the largest gap between the metric values of ours and of the baseline")
    print("values:", ", ".join(f"{key} {value:.6g}" for key, value in compute_metrics(bonafide, spoof).items()))


if __name__ == "__main__":
    main()
