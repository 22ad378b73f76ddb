"""confidence.py: bootstrap draws against explicit resampling with metrics.py, intervals, the paired bootstrap and
McNemar's test against hand-computed cases, and the refusal of bad input."""
from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from confidence import (
    bootstrap_draws,
    bootstrap_eer_min_dcf,
    mcnemar_test,
    paired_bootstrap_eer,
)
from metrics import compute_eer, compute_min_dcf

# (p_spoof, c_miss, c_fa): the ASVspoof 5 default and two other cost models
COST_MODELS = [(0.05, 1.0, 10.0), (0.5, 1.0, 1.0), (0.2, 3.0, 0.5)]


def make_tied_score_sets():
    """(case id, bona fide scores, spoof scores): sets with many tied scores, both classes sharing values."""
    rng = np.random.default_rng(7)
    cases = []

    def add(kind, bonafide, spoof):
        cases.append((f"{kind}-{len(cases)}", np.asarray(bonafide, dtype=float), np.asarray(spoof, dtype=float)))

    for _ in range(3):
        n_bonafide, n_spoof = rng.integers(2, 40, size=2)
        add("integer", rng.integers(-1, 3, n_bonafide), rng.integers(-2, 2, n_spoof))
        add("two-values", rng.integers(0, 2, n_bonafide), rng.integers(0, 2, n_spoof))
        add("rounded", np.round(rng.normal(1, 1, n_bonafide), 1), np.round(rng.normal(0, 1, n_spoof), 1))
    add("all-equal", np.full(7, 0.3), np.full(11, 0.3))
    add("one-bonafide", [0.0], rng.integers(-1, 2, 15))
    add("separated", rng.integers(2, 4, 9), rng.integers(0, 2, 13))
    add("inverted", rng.integers(0, 2, 9), rng.integers(2, 4, 13))
    return cases


TIED_SETS = make_tied_score_sets()
TIED_SET_IDS = [case[0] for case in TIED_SETS]


def explicit_resample_draws(bonafide, spoof, n_draws, seed, cost_model):
    """EER and minDCF of each draw from resampled arrays: the indices drawn as confidence.py documents."""
    rng = np.random.default_rng(seed)
    eers, min_dcfs = [], []
    for _ in range(n_draws):
        bonafide_indices = rng.integers(0, bonafide.size, size=bonafide.size)
        spoof_indices = rng.integers(0, spoof.size, size=spoof.size)
        resampled = bonafide[bonafide_indices], spoof[spoof_indices]
        eers.append(compute_eer(*resampled)[0])
        min_dcfs.append(compute_min_dcf(*resampled, *cost_model)[0])
    return np.array(eers), np.array(min_dcfs)


def scores_of_two_systems(seed):
    """Bona fide and spoof scores of two correlated systems on the same tied trials: (a, b) pairs of arrays."""
    rng = np.random.default_rng(seed)
    bonafide, spoof = rng.normal(1.0, 1.0, 80), rng.normal(-0.5, 1.0, 120)
    system_a = np.round(bonafide, 1), np.round(spoof, 1)
    system_b = np.round(bonafide + rng.normal(0, 0.7, 80), 1), np.round(spoof + rng.normal(0, 0.7, 120), 1)
    return system_a, system_b


# ---------------------------------------------------------------- the draws against explicit resampling


@pytest.mark.parametrize("case", TIED_SETS, ids=TIED_SET_IDS)
def test_draws_equal_metrics_of_the_explicit_resample(case):
    _, bonafide, spoof = case
    for seed, cost_model in enumerate(COST_MODELS):
        eers, min_dcfs = bootstrap_draws(bonafide, spoof, n_draws=60, seed=seed, p_spoof=cost_model[0],
                                         c_miss=cost_model[1], c_fa=cost_model[2])
        expected_eers, expected_min_dcfs = explicit_resample_draws(bonafide, spoof, 60, seed, cost_model)
        np.testing.assert_array_equal(eers, expected_eers)
        np.testing.assert_array_equal(min_dcfs, expected_min_dcfs)


def test_draws_are_fixed_by_the_seed():
    _, bonafide, spoof = TIED_SETS[2]
    first = bootstrap_draws(bonafide, spoof, n_draws=50, seed=3)
    again = bootstrap_draws(bonafide, spoof, n_draws=50, seed=3)
    other = bootstrap_draws(bonafide, spoof, n_draws=50, seed=4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    assert bootstrap_eer_min_dcf(bonafide, spoof, 50, seed=3) == bootstrap_eer_min_dcf(bonafide, spoof, 50, seed=3)
    assert bootstrap_eer_min_dcf(bonafide, spoof, 50, seed=3) != bootstrap_eer_min_dcf(bonafide, spoof, 50, seed=4)


# ---------------------------------------------------------------- intervals


def test_intervals_are_percentiles_of_the_draws_around_the_estimate():
    (bonafide, spoof), _ = scores_of_two_systems(0)
    intervals = bootstrap_eer_min_dcf(bonafide, spoof, n_draws=400, confidence=0.9, seed=5)
    eers, min_dcfs = bootstrap_draws(bonafide, spoof, n_draws=400, seed=5)
    estimates = {"eer": compute_eer(bonafide, spoof)[0], "min_dcf": compute_min_dcf(bonafide, spoof)[0]}
    for name, draws in (("eer", eers), ("min_dcf", min_dcfs)):
        interval = intervals[name]
        assert interval.estimate == estimates[name]
        assert (interval.lower, interval.upper) == pytest.approx(tuple(np.quantile(draws, [0.05, 0.95])), abs=1e-15)
        assert interval.standard_error == pytest.approx(np.std(draws, ddof=1), abs=1e-15)
        assert (interval.confidence, interval.n_draws) == (0.9, 400)
        assert interval.lower < interval.estimate < interval.upper


def test_a_higher_confidence_gives_a_wider_interval():
    (bonafide, spoof), _ = scores_of_two_systems(1)
    narrow = bootstrap_eer_min_dcf(bonafide, spoof, n_draws=400, confidence=0.8, seed=0)
    wide = bootstrap_eer_min_dcf(bonafide, spoof, n_draws=400, confidence=0.99, seed=0)
    for name in ("eer", "min_dcf"):
        assert wide[name].lower < narrow[name].lower and narrow[name].upper < wide[name].upper, name


def test_a_single_draw_has_no_standard_error():
    _, bonafide, spoof = TIED_SETS[0]
    interval = bootstrap_eer_min_dcf(bonafide, spoof, n_draws=1)["eer"]
    assert interval.lower == interval.upper and math.isnan(interval.standard_error)


# ---------------------------------------------------------------- paired bootstrap


def test_a_system_against_itself_differs_by_nothing():
    (bonafide, spoof), _ = scores_of_two_systems(2)
    result = paired_bootstrap_eer(bonafide, spoof, bonafide, spoof, n_draws=200, seed=1)
    assert result.difference == result.lower == result.upper == result.standard_error == 0.0
    assert result.p_value == 1.0
    assert result.eer_a == result.eer_b == compute_eer(bonafide, spoof)[0]


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_paired_draws_share_the_trials_of_both_systems(seed):
    (bonafide_a, spoof_a), (bonafide_b, spoof_b) = scores_of_two_systems(seed)
    result = paired_bootstrap_eer(bonafide_a, spoof_a, bonafide_b, spoof_b, n_draws=300, confidence=0.9, seed=seed)
    differences = (bootstrap_draws(bonafide_a, spoof_a, n_draws=300, seed=seed)[0]
                   - bootstrap_draws(bonafide_b, spoof_b, n_draws=300, seed=seed)[0])
    observed = compute_eer(bonafide_a, spoof_a)[0] - compute_eer(bonafide_b, spoof_b)[0]
    assert observed != 0.0
    assert result.difference == observed
    assert (result.lower, result.upper) == pytest.approx(tuple(np.quantile(differences, [0.05, 0.95])), abs=1e-15)
    against = np.count_nonzero(differences <= 0.0) if observed > 0 else np.count_nonzero(differences >= 0.0)
    assert result.p_value == pytest.approx(min(1.0, 2 * (against + 1) / 301), abs=1e-15)


def test_a_clearly_better_system_gets_the_smallest_p_value():
    rng = np.random.default_rng(6)
    bonafide, spoof = rng.normal(2.0, 1.0, 300), rng.normal(-2.0, 1.0, 300)
    noisy_bonafide, noisy_spoof = bonafide + rng.normal(0, 3.0, 300), spoof + rng.normal(0, 3.0, 300)
    result = paired_bootstrap_eer(bonafide, spoof, noisy_bonafide, noisy_spoof, n_draws=99, seed=0)
    assert result.difference < 0.0 and result.upper < 0.0
    assert result.p_value == pytest.approx(2 / 100)


# ---------------------------------------------------------------- McNemar's test


def test_mcnemar_by_hand():
    # (A score, B score, count) at threshold 0: bona fide is right when >= 0, spoof when < 0
    bonafide_pairs = [(1, -1, 1), (-1, 1, 4), (1, 1, 3), (-1, -1, 2)]  # A only, B only, both, neither
    spoof_pairs = [(1, -1, 4), (-1, -1, 4), (1, 1, 2)]  # B only, both, neither
    bonafide_a, bonafide_b = (np.repeat([pair[i] for pair in bonafide_pairs], [p[2] for p in bonafide_pairs])
                              for i in (0, 1))
    spoof_a, spoof_b = (np.repeat([pair[i] for pair in spoof_pairs], [p[2] for p in spoof_pairs]) for i in (0, 1))
    result = mcnemar_test(bonafide_a, spoof_a, bonafide_b, spoof_b, threshold_a=0.0, threshold_b=0.0)
    assert (result.only_a_correct, result.only_b_correct) == (1, 8)
    assert (result.accuracy_a, result.accuracy_b) == (8 / 20, 15 / 20)
    assert result.p_value == pytest.approx(2 * (math.comb(9, 0) + math.comb(9, 1)) / 2**9, rel=1e-12)
    swapped = mcnemar_test(bonafide_b, spoof_b, bonafide_a, spoof_a, threshold_a=0.0, threshold_b=0.0)
    assert (swapped.only_a_correct, swapped.only_b_correct, swapped.p_value) == (8, 1, result.p_value)


def test_mcnemar_without_or_with_balanced_discordance_gives_one():
    (bonafide, spoof), _ = scores_of_two_systems(7)
    assert mcnemar_test(bonafide, spoof, bonafide, spoof).p_value == 1.0
    balanced = mcnemar_test([1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0], threshold_a=0.0, threshold_b=0.0)
    assert (balanced.only_a_correct, balanced.only_b_correct, balanced.p_value) == (1, 1, 1.0)


def test_mcnemar_defaults_to_each_system_s_eer_threshold():
    (bonafide_a, spoof_a), (bonafide_b, spoof_b) = scores_of_two_systems(8)
    result = mcnemar_test(bonafide_a, spoof_a, bonafide_b, spoof_b)
    threshold_a, threshold_b = compute_eer(bonafide_a, spoof_a)[1], compute_eer(bonafide_b, spoof_b)[1]
    assert (result.threshold_a, result.threshold_b) == (threshold_a, threshold_b)
    assert result == mcnemar_test(bonafide_a, spoof_a, bonafide_b, spoof_b, threshold_a, threshold_b)


# ---------------------------------------------------------------- bad input

SINGLE_SYSTEM = {"bootstrap_draws": bootstrap_draws, "bootstrap_eer_min_dcf": bootstrap_eer_min_dcf}
PAIRED = {"paired_bootstrap_eer": paired_bootstrap_eer, "mcnemar_test": mcnemar_test}
BOOTSTRAPS = {**SINGLE_SYSTEM, "paired_bootstrap_eer": lambda bonafide, spoof, **options: paired_bootstrap_eer(
    bonafide, spoof, bonafide, spoof, **options)}


@pytest.mark.parametrize("name", [*SINGLE_SYSTEM, *PAIRED])
@pytest.mark.parametrize(
    ("bonafide", "spoof", "message"),
    [
        ([], [0.1], "no bona fide scores; the evaluation set needs both classes"),
        ([0.1], [], "no spoof scores; the evaluation set needs both classes"),
        ([0.1, float("nan")], [0.2], r"1 of 2 bona fide scores are not finite \(NaN or inf\)"),
        ([0.1], [0.2, float("inf")], r"1 of 2 spoof scores are not finite \(NaN or inf\)"),
    ],
)
def test_bad_scores_are_refused_with_the_function_s_name(name, bonafide, spoof, message):
    function = SINGLE_SYSTEM.get(name) or partial(PAIRED[name], bonafide_b=[0.5], spoof_b=[0.4])
    with pytest.raises(ValueError, match=f"^{name}: {message}$"):
        function(bonafide, spoof)
    if name in PAIRED:
        with pytest.raises(ValueError, match=f"^{name}: {message}$"):
            PAIRED[name]([0.5], [0.4], bonafide, spoof)


@pytest.mark.parametrize("name", PAIRED)
def test_systems_scored_on_different_trials_are_refused(name):
    with pytest.raises(ValueError, match=f"^{name}: system A has 2 bona fide and 1 spoof scores, system B 1 and 1;"):
        PAIRED[name]([0.5, 0.6], [0.1], [0.5], [0.1])


@pytest.mark.parametrize("name", BOOTSTRAPS)
@pytest.mark.parametrize("n_draws", [0, -3, 2.5, True])
def test_bad_draw_counts_are_refused(name, n_draws):
    with pytest.raises(ValueError, match=f"^{name}: n_draws must be an int >= 1"):
        BOOTSTRAPS[name]([0.5, 0.6], [0.1], n_draws=n_draws)


@pytest.mark.parametrize("name", ["bootstrap_eer_min_dcf", "paired_bootstrap_eer"])
@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.2, float("nan")])
def test_confidence_outside_the_unit_interval_is_refused(name, confidence):
    with pytest.raises(ValueError, match=f"^{name}: confidence must be in \\(0, 1\\)"):
        BOOTSTRAPS[name]([0.5, 0.6], [0.1], confidence=confidence)


@pytest.mark.parametrize("name", SINGLE_SYSTEM)
def test_bad_cost_models_are_refused(name):
    with pytest.raises(ValueError, match=f"^{name}: need 0 < p_spoof < 1 and positive costs"):
        SINGLE_SYSTEM[name]([0.5], [0.1], p_spoof=1.0)


def test_nan_threshold_is_refused():
    with pytest.raises(ValueError, match="^mcnemar_test: a decision threshold is NaN"):
        mcnemar_test([0.5], [0.1], [0.5], [0.1], threshold_a=float("nan"))
