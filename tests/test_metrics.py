"""metrics.py against plain loop references written from the ASVspoof definitions, and hand-computed cases."""
from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
import torch

from metrics import (
    compute_accuracy,
    compute_act_dcf,
    compute_cllr,
    compute_det_curve,
    compute_eer,
    compute_metrics,
    compute_min_dcf,
)

TOL = 1e-9
# (p_spoof, c_miss, c_fa): the ASVspoof 5 default and two other cost models
COST_MODELS = [(0.05, 1.0, 10.0), (0.5, 1.0, 1.0), (0.2, 3.0, 0.5)]


# ---------------------------------------------------------------- references: loops straight from the definitions


def reference_det_curve(bonafide, spoof):
    """Point i rejects the first i trials sorted by (score, is_spoof): bona fide first among tied scores."""
    trials = sorted([(float(score), 0) for score in bonafide] + [(float(score), 1) for score in spoof])
    frr, far, thresholds = [], [], []
    for i in range(len(trials) + 1):
        bonafide_rejected = 0
        for _, is_spoof in trials[:i]:
            if not is_spoof:
                bonafide_rejected += 1
        spoof_accepted = 0
        for _, is_spoof in trials[i:]:
            if is_spoof:
                spoof_accepted += 1
        frr.append(bonafide_rejected / len(bonafide))
        far.append(spoof_accepted / len(spoof))
        thresholds.append(trials[0][0] - 0.001 if i == 0 else trials[i - 1][0])
    return frr, far, thresholds


def reference_eer(bonafide, spoof):
    frr, far, thresholds = reference_det_curve(bonafide, spoof)
    best = 0
    for i in range(len(frr)):
        if abs(frr[i] - far[i]) < abs(frr[best] - far[best]):
            best = i
    return (frr[best] + far[best]) / 2, thresholds[best]


def reference_min_dcf(bonafide, spoof, p_spoof, c_miss, c_fa):
    frr, far, thresholds = reference_det_curve(bonafide, spoof)
    best_cost, best_threshold = math.inf, None
    for i in range(len(frr)):
        cost = c_miss * frr[i] * (1 - p_spoof) + c_fa * far[i] * p_spoof
        if cost < best_cost:
            best_cost, best_threshold = cost, thresholds[i]
    return best_cost / min(c_miss * (1 - p_spoof), c_fa * p_spoof), best_threshold


def reference_act_dcf(bonafide, spoof, p_spoof, c_miss, c_fa):
    threshold = -math.log(c_miss * (1 - p_spoof) / (c_fa * p_spoof))
    misses = 0
    for score in bonafide:
        if score < threshold:
            misses += 1
    false_alarms = 0
    for score in spoof:
        if score >= threshold:
            false_alarms += 1
    cost = c_miss * (1 - p_spoof) * misses / len(bonafide) + c_fa * p_spoof * false_alarms / len(spoof)
    return cost / min(c_miss * (1 - p_spoof), c_fa * p_spoof), threshold


def reference_cllr(bonafide, spoof):
    bonafide_cost = sum(math.log(1 + math.exp(-score)) for score in bonafide) / len(bonafide)
    spoof_cost = sum(math.log(1 + math.exp(score)) for score in spoof) / len(spoof)
    return (bonafide_cost + spoof_cost) / 2 / math.log(2)


def reference_accuracy(bonafide, spoof, threshold):
    correct = 0
    for score in bonafide:
        if score >= threshold:
            correct += 1
    for score in spoof:
        if score < threshold:
            correct += 1
    return correct / (len(bonafide) + len(spoof))


# ---------------------------------------------------------------- random score sets


def make_score_sets():
    """(case id, bona fide scores, spoof scores): distinct, tied, tiny, degenerate and unbalanced sets."""
    rng = np.random.default_rng(20240601)
    cases = []

    def add(kind, bonafide, spoof):
        cases.append((f"{kind}-{len(cases)}", np.asarray(bonafide, dtype=float), np.asarray(spoof, dtype=float)))

    for _ in range(12):
        n_bonafide, n_spoof = rng.integers(1, 60, size=2)
        shift = rng.uniform(-1, 3)
        add("continuous", rng.normal(shift, 1, n_bonafide), rng.normal(0, 1, n_spoof))
        add("rounded", np.round(rng.normal(shift, 1, n_bonafide), 1), np.round(rng.normal(0, 1, n_spoof), 1))
        add("integer", rng.integers(-2, 3, n_bonafide), rng.integers(-3, 2, n_spoof))
        add("two-values", rng.integers(0, 2, n_bonafide), rng.integers(0, 2, n_spoof))
    for _ in range(6):
        add("one-each", rng.integers(-1, 2, 1), rng.integers(-1, 2, 1))
        add("one-bonafide", rng.normal(0, 1, 1), np.round(rng.normal(0, 1, rng.integers(2, 20)), 1))
        add("one-spoof", np.round(rng.normal(0, 1, rng.integers(2, 20)), 1), rng.normal(0, 1, 1))
        value = rng.normal()
        add("all-equal", np.full(rng.integers(1, 10), value), np.full(rng.integers(1, 10), value))
        add("separated", rng.uniform(1, 2, rng.integers(1, 30)), rng.uniform(-2, 1, rng.integers(1, 30)))
        add("inverted", rng.uniform(-2, 1, rng.integers(1, 30)), rng.uniform(1, 2, rng.integers(1, 30)))
        add("unbalanced", np.round(rng.normal(1, 1, 3), 1), np.round(rng.normal(0, 1, 97), 1))
        add("large-scale", rng.normal(2e3, 1e3, 20), rng.normal(0, 1e3, 40))
        add("touching", [0.5] + list(rng.uniform(1, 2, 5)), list(rng.uniform(-2, 0.5, 5)) + [0.5])
    return cases


SCORE_SETS = make_score_sets()
SCORE_SET_IDS = [case[0] for case in SCORE_SETS]


# ---------------------------------------------------------------- agreement with the references


@pytest.mark.parametrize("case", SCORE_SETS, ids=SCORE_SET_IDS)
def test_det_curve_matches_reference(case):
    _, bonafide, spoof = case
    frr, far, thresholds = compute_det_curve(bonafide, spoof)
    expected_frr, expected_far, expected_thresholds = reference_det_curve(bonafide, spoof)
    assert len(frr) == len(far) == len(thresholds) == bonafide.size + spoof.size + 1
    np.testing.assert_allclose(frr, expected_frr, rtol=0, atol=TOL)
    np.testing.assert_allclose(far, expected_far, rtol=0, atol=TOL)
    np.testing.assert_allclose(thresholds, expected_thresholds, rtol=0, atol=TOL)


@pytest.mark.parametrize("case", SCORE_SETS, ids=SCORE_SET_IDS)
def test_eer_matches_reference(case):
    _, bonafide, spoof = case
    eer, threshold = compute_eer(bonafide, spoof)
    expected_eer, expected_threshold = reference_eer(bonafide, spoof)
    assert eer == pytest.approx(expected_eer, abs=TOL)
    assert threshold == pytest.approx(expected_threshold, abs=TOL)


@pytest.mark.parametrize("case", SCORE_SETS, ids=SCORE_SET_IDS)
def test_min_dcf_matches_reference(case):
    _, bonafide, spoof = case
    for cost_model in COST_MODELS:
        expected = reference_min_dcf(bonafide, spoof, *cost_model)
        assert compute_min_dcf(bonafide, spoof, *cost_model) == pytest.approx(expected, abs=TOL), cost_model


@pytest.mark.parametrize("case", SCORE_SETS, ids=SCORE_SET_IDS)
def test_act_dcf_matches_reference(case):
    _, bonafide, spoof = case
    for cost_model in COST_MODELS:
        expected = reference_act_dcf(bonafide, spoof, *cost_model)
        assert compute_act_dcf(bonafide, spoof, *cost_model) == pytest.approx(expected, abs=TOL), cost_model


@pytest.mark.parametrize("case", SCORE_SETS, ids=SCORE_SET_IDS)
def test_cllr_and_accuracy_match_reference(case):
    _, bonafide, spoof = case
    if np.abs(np.concatenate((bonafide, spoof))).max() < 500:  # math.exp in the reference overflows beyond ~709
        assert compute_cllr(bonafide, spoof) == pytest.approx(reference_cllr(bonafide, spoof), abs=TOL)
    for threshold in (float(bonafide[0]), float(spoof[-1]), 0.25):
        expected = reference_accuracy(bonafide, spoof, threshold)
        assert compute_accuracy(bonafide, spoof, threshold) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("case", SCORE_SETS[::5], ids=SCORE_SET_IDS[::5])
def test_metrics_dict_matches_reference(case):
    _, bonafide, spoof = case
    metrics = compute_metrics(bonafide, spoof)
    eer, eer_threshold = reference_eer(bonafide, spoof)
    assert metrics["eer"] == pytest.approx(eer, abs=TOL)
    assert metrics["eer_threshold"] == pytest.approx(eer_threshold, abs=TOL)
    assert metrics["min_dcf"] == pytest.approx(reference_min_dcf(bonafide, spoof, 0.05, 1.0, 10.0)[0], abs=TOL)
    assert metrics["act_dcf"] == pytest.approx(reference_act_dcf(bonafide, spoof, 0.05, 1.0, 10.0)[0], abs=TOL)
    assert metrics["accuracy"] == pytest.approx(reference_accuracy(bonafide, spoof, eer_threshold), abs=TOL)
    assert metrics["n_bonafide"] == bonafide.size and metrics["n_spoof"] == spoof.size


# ---------------------------------------------------------------- hand-computed cases


def test_det_curve_and_eer_by_hand():
    # sorted trials: 0.1 spoof, 0.3 bona fide, 0.5 spoof, 0.8 bona fide; point i rejects the first i of them
    # frr = [0, 0, 1/2, 1/2, 1], far = [1, 1/2, 1/2, 0, 0], |frr - far| = [1, 1/2, 0, 1/2, 1] -> EER 0.5 at 0.3
    frr, far, thresholds = compute_det_curve([0.8, 0.3], [0.5, 0.1])
    np.testing.assert_allclose(frr, [0, 0, 0.5, 0.5, 1], atol=TOL)
    np.testing.assert_allclose(far, [1, 0.5, 0.5, 0, 0], atol=TOL)
    np.testing.assert_allclose(thresholds, [0.1 - 0.001, 0.1, 0.3, 0.5, 0.8], atol=TOL)
    assert compute_eer([0.8, 0.3], [0.5, 0.1]) == pytest.approx((0.5, 0.3), abs=TOL)


def test_eer_of_separated_inverted_and_tied_sets_by_hand():
    # separated: sorted 1s 2s 3b 4b; frr = [0,0,0,1/2,1], far = [1,1/2,0,0,0] -> EER 0 at threshold 2
    assert compute_eer([3.0, 4.0], [1.0, 2.0]) == pytest.approx((0.0, 2.0), abs=TOL)
    # inverted: sorted 1b 2b 3s 4s; frr = [0,1/2,1,1,1], far = [1,1,1,1/2,0] -> EER 1 at threshold 2
    assert compute_eer([1.0, 2.0], [3.0, 4.0]) == pytest.approx((1.0, 2.0), abs=TOL)
    # all tied: bona fide sort first, 1b 1b 1s 1s, which is the inverted case again -> EER 1 at threshold 1
    assert compute_eer([1.0, 1.0], [1.0, 1.0]) == pytest.approx((1.0, 1.0), abs=TOL)


def test_min_dcf_by_hand():
    # DET points of bona fide [0.8, 0.3], spoof [0.5, 0.1]: frr = [0, 0, .5, .5, 1], far = [1, .5, .5, 0, 0]
    # default model: cost = 0.95 frr + 0.5 far = [0.5, 0.25, 0.725, 0.475, 0.95] -> 0.25 at 0.1; / 0.5 = 0.5
    assert compute_min_dcf([0.8, 0.3], [0.5, 0.1]) == pytest.approx((0.5, 0.1), abs=TOL)
    # p_spoof = 0.5, unit costs: cost = 0.5 (frr + far) = [0.5, 0.25, 0.5, 0.25, 0.5] -> first 0.25 at 0.1; / 0.5
    equal_costs = compute_min_dcf([0.8, 0.3], [0.5, 0.1], p_spoof=0.5, c_miss=1.0, c_fa=1.0)
    assert equal_costs == pytest.approx((0.5, 0.1), abs=TOL)
    # c_miss = 3: cost = 0.95*3 frr + 0.5 far = [0.5, 0.25, 1.675, 1.425, 2.85] -> 0.25; / min(2.85, 0.5) = 0.5
    assert compute_min_dcf([0.8, 0.3], [0.5, 0.1], c_miss=3.0) == pytest.approx((0.5, 0.1), abs=TOL)


def test_act_dcf_by_hand():
    # tau = -ln(1 * 0.95 / (10 * 0.05)) = -ln 1.9 = -0.6419; bona fide below tau: -1.0 and -0.7 -> miss 2/4
    # spoof at or above tau: 0.0 and -0.5 -> false alarm 2/3
    # cost = 0.95 * 1/2 + 0.5 * 2/3 = 57/120 + 40/120 = 97/120; / 0.5 -> 97/60 = 1.61667
    act_dcf, threshold = compute_act_dcf([2.0, -1.0, 0.5, -0.7], [-3.0, 0.0, -0.5])
    assert threshold == pytest.approx(-math.log(1.9), abs=TOL)
    assert act_dcf == pytest.approx(97 / 60, abs=TOL)


def test_act_dcf_of_constant_decisions():
    # always bona fide: no miss, every spoof accepted -> 0.5 * 1 / 0.5 = 1
    assert compute_act_dcf([9.0, 3.0], [5.0, 7.0, 8.0])[0] == pytest.approx(1.0, abs=TOL)
    # always spoof: every bona fide missed, no false alarm -> 0.95 * 1 / 0.5 = 1.9
    assert compute_act_dcf([-9.0, -3.0], [-5.0, -7.0, -8.0])[0] == pytest.approx(1.9, abs=TOL)


def test_act_dcf_counts_a_score_at_the_threshold_as_bona_fide():
    tau = -math.log(1.9)
    # bona fide at tau is no miss (cost 0); spoof at tau is a false alarm: 0.5 * 1 / 0.5 = 1
    assert compute_act_dcf([tau], [-5.0])[0] == pytest.approx(0.0, abs=TOL)
    assert compute_act_dcf([5.0], [tau])[0] == pytest.approx(1.0, abs=TOL)


def test_cllr_by_hand():
    # all zero: log(1 + e^0) = ln 2 for every trial -> 0.5 (ln 2 + ln 2) / ln 2 = 1
    assert compute_cllr([0.0, 0.0, 0.0], [0.0, 0.0]) == pytest.approx(1.0, abs=TOL)
    # LLR +-ln 3 on the right side: log(1 + 1/3) for each trial -> log2(4/3) = 2 - log2 3 = 0.415037...
    assert compute_cllr([math.log(3)], [-math.log(3)]) == pytest.approx(2 - math.log2(3), abs=TOL)
    # bona fide [0, ln 3], spoof [-ln 3]: 0.5 (0.5 (log2 2 + log2 4/3) + log2 4/3) = 1.75 - 0.75 log2 3 = 0.561278...
    assert compute_cllr([0.0, math.log(3)], [-math.log(3)]) == pytest.approx(1.75 - 0.75 * math.log2(3), abs=TOL)


def test_cllr_does_not_overflow():
    # confidently right: ~e^-1000 per trial; confidently wrong: log(1 + e^1000) = 1000 per trial -> 1000 / ln 2
    assert compute_cllr([1000.0], [-1000.0]) == pytest.approx(0.0, abs=TOL)
    with np.errstate(over="raise", invalid="raise"):
        assert compute_cllr([-1000.0], [1000.0]) == pytest.approx(1000 / math.log(2), rel=1e-12)


def test_accuracy_by_hand():
    # threshold 0.3: bona fide 0.8 and 0.3 accepted (score >= threshold), spoof 0.1 rejected, 0.5 accepted -> 3/4
    assert compute_accuracy([0.8, 0.3], [0.5, 0.1], 0.3) == pytest.approx(0.75, abs=TOL)
    # threshold 0.5: bona fide 0.8 accepted, 0.3 rejected; spoof 0.5 accepted, 0.1 rejected -> 2/4
    assert compute_accuracy([0.8, 0.3], [0.5, 0.1], 0.5) == pytest.approx(0.5, abs=TOL)


def test_metrics_dict_uses_the_given_decision_threshold():
    bonafide, spoof = [2.0, -1.0, 0.5, -0.7], [-3.0, 0.0, -0.5]
    metrics = compute_metrics(bonafide, spoof, decision_threshold=0.25)
    # at 0.25: bona fide 2.0 and 0.5 accepted, all three spoof rejected -> 5/7
    assert metrics["accuracy"] == pytest.approx(5 / 7, abs=TOL)
    assert sorted(metrics) == sorted(
        ["eer", "eer_threshold", "min_dcf", "act_dcf", "cllr", "accuracy", "n_bonafide", "n_spoof"]
    )
    assert (metrics["n_bonafide"], metrics["n_spoof"]) == (4, 3)
    assert metrics["act_dcf"] == pytest.approx(97 / 60, abs=TOL)  # as in test_act_dcf_by_hand


# ---------------------------------------------------------------- inputs


def test_torch_tensors_and_lists_are_accepted():
    rng = np.random.default_rng(7)
    bonafide = np.round(rng.normal(1, 1, 40), 1).astype(np.float32)
    spoof = np.round(rng.normal(0, 1, 70), 1).astype(np.float32)
    expected = compute_metrics(bonafide.astype(np.float64), spoof.astype(np.float64))
    from_torch = compute_metrics(torch.from_numpy(bonafide), torch.from_numpy(spoof))
    from_lists = compute_metrics(bonafide.tolist(), spoof.tolist())
    assert from_torch == pytest.approx(expected, abs=TOL)
    assert from_lists == pytest.approx(expected, abs=TOL)
    assert compute_eer(torch.from_numpy(bonafide), torch.from_numpy(spoof)) == pytest.approx(
        reference_eer(bonafide.tolist(), spoof.tolist()), abs=TOL
    )


PUBLIC_FUNCTIONS = {
    "compute_det_curve": compute_det_curve,
    "compute_eer": compute_eer,
    "compute_min_dcf": compute_min_dcf,
    "compute_act_dcf": compute_act_dcf,
    "compute_cllr": compute_cllr,
    "compute_accuracy": partial(compute_accuracy, threshold=0.0),
    "compute_metrics": compute_metrics,
}


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
@pytest.mark.parametrize(
    ("bonafide", "spoof", "message"),
    [
        ([], [0.1], "no bona fide scores; the evaluation set needs both classes"),
        ([0.1], np.array([]), "no spoof scores; the evaluation set needs both classes"),
        ([0.1, float("nan"), float("nan")], [0.2], r"2 of 3 bona fide scores are not finite \(NaN or inf\)"),
        ([0.1], [0.2, -float("inf")], r"1 of 2 spoof scores are not finite \(NaN or inf\)"),
        ([[0.1, 0.2]], [0.2], r"bona fide scores must be 1-D, got shape \(1, 2\)"),
        ([0.1], torch.tensor(0.5), r"spoof scores must be 1-D, got shape \(\)"),
    ],
)
def test_invalid_scores_are_refused_with_a_message(name, bonafide, spoof, message):
    with pytest.raises(ValueError, match=f"^{name}: {message}$"):
        PUBLIC_FUNCTIONS[name](bonafide, spoof)


@pytest.mark.parametrize("cost_model", [(0.0, 1.0, 10.0), (1.0, 1.0, 10.0), (0.05, 0.0, 10.0), (0.05, 1.0, -1.0)])
@pytest.mark.parametrize("function", [compute_min_dcf, compute_act_dcf])
def test_invalid_cost_models_are_refused(function, cost_model):
    with pytest.raises(ValueError, match=f"^{function.__name__}: need 0 < p_spoof < 1 and positive costs"):
        function([1.0], [0.0], *cost_model)


def test_nan_decision_threshold_is_refused():
    with pytest.raises(ValueError, match="^compute_accuracy: the decision threshold is NaN$"):
        compute_accuracy([1.0], [0.0], float("nan"))
    with pytest.raises(ValueError, match="^compute_metrics: the decision threshold is NaN$"):
        compute_metrics([1.0], [0.0], decision_threshold=float("nan"))
