"""calibration.py against scikit-learn's LogisticRegression and IsotonicRegression, a plain PAV written here, the
cross-entropy written out, and the invariances a monotonic calibration must keep."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from calibration import (
    LinearCalibration,
    compute_min_cllr,
    cross_entropy,
    fit_linear_calibration,
    pav_llrs,
)
from metrics import compute_cllr, compute_eer, compute_min_dcf


def overlapping_scores(seed: int, n_columns: int, n_bonafide: int = 300, n_spoof: int = 900):
    """Bona fide and spoof scores [n, K] whose columns are differently scaled, shifted and correlated."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(n_columns, n_columns)) + 2.0 * np.eye(n_columns)
    shift = rng.normal(scale=3.0, size=n_columns)
    bonafide = (rng.normal(size=(n_bonafide, n_columns)) + 1.0) @ mixing + shift
    spoof = rng.normal(size=(n_spoof, n_columns)) @ mixing + shift
    return bonafide, spoof


def objective_bits(bonafide, spoof, weights, offset, prior, l2=0.0):
    """The training objective written out: prior-weighted cross-entropy in bits plus l2 * |weights|^2."""
    q = math.log(prior / (1 - prior))
    bonafide_llrs = bonafide @ weights + offset
    spoof_llrs = spoof @ weights + offset
    bonafide_cost = np.mean(np.log2(1 + np.exp(-(bonafide_llrs + q))))
    spoof_cost = np.mean(np.log2(1 + np.exp(spoof_llrs + q)))
    return prior * bonafide_cost + (1 - prior) * spoof_cost + l2 * float(np.sum(weights**2))


def sklearn_fit(bonafide, spoof, prior, l2=0.0):
    """(weights, offset) of scikit-learn's logistic regression with each class weighted to its prior share."""
    scores = np.concatenate((bonafide, spoof))
    labels = np.concatenate((np.ones(len(bonafide)), np.zeros(len(spoof))))
    sample_weight = np.concatenate((np.full(len(bonafide), prior / len(bonafide)),
                                    np.full(len(spoof), (1 - prior) / len(spoof))))
    # sklearn minimises C * sum(sample_weight * logloss) + |w|^2 / 2; ours (in nats) is
    # sum(sample_weight * logloss) + l2 * ln 2 * |w|^2, the same minimiser for C = 1 / (2 * l2 * ln 2)
    regulariser = np.inf if l2 == 0 else 1 / (2 * l2 * math.log(2))
    model = LogisticRegression(C=regulariser, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    model.fit(scores, labels, sample_weight=sample_weight * len(scores) if l2 == 0 else sample_weight)
    # sklearn's log-odds are the LLR plus logit(prior)
    return model.coef_[0], model.intercept_[0] - math.log(prior / (1 - prior))


# ---------------------------------------------------------------- logistic-regression calibration and fusion


@pytest.mark.parametrize("n_columns", [1, 3])
@pytest.mark.parametrize("prior", [0.5, 0.2, 0.9])
def test_fit_matches_sklearn_logistic_regression(n_columns, prior):
    bonafide, spoof = overlapping_scores(n_columns, n_columns)
    calibration = fit_linear_calibration(bonafide, spoof, prior=prior)
    weights, offset = sklearn_fit(bonafide, spoof, prior)
    assert calibration.n_columns == n_columns
    assert calibration.prior == prior
    np.testing.assert_allclose(calibration.weights, weights, rtol=1e-4)
    assert calibration.offset == pytest.approx(offset, rel=1e-4, abs=1e-5)


def test_fit_with_l2_matches_sklearn():
    bonafide, spoof = overlapping_scores(7, 2)
    l2 = 0.02
    calibration = fit_linear_calibration(bonafide, spoof, prior=0.3, l2=l2)
    weights, offset = sklearn_fit(bonafide, spoof, 0.3, l2=l2)
    np.testing.assert_allclose(calibration.weights, weights, rtol=1e-4)
    assert calibration.offset == pytest.approx(offset, rel=1e-4, abs=1e-5)
    unpenalised = fit_linear_calibration(bonafide, spoof, prior=0.3)
    assert np.sum(calibration.weights**2) < np.sum(unpenalised.weights**2)


@pytest.mark.parametrize(("n_columns", "prior", "l2"), [(1, 0.5, 0.0), (3, 0.5, 0.0), (2, 0.1, 0.01)])
def test_fit_minimises_the_objective(n_columns, prior, l2):
    bonafide, spoof = overlapping_scores(10 + n_columns, n_columns)
    calibration = fit_linear_calibration(bonafide, spoof, prior=prior, l2=l2)
    best = objective_bits(bonafide, spoof, calibration.weights, calibration.offset, prior, l2)
    rng = np.random.default_rng(3)
    for size in (1e-3, 1e-2, 0.3):
        for _ in range(5):
            weights = calibration.weights + size * rng.normal(size=n_columns) * np.abs(calibration.weights)
            offset = calibration.offset + size * rng.normal()
            assert objective_bits(bonafide, spoof, weights, offset, prior, l2) > best


def test_cross_entropy_is_the_objective_and_cllr_at_prior_one_half():
    rng = np.random.default_rng(4)
    bonafide_llrs, spoof_llrs = rng.normal(1, 2, 50), rng.normal(-1, 2, 70)
    for prior in (0.5, 0.05):
        expected = objective_bits(bonafide_llrs[:, None], spoof_llrs[:, None], np.ones(1), 0.0, prior)
        assert cross_entropy(bonafide_llrs, spoof_llrs, prior) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy(bonafide_llrs, spoof_llrs) == pytest.approx(compute_cllr(bonafide_llrs, spoof_llrs), rel=1e-12)
    assert cross_entropy([np.inf], [-np.inf]) == 0.0
    assert cross_entropy([-np.inf], [0.0]) == np.inf


def test_calibration_lowers_cllr_of_badly_scaled_scores():
    bonafide, spoof = overlapping_scores(5, 1)
    for raw_bonafide, raw_spoof in ((25 * bonafide + 8, 25 * spoof + 8), (0.01 * bonafide, 0.01 * spoof),
                                    (-3 + bonafide, -3 + spoof)):
        calibration = fit_linear_calibration(raw_bonafide, raw_spoof)
        before = compute_cllr(raw_bonafide[:, 0], raw_spoof[:, 0])
        after = compute_cllr(calibration.apply(raw_bonafide), calibration.apply(raw_spoof))
        assert after < before
        assert after < 1.0


def test_calibration_keeps_eer_and_min_dcf():
    bonafide, spoof = overlapping_scores(6, 1)
    bonafide, spoof = 7 * bonafide[:, 0] - 2, 7 * spoof[:, 0] - 2
    calibration = fit_linear_calibration(bonafide, spoof, prior=0.2)
    assert calibration.weights[0] > 0
    bonafide_llrs, spoof_llrs = calibration.apply(bonafide), calibration.apply(spoof)
    assert compute_eer(bonafide_llrs, spoof_llrs)[0] == compute_eer(bonafide, spoof)[0]
    assert compute_min_dcf(bonafide_llrs, spoof_llrs)[0] == compute_min_dcf(bonafide, spoof)[0]


def test_fusion_beats_each_column_on_cllr():
    bonafide, spoof = overlapping_scores(8, 3)
    fused = fit_linear_calibration(bonafide, spoof)
    fused_cllr = compute_cllr(fused.apply(bonafide), fused.apply(spoof))
    for column in range(3):
        single = fit_linear_calibration(bonafide[:, column], spoof[:, column])
        assert fused_cllr <= compute_cllr(single.apply(bonafide[:, column]), single.apply(spoof[:, column]))


def test_separable_scores_give_finite_parameters():
    bonafide, spoof = np.array([1.0, 2.0, 3.0, 4.0]), np.array([-2.0, -1.0, 0.0, 0.5])
    calibration = fit_linear_calibration(bonafide, spoof)
    assert np.all(np.isfinite(calibration.weights)) and math.isfinite(calibration.offset)
    assert calibration.weights[0] > 0
    # the decision boundary lies between the classes, and the dev trials are all on their side
    boundary = -calibration.offset / calibration.weights[0]
    assert 0.5 < boundary < 1.0
    assert compute_cllr(calibration.apply(bonafide), calibration.apply(spoof)) < 1e-3
    # the fit does not depend on the unit of the scores
    for unit in (1e-6, 1e6):
        rescaled = fit_linear_calibration(unit * bonafide, unit * spoof)
        np.testing.assert_allclose(rescaled.apply(unit * np.array([0.7, 1.5])),
                                   calibration.apply(np.array([0.7, 1.5])), rtol=1e-6, atol=1e-6)


def test_separable_fusion_and_a_constant_column():
    rng = np.random.default_rng(9)
    bonafide = np.column_stack((rng.uniform(1, 2, 40), rng.normal(size=40)))
    spoof = np.column_stack((rng.uniform(-2, -1, 60), rng.normal(size=60)))
    calibration = fit_linear_calibration(bonafide, spoof)
    assert np.all(np.isfinite(calibration.weights)) and math.isfinite(calibration.offset)
    constant = fit_linear_calibration(np.column_stack((bonafide[:, 1], np.full(40, 5.0))),
                                      np.column_stack((spoof[:, 1], np.full(60, 5.0))))
    assert constant.weights[1] == 0.0 and math.isfinite(constant.offset)


def test_apply_dict_round_trip_and_shapes():
    bonafide, spoof = overlapping_scores(12, 2)
    calibration = fit_linear_calibration(bonafide, spoof)
    restored = LinearCalibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    np.testing.assert_array_equal(restored.weights, calibration.weights)
    assert (restored.offset, restored.prior) == (calibration.offset, calibration.prior)
    np.testing.assert_allclose(calibration.apply(spoof), spoof @ calibration.weights + calibration.offset)
    one_column = LinearCalibration(weights=np.array([2.0]), offset=-1.0)
    np.testing.assert_array_equal(one_column.apply([0.0, 1.0, 3.0]), [-1.0, 1.0, 5.0])
    np.testing.assert_array_equal(one_column.apply([[0.0], [1.0]]), [-1.0, 1.0])
    with pytest.raises(ValueError):
        calibration.weights[0] = 1.0


# ---------------------------------------------------------------- minCllr


def plain_pav_posteriors(bonafide, spoof):
    """Bona fide posterior of each trial (bona fide first, then spoof) by pool-adjacent-violators over the
    distinct scores in ascending order, each starting as one pool [bona fide count, trial count, scores]."""
    trials = [(float(score), 1) for score in bonafide] + [(float(score), 0) for score in spoof]
    ties = {}
    for score, is_bonafide in trials:
        counts = ties.setdefault(score, [0, 0])
        counts[0] += is_bonafide
        counts[1] += 1
    pools = []
    for score in sorted(ties):
        pools.append([ties[score][0], ties[score][1], [score]])
        # merge while the last pool's posterior is below the one before it
        while len(pools) > 1 and pools[-1][0] * pools[-2][1] < pools[-2][0] * pools[-1][1]:
            last = pools.pop()
            pools[-1][0] += last[0]
            pools[-1][1] += last[1]
            pools[-1][2].extend(last[2])
    posterior_of_score = {}
    for n_bonafide, n_trials, scores in pools:
        for score in scores:
            posterior_of_score[score] = n_bonafide / n_trials
    return [posterior_of_score[score] for score, _ in trials]


def posteriors_to_llrs(posteriors, n_bonafide, n_spoof):
    """LLR = logit(posterior) - log(n_bonafide / n_spoof), +-inf at posterior 1 or 0."""
    llrs = []
    for posterior in posteriors:
        if posterior == 1.0:
            llrs.append(math.inf)
        elif posterior == 0.0:
            llrs.append(-math.inf)
        else:
            llrs.append(math.log(posterior / (1 - posterior)) - math.log(n_bonafide / n_spoof))
    return llrs


def plain_cllr(bonafide_llrs, spoof_llrs):
    """Cllr in bits, an LLR of infinite size on the right side costing 0."""
    def cost(llr):  # log2(1 + exp(-llr)) of a bona fide trial
        return 0.0 if llr == math.inf else math.log2(1 + math.exp(-llr))
    return (sum(map(cost, bonafide_llrs)) / len(bonafide_llrs)
            + sum(cost(-llr) for llr in spoof_llrs) / len(spoof_llrs)) / 2


def tied_scores(seed, n_bonafide=80, n_spoof=150):
    """Overlapping scores rounded to one decimal, so that many are tied, across and within classes."""
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0.8, 1, n_bonafide), 1), np.round(rng.normal(0, 1, n_spoof), 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_cllr_matches_a_plain_pav(seed):
    bonafide, spoof = tied_scores(seed)
    llrs = posteriors_to_llrs(plain_pav_posteriors(bonafide, spoof), bonafide.size, spoof.size)
    bonafide_llrs, spoof_llrs = pav_llrs(bonafide, spoof)
    np.testing.assert_allclose(bonafide_llrs, llrs[: bonafide.size], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(spoof_llrs, llrs[bonafide.size:], rtol=1e-12, atol=1e-12)
    expected = plain_cllr(llrs[: bonafide.size], llrs[bonafide.size:])
    assert compute_min_cllr(bonafide, spoof) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [3, 4])
def test_min_cllr_matches_sklearn_isotonic_regression(seed):
    bonafide, spoof = tied_scores(seed, n_bonafide=300, n_spoof=500)
    scores = np.concatenate((bonafide, spoof))
    labels = np.concatenate((np.ones(bonafide.size), np.zeros(spoof.size)))
    # sklearn pools tied scores into one point (the label mean, weighted by the count) before PAV
    posteriors = IsotonicRegression(y_min=0.0, y_max=1.0).fit_transform(scores, labels)
    llrs = posteriors_to_llrs(posteriors, bonafide.size, spoof.size)
    expected = plain_cllr(llrs[: bonafide.size], llrs[bonafide.size:])
    assert compute_min_cllr(bonafide, spoof) == pytest.approx(expected, rel=1e-9)


def test_min_cllr_is_below_the_cllr_of_affine_calibrations():
    bonafide, spoof = overlapping_scores(13, 1)
    bonafide, spoof = bonafide[:, 0], spoof[:, 0]
    min_cllr = compute_min_cllr(bonafide, spoof)
    calibration = fit_linear_calibration(bonafide, spoof)
    assert min_cllr < compute_cllr(calibration.apply(bonafide), calibration.apply(spoof))
    rng = np.random.default_rng(13)
    for slope, shift in zip(rng.uniform(0.1, 5, 10), rng.normal(0, 3, 10)):
        assert min_cllr < compute_cllr(slope * bonafide + shift, slope * spoof + shift)


def test_min_cllr_extremes():
    assert compute_min_cllr([1.0, 2.0, 2.5], [-1.0, 0.0, 0.5, 0.9]) == 0.0
    assert compute_min_cllr([3.0] * 5, [3.0] * 7) == 1.0
    # scores that rank spoof above bona fide are pooled into one block: no better than chance
    assert compute_min_cllr([-1.0, -2.0], [1.0, 2.0, 3.0]) == 1.0
    bonafide_llrs, spoof_llrs = pav_llrs([1.0, 2.0], [0.0, 1.0])
    np.testing.assert_array_equal(bonafide_llrs, [0.0, np.inf])
    np.testing.assert_array_equal(spoof_llrs, [-np.inf, 0.0])


def test_min_cllr_is_invariant_to_increasing_transforms():
    rng = np.random.default_rng(14)
    bonafide, spoof = rng.normal(1, 1, 200), rng.normal(0, 1, 300)
    min_cllr = compute_min_cllr(bonafide, spoof)
    assert 0.0 < min_cllr < 1.0
    for transform in (np.exp, lambda x: 3 * x + 7, lambda x: x**3, np.arctan):
        assert compute_min_cllr(transform(bonafide), transform(spoof)) == pytest.approx(min_cllr, rel=1e-12)


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("bonafide", "spoof", "kwargs"),
    [
        ([], [0.0], {}),
        ([1.0], np.zeros((0, 1)), {}),
        ([1.0, np.nan], [0.0], {}),
        ([1.0], [0.0, np.inf], {}),
        (np.zeros((3, 2)), np.zeros((3, 3)), {}),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), {}),
        ([1.0], [0.0], {"prior": 0.0}),
        ([1.0], [0.0], {"prior": 1.0}),
        ([1.0], [0.0], {"prior": math.nan}),
        ([1.0], [0.0], {"l2": -0.1}),
        ([1.0], [0.0], {"l2": math.inf}),
    ],
)
def test_fit_rejects_bad_input(bonafide, spoof, kwargs):
    with pytest.raises(ValueError, match="fit_linear_calibration"):
        fit_linear_calibration(bonafide, spoof, **kwargs)


@pytest.mark.parametrize("function", [compute_min_cllr, pav_llrs])
@pytest.mark.parametrize(("bonafide", "spoof"), [([], [0.0]), ([1.0], [np.nan]), ([[1.0]], [0.0])])
def test_min_cllr_rejects_bad_input(function, bonafide, spoof):
    with pytest.raises(ValueError, match=function.__name__):
        function(bonafide, spoof)


def test_calibration_object_rejects_bad_input():
    calibration = LinearCalibration(weights=np.array([1.0, 2.0]), offset=0.0)
    with pytest.raises(ValueError, match="LinearCalibration.apply"):
        calibration.apply([1.0, 2.0])
    with pytest.raises(ValueError, match="LinearCalibration.apply"):
        calibration.apply([[1.0, np.nan]])
    with pytest.raises(ValueError, match="LinearCalibration"):
        LinearCalibration(weights=np.array([np.inf]), offset=0.0)
    with pytest.raises(ValueError, match="LinearCalibration"):
        LinearCalibration(weights=np.array([1.0]), offset=0.0, prior=1.5)
    with pytest.raises(ValueError, match="LinearCalibration.from_dict"):
        LinearCalibration.from_dict({"weights": [1.0], "offset": 0.0})
    with pytest.raises(ValueError, match="cross_entropy"):
        cross_entropy([np.nan], [0.0])
