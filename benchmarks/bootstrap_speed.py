"""Time confidence.py's bootstrap on 611,829 trials against explicit resampling with metrics.py.

Run: .venv/bin/python benchmarks/bootstrap_speed.py

Scores: 61,183 bona fide ~ N(2, 1) and 550,646 spoof ~ N(-2, 1.5), rounded to 0.01 so that many are tied.
Ours: 1,000 draws of bootstrap_eer_min_dcf (EER and minDCF of every draw) and of paired_bootstrap_eer (two
systems), each timed once. Baseline: each draw resamples the arrays (the same indices, the same seed) and calls
metrics.compute_eer on them, which sorts them again; timed on BASELINE_DRAWS draws and extrapolated to 1,000.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

# scripts run from benchmarks/: put the repository root on the path to import its modules
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confidence import bootstrap_draws, bootstrap_eer_min_dcf, paired_bootstrap_eer  # noqa: E402
from metrics import compute_eer  # noqa: E402

N_BONAFIDE, N_SPOOF = 61_183, 550_646
N_DRAWS = 1_000
BASELINE_DRAWS = 10
SEED = 0


def explicit_eers(bonafide: np.ndarray, spoof: np.ndarray, n_draws: int) -> np.ndarray:
    """EER of each draw from explicitly resampled arrays, drawn as confidence.py draws them."""
    rng = np.random.default_rng(SEED)
    eers = np.empty(n_draws)
    for draw in range(n_draws):
        bonafide_indices = rng.integers(0, bonafide.size, size=bonafide.size)
        spoof_indices = rng.integers(0, spoof.size, size=spoof.size)
        eers[draw] = compute_eer(bonafide[bonafide_indices], spoof[spoof_indices])[0]
    return eers


def main() -> None:
    rng = np.random.default_rng(0)
    bonafide = np.round(rng.normal(2.0, 1.0, N_BONAFIDE), 2)
    spoof = np.round(rng.normal(-2.0, 1.5, N_SPOOF), 2)
    other_bonafide = np.round(bonafide + rng.normal(0.0, 0.5, N_BONAFIDE), 2)
    other_spoof = np.round(spoof + rng.normal(0.0, 0.5, N_SPOOF), 2)
    n_distinct = np.unique(np.concatenate((bonafide, spoof))).size
    print(f"{N_BONAFIDE} bona fide + {N_SPOOF} spoof trials, {n_distinct} distinct scores; {N_DRAWS} draws")

    start = time.perf_counter()
    baseline = explicit_eers(bonafide, spoof, BASELINE_DRAWS)
    baseline_seconds = (time.perf_counter() - start) * N_DRAWS / BASELINE_DRAWS
    ours = bootstrap_draws(bonafide, spoof, n_draws=BASELINE_DRAWS, seed=SEED)[0]
    difference = float(np.max(np.abs(ours - baseline)))

    start = time.perf_counter()
    intervals = bootstrap_eer_min_dcf(bonafide, spoof, n_draws=N_DRAWS, seed=SEED)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    paired = paired_bootstrap_eer(bonafide, spoof, other_bonafide, other_spoof, n_draws=N_DRAWS, seed=SEED)
    paired_seconds = time.perf_counter() - start

    print(f"{'function':<22} {'ours (s)':>9} {'baseline (s)':>13} {'speed-up':>9}  baseline")
    baseline_label = f"explicit resample + compute_eer, {BASELINE_DRAWS} draws extrapolated"
    print(f"{'bootstrap_eer_min_dcf':<22} {ours_seconds:>9.2f} {baseline_seconds:>13.1f} "
          f"{baseline_seconds / ours_seconds:>8.0f}x  {baseline_label} (ours adds minDCF)")
    print(f"{'paired_bootstrap_eer':<22} {paired_seconds:>9.2f} {2 * baseline_seconds:>13.1f} "
          f"{2 * baseline_seconds / paired_seconds:>8.0f}x  twice the above: compute_eer of both systems per draw")
    print(f"max |diff| of the EER of the first {BASELINE_DRAWS} draws, ours against the baseline: {difference:.1e}")
    for name, interval in intervals.items():
        print(f"{name}: {interval.estimate:.6f} [{interval.lower:.6f}, {interval.upper:.6f}] at "
              f"{interval.confidence:.0%}, standard error {interval.standard_error:.6f}")
    print(f"EER_A - EER_B: {paired.difference:.6f} [{paired.lower:.6f}, {paired.upper:.6f}], p = {paired.p_value:.4g}")


if __name__ == "__main__":
    main()
