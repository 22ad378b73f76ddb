"""sasv_metrics.py: min a-DCF and concurrent t-EER against plain loop references written from the definitions
(every candidate threshold; for the t-EER the whole grid of CM and ASV thresholds), hand-computed cases, the
t-EER of Gaussian scores solved from the continuous definition, and the ASVspoof 5 constants."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import sasv_metrics
from sasv_metrics import compute_min_a_dcf, compute_t_eer

TOL = 1e-12
# (p_target, p_nontarget, p_spoof, c_miss, c_fa_nontarget, c_fa_spoof): what the ASVspoof 5 evaluation scores with,
# the CostModel defaults of its a_dcf.py (used by the cases worked out by hand below), and two others
ASVSPOOF5_COST_MODEL = (0.95 * 0.99, 0.95 * 0.01, 0.05, 1.0, 10.0, 10.0)
DEFAULT_COST_MODEL = (0.9, 0.05, 0.05, 1.0, 10.0, 20.0)
COST_MODELS = [ASVSPOOF5_COST_MODEL, DEFAULT_COST_MODEL, (0.5, 0.25, 0.25, 1.0, 1.0, 1.0), (0.6, 0.0, 0.4, 2.0, 5.0, 0.5)]

# ---------------------------------------------------------------- references: loops straight from the definitions


def reference_min_a_dcf(target, nontarget, spoof, p_target, p_nontarget, p_spoof, c_miss, c_fa_nontarget, c_fa_spoof):
    """Shim et al. 2024: accept as target iff score > threshold; thresholds: every distinct score, and one below
    them all (accept everything, lowest score - 1e-8 as in the package); first minimum, divided by the cheaper
    trivial system."""
    scores = sorted({float(score) for score in [*target, *nontarget, *spoof]})
    best_cost, best_threshold = math.inf, None
    for threshold in [scores[0] - 1e-8] + scores:
        miss = sum(1 for score in target if score <= threshold) / len(target)
        fa_nontarget = sum(1 for score in nontarget if score > threshold) / len(nontarget)
        fa_spoof = sum(1 for score in spoof if score > threshold) / len(spoof)
        cost = c_miss * p_target * miss + c_fa_nontarget * p_nontarget * fa_nontarget + c_fa_spoof * p_spoof * fa_spoof
        if cost < best_cost:
            best_cost, best_threshold = cost, threshold
    return best_cost / min(c_miss * p_target, c_fa_nontarget * p_nontarget + c_fa_spoof * p_spoof), best_threshold


def fraction_at_or_above(scores, threshold):
    return sum(1 for score in scores if score >= threshold) / len(scores)


def reference_t_eer(cm_target, cm_nontarget, cm_spoof, asv_target, asv_nontarget, asv_spoof):
    """Kinnunen et al. 2023 over the 2-D grid (every distinct CM score and +inf) x (every distinct ASV score);
    a trial passes a system iff its score >= the threshold. With CM and ASV independent, the tandem rates are
    Pmiss = Pmiss_cm + (1 - Pmiss_cm) Pmiss_asv, written 1 - pass_cm accept_asv, Pfa_nontarget = pass_cm
    accept_asv, Pfa_spoof = pass_cm accept_asv (CM rates: bona fide = target + nontarget, and spoof).
    The rho = 1/2 t-EER path at an ASV threshold: where Pmiss - (Pfa_nontarget + Pfa_spoof) / 2 changes sign
    over the CM thresholds (none if it is >= 0 with the CM passing everything), the one of the two CM thresholds
    around the change closer to 0 (the lower on a tie). The concurrent point: the path point with the smallest
    |Pfa_nontarget - Pfa_spoof| (the first ASV threshold on a tie); the t-EER is the mean of its three rates."""
    cm_bonafide = [*cm_target, *cm_nontarget]
    cm_grid = sorted({float(score) for score in [*cm_bonafide, *cm_spoof]}) + [math.inf]
    asv_grid = sorted({float(score) for score in [*asv_target, *asv_nontarget, *asv_spoof]})
    cm_pass = [(fraction_at_or_above(cm_bonafide, c), fraction_at_or_above(cm_spoof, c)) for c in cm_grid]
    best = None  # (|Pfa_nontarget - Pfa_spoof|, t-EER, CM threshold, ASV threshold)
    for v in asv_grid:
        target_accept = fraction_at_or_above(asv_target, v)
        nontarget_accept = fraction_at_or_above(asv_nontarget, v)
        spoof_accept = fraction_at_or_above(asv_spoof, v)
        rates, excess = [], []
        for bonafide_pass, spoof_pass in cm_pass:
            miss = 1 - bonafide_pass * target_accept
            fa_nontarget = bonafide_pass * nontarget_accept
            fa_spoof = spoof_pass * spoof_accept
            rates.append((miss, fa_nontarget, fa_spoof))
            excess.append(miss - (fa_nontarget + fa_spoof) / 2)
        if excess[0] >= 0:
            continue
        first = next(k for k in range(len(cm_grid)) if excess[k] >= 0)
        k = first if abs(excess[first]) < abs(excess[first - 1]) else first - 1
        miss, fa_nontarget, fa_spoof = rates[k]
        gap = abs(fa_nontarget - fa_spoof)
        if best is None or gap < best[0]:
            best = (gap, (miss + fa_nontarget + fa_spoof) / 3, cm_grid[k], v)
    return best[1:]


# ---------------------------------------------------------------- random trial sets


def make_trial_sets():
    """(id, CM scores, ASV scores), each a (target, nontarget, spoof) tuple of arrays of equal length per class:
    continuous, rounded, integer (heavy ties), constant, tiny, unbalanced and weak or inverted systems."""
    rng = np.random.default_rng(20240901)
    cases = []

    def add(kind, sizes, cm_means, asv_means, rounding=None, scale=1.0):
        def draw(mean, n):
            scores = rng.normal(mean, scale, n)
            return scores if rounding is None else np.round(scores, rounding)

        cm = tuple(draw(mean, n) for mean, n in zip(cm_means, sizes))
        asv = tuple(draw(mean, n) for mean, n in zip(asv_means, sizes))
        cases.append((f"{kind}-{len(cases)}", cm, asv))

    for _ in range(6):
        sizes = rng.integers(1, 40, size=3)
        cm_means = (rng.uniform(0, 3), rng.uniform(0, 3), 0.0)
        asv_means = (rng.uniform(1, 4), 0.0, rng.uniform(-1, 4))
        add("continuous", sizes, cm_means, asv_means)
        add("rounded", sizes, cm_means, asv_means, rounding=1)
        add("integer", sizes, cm_means, asv_means, rounding=0)
        add("coarse", sizes, cm_means, asv_means, rounding=0, scale=0.4)
    for _ in range(3):
        add("one-each", (1, 1, 1), rng.normal(size=3), rng.normal(size=3), rounding=0)
        add("constant", rng.integers(1, 6, size=3), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), scale=0.0)
        add("unbalanced", (3, 50, 7), (2.0, 2.0, 0.0), (3.0, 0.0, 2.0), rounding=1)
        add("inverted", rng.integers(2, 20, size=3), (0.0, 0.0, 2.0), (0.0, 3.0, 3.0), rounding=1)
        add("large-scale", rng.integers(2, 20, size=3), (2e3, 2e3, 0.0), (3e3, 0.0, 1e3), scale=1e3)
    return cases


TRIAL_SETS = make_trial_sets()
TRIAL_SET_IDS = [case[0] for case in TRIAL_SETS]


# ---------------------------------------------------------------- constants


def test_asvspoof5_a_dcf_constants():
    # evaluation-package/calculate_metrics.py (calculate_aDCF_tdcf_tEER): a_dcf.CostModel(Ptrg = (1 - 0.05) * 0.99,
    # Pnontrg = (1 - 0.05) * 0.01, Pspf = 0.05, Cmiss = 1, Cfa_asv = 10, Cfa_cm = 10), from its t-DCF cost model
    constants = (sasv_metrics.A_DCF_P_TARGET, sasv_metrics.A_DCF_P_NONTARGET, sasv_metrics.A_DCF_P_SPOOF,
                 sasv_metrics.A_DCF_C_MISS, sasv_metrics.A_DCF_C_FA_NONTARGET, sasv_metrics.A_DCF_C_FA_SPOOF)
    assert constants == pytest.approx(ASVSPOOF5_COST_MODEL, abs=1e-15)
    assert sasv_metrics.A_DCF_ACCEPT_ALL_OFFSET == 1e-8
    # a-DCF_default = min(reject all: 1 * 0.9405, accept all: 10 * 0.0095 + 10 * 0.05 = 0.595) = 0.595
    assert sasv_metrics._a_dcf_normaliser("test", *ASVSPOOF5_COST_MODEL) == pytest.approx(0.595, abs=TOL)


# ---------------------------------------------------------------- min a-DCF


@pytest.mark.parametrize("case", TRIAL_SETS, ids=TRIAL_SET_IDS)
def test_min_a_dcf_matches_reference(case):
    _, _, (target, nontarget, spoof) = case
    for cost_model in COST_MODELS:
        value, threshold = compute_min_a_dcf(target, nontarget, spoof, *cost_model)
        expected_value, expected_threshold = reference_min_a_dcf(target, nontarget, spoof, *cost_model)
        assert value == pytest.approx(expected_value, abs=TOL), cost_model
        assert threshold == expected_threshold, cost_model
        assert 0.0 <= value <= 1.0 + TOL


def test_min_a_dcf_defaults_are_the_asvspoof5_cost_model():
    _, _, (target, nontarget, spoof) = TRIAL_SETS[0]
    with_defaults = compute_min_a_dcf(target, nontarget, spoof)
    assert with_defaults == compute_min_a_dcf(target, nontarget, spoof, *ASVSPOOF5_COST_MODEL)


def test_min_a_dcf_by_hand():
    # sorted: 0.1 s, 0.3 t, 0.5 n, 0.6 s, 0.8 t; weights 1 * 0.9 = 0.9 (miss), 10 * 0.05 = 0.5 (nontarget),
    # 20 * 0.05 = 1.0 (spoof). Point i rejects the first i trials:
    # i=0: 0.5 * 1 + 1.0 * 1 = 1.5; i=1: 0.5 + 1.0 * 1/2 = 1.0; i=2: 0.9 * 1/2 + 0.5 + 0.5 = 1.45;
    # i=3: 0.45 + 0.5 = 0.95; i=4: 0.45 (threshold 0.6); i=5: 0.9 -> 0.45 / min(0.9, 1.5) = 0.5
    assert compute_min_a_dcf([0.8, 0.3], [0.5], [0.1, 0.6], *DEFAULT_COST_MODEL) == pytest.approx((0.5, 0.6), abs=TOL)
    # perfect system, sorted 1 n, 2 s, 3 t, 4 t: i=0: 1.5, i=1: 1.0, i=2: 0 at threshold 2
    assert compute_min_a_dcf([3.0, 4.0], [1.0], [2.0], *DEFAULT_COST_MODEL) == pytest.approx((0.0, 2.0), abs=TOL)


def test_min_a_dcf_gives_tied_scores_one_decision():
    # target and spoof tied at 1: a point rejecting the spoof but not the target would cost 0; the package's order
    # (target before spoof among ties) makes it reject the target first. Sorted 0 n, 1 t, 1 s:
    # i=0: 1.5; i=1: 1.0; i=2: 0.9 + 1.0 = 1.9; i=3: 0.9 (threshold 1) -> 0.9 / 0.9 = 1
    assert compute_min_a_dcf([1.0], [0.0], [1.0], *DEFAULT_COST_MODEL) == pytest.approx((1.0, 1.0), abs=TOL)
    # everything tied: i=0: 1.5, i=1: 0.9 + 0.5 + 1.0 = 2.4, i=2: 1.9, i=3: 0.9 -> 1 at threshold 1
    assert compute_min_a_dcf([1.0, 1.0], [1.0], [1.0, 1.0], *DEFAULT_COST_MODEL) == pytest.approx((1.0, 1.0), abs=TOL)


def test_min_a_dcf_accept_all_point_and_first_minimum():
    # inverted system, sorted 0 t, 5 n, 6 s; weights 0.5, 0.25, 0.25: i=0 (accept all): 0.25 + 0.25 = 0.5,
    # i=1: 0.5 + 0.5 = 1.0, i=2: 0.75, i=3: 0.5 -> the first minimum, at 0 - 1e-8; / min(0.5, 0.5) = 1
    value, threshold = compute_min_a_dcf([0.0], [5.0], [6.0], 0.5, 0.25, 0.25, 1.0, 1.0, 1.0)
    assert value == pytest.approx(1.0, abs=TOL)
    assert threshold == -1e-8


# ---------------------------------------------------------------- t-EER


@pytest.mark.parametrize("case", TRIAL_SETS, ids=TRIAL_SET_IDS)
def test_t_eer_matches_reference(case):
    _, cm, asv = case
    t_eer, cm_threshold, asv_threshold = compute_t_eer(*cm, *asv)
    expected_t_eer, expected_cm_threshold, expected_asv_threshold = reference_t_eer(*cm, *asv)
    assert t_eer == pytest.approx(expected_t_eer, abs=TOL)
    assert (cm_threshold, asv_threshold) == (expected_cm_threshold, expected_asv_threshold)
    assert 0.0 <= t_eer <= 1.0 and math.isfinite(cm_threshold)


def test_t_eer_by_hand():
    # CM bona fide (target 5 6, nontarget 4 7) and spoof 1 4.5: pass rates (bona fide, spoof) at CM thresholds
    # 1: (1, 1), 4: (1, 1/2), 4.5: (3/4, 1/2), 5: (3/4, 0), 6: (1/2, 0), 7: (1/4, 0).
    # ASV target 1 6, nontarget 0 5, spoof 3 4: accept rates (target, nontarget, spoof) at ASV thresholds
    # 0: (1, 1, 1), 1: (1, 1/2, 1), 3: (1/2, 1/2, 1), ...
    # excess = Pmiss - (Pfa_nontarget + Pfa_spoof) / 2 = 1 - p t - (p n + q s) / 2
    # ASV 0: excess -1, -3/4, -3/8, -1/8 (CM 5), 1/4 (CM 6) -> CM 5: Pmiss 1/4, Pfa_non 3/4, Pfa_spoof 0, gap 3/4
    # ASV 1: -3/4, -1/2, -3/16 (CM 4.5), 1/16 (CM 5) -> CM 5: 1/4, 3/8, 0, gap 3/8
    # ASV 3: -1/4 (CM 1), 0 (CM 4) -> CM 4: Pmiss 1 - 1/2 = 1/2, Pfa_non 1/2, Pfa_spoof 1/2 * 1 = 1/2, gap 0
    result = compute_t_eer([5.0, 6.0], [4.0, 7.0], [1.0, 4.5], [1.0, 6.0], [0.0, 5.0], [3.0, 4.0])
    assert result == pytest.approx((0.5, 4.0, 3.0), abs=TOL)
    # CM separates bona fide (3 4 5) from spoof (1 2), ASV targets (8 9) from nontarget (1) and spoof (2 3).
    # ASV 1 (accept all): excess at CM 1: -1, 2: -3/4, 3: -1/2, 4: 1 - 2/3 - (2/3) / 2 = 0 -> CM 4: gap 2/3 - 0
    # ASV 2: excess at CM 1: 1 - 1 - (0 + 1) / 2 = -1/2, 2: -1/4, 3: 0 -> CM 3: Pmiss 0, Pfa 0 and 0, gap 0
    result = compute_t_eer([3.0, 4.0], [5.0], [1.0, 2.0], [8.0, 9.0], [1.0], [2.0, 3.0])
    assert result == pytest.approx((0.0, 3.0, 2.0), abs=TOL)


def gaussian_concurrent_t_eer(bonafide_cm_mean, target_asv_mean, spoof_asv_mean):
    """Solve Pmiss = Pfa_nontarget = Pfa_spoof for unit-variance Gaussian scores (spoof CM and nontarget ASV
    means 0) by nested bisection: (t-EER, CM threshold, ASV threshold)."""
    def above(x):  # P(N(0, 1) >= x)
        return 0.5 * math.erfc(x / math.sqrt(2))

    def root(function, low, high):
        for _ in range(100):
            middle = (low + high) / 2
            if (function(middle) < 0) == (function(low) < 0):
                low = middle
            else:
                high = middle
        return (low + high) / 2

    def asv_threshold(cm_threshold):  # where Pmiss = Pfa_nontarget: 1 - p t(v) - p n(v) = 0
        p = above(cm_threshold - bonafide_cm_mean)
        return root(lambda v: 1 - p * (above(v - target_asv_mean) + above(v)), -30.0, 30.0)

    def nontarget_minus_spoof(cm_threshold):
        v = asv_threshold(cm_threshold)
        return above(cm_threshold - bonafide_cm_mean) * above(v) - above(cm_threshold) * above(v - spoof_asv_mean)

    # the CM pass rate of bona fide trials must stay >= 1/2 for Pmiss = Pfa_nontarget to have a solution
    cm_threshold = root(nontarget_minus_spoof, -10.0, bonafide_cm_mean)
    v = asv_threshold(cm_threshold)
    return above(cm_threshold - bonafide_cm_mean) * above(v), cm_threshold, v


@pytest.mark.parametrize("means", [(3.0, 4.0, 3.0), (2.0, 3.0, 2.5), (1.5, 2.5, 1.0)])
def test_t_eer_approaches_the_continuous_concurrent_point(means):
    bonafide_cm_mean, target_asv_mean, spoof_asv_mean = means
    expected, expected_cm_threshold, expected_asv_threshold = gaussian_concurrent_t_eer(*means)
    rng = np.random.default_rng(11)
    n = 50_000
    t_eer, cm_threshold, asv_threshold = compute_t_eer(
        rng.normal(bonafide_cm_mean, 1, n), rng.normal(bonafide_cm_mean, 1, n), rng.normal(0, 1, n),
        rng.normal(target_asv_mean, 1, n), rng.normal(0, 1, n), rng.normal(spoof_asv_mean, 1, n),
    )
    # sampling error of a rate near 0.1 from 50k trials: ~0.0013
    assert t_eer == pytest.approx(expected, abs=0.005)
    assert cm_threshold == pytest.approx(expected_cm_threshold, abs=0.05)
    assert asv_threshold == pytest.approx(expected_asv_threshold, abs=0.05)


def test_t_eer_ignores_the_pairing_and_follows_monotone_transforms():
    _, (cm_target, cm_nontarget, cm_spoof), (asv_target, asv_nontarget, asv_spoof) = TRIAL_SETS[1]
    t_eer, cm_threshold, asv_threshold = compute_t_eer(cm_target, cm_nontarget, cm_spoof,
                                                       asv_target, asv_nontarget, asv_spoof)
    # CM and ASV taken as independent: shuffling the ASV scores within a class changes nothing
    rng = np.random.default_rng(5)
    shuffled = compute_t_eer(cm_target, cm_nontarget, cm_spoof,
                             rng.permutation(asv_target), rng.permutation(asv_nontarget), rng.permutation(asv_spoof))
    assert shuffled == (t_eer, cm_threshold, asv_threshold)
    # increasing maps of either system's scores move its threshold along and keep the t-EER
    mapped = compute_t_eer(np.exp(cm_target), np.exp(cm_nontarget), np.exp(cm_spoof),
                           3 * asv_target + 1, 3 * asv_nontarget + 1, 3 * asv_spoof + 1)
    assert mapped == pytest.approx((t_eer, math.exp(cm_threshold), 3 * asv_threshold + 1), abs=TOL)


def test_torch_tensors_and_lists_are_accepted():
    _, cm, asv = TRIAL_SETS[2]
    expected_t_eer = compute_t_eer(*cm, *asv)
    assert compute_t_eer(*(torch.from_numpy(a) for a in cm), *(a.tolist() for a in asv)) == expected_t_eer
    assert compute_min_a_dcf(*(torch.from_numpy(a) for a in asv)) == compute_min_a_dcf(*asv)


# ---------------------------------------------------------------- errors

VALID = ([1.0, 2.0], [0.0], [0.5])
BAD_SCORES = [
    ([], "no {name} scores; {needed}"),
    ([[0.1, 0.2]], r"{name} scores must be 1-D, got shape \(1, 2\)"),
    ([0.1, float("nan")], r"1 of 2 {name} scores are not finite \(NaN or inf\)"),
    ([float("inf")], r"1 of 1 {name} scores are not finite \(NaN or inf\)"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_SCORES)
@pytest.mark.parametrize("position", range(3))
def test_min_a_dcf_refuses_bad_scores(position, bad, message):
    scores = list(VALID)
    scores[position] = bad
    name = ("target", "nontarget", "spoof")[position]
    expected = message.format(name=name, needed="the a-DCF needs target, nontarget and spoof trials")
    with pytest.raises(ValueError, match=f"^compute_min_a_dcf: {expected}$"):
        compute_min_a_dcf(*scores)


@pytest.mark.parametrize(("bad", "message"), BAD_SCORES)
@pytest.mark.parametrize("position", range(6))
def test_t_eer_refuses_bad_scores(position, bad, message):
    scores = list(VALID + VALID)
    scores[position] = bad
    name = f"{('target', 'nontarget', 'spoof')[position % 3]} {('CM', 'ASV')[position // 3]}"
    needed = "the t-EER needs target, nontarget and spoof trials, each with a CM and an ASV score"
    expected = message.format(name=name, needed=needed)
    with pytest.raises(ValueError, match=f"^compute_t_eer: {expected}$"):
        compute_t_eer(*scores)


def test_t_eer_refuses_mismatched_cm_and_asv_lengths():
    with pytest.raises(ValueError, match="^compute_t_eer: 2 nontarget CM scores but 1 nontarget ASV scores; "
                                         "need one of each per trial$"):
        compute_t_eer([1.0], [0.0, 0.1], [0.5], [1.0], [0.0], [0.5])


@pytest.mark.parametrize(
    "cost_model",
    [
        (1.0, 0.0, 0.0, 1.0, 10.0, 20.0),  # no nontarget or spoof: the accept-all cost is 0
        (0.0, 0.5, 0.5, 1.0, 10.0, 20.0),  # no target
        (0.9, 0.15, -0.05, 1.0, 10.0, 20.0),  # negative prior
        (0.9, 0.05, 0.1, 1.0, 10.0, 20.0),  # priors sum to 1.05
        (0.9, 0.05, float("nan"), 1.0, 10.0, 20.0),
        (0.9, 0.05, 0.05, 0.0, 10.0, 20.0),  # zero cost
        (0.9, 0.05, 0.05, 1.0, -10.0, 20.0),
        (0.9, 0.05, 0.05, 1.0, 10.0, float("inf")),
    ],
)
def test_min_a_dcf_refuses_bad_cost_models(cost_model):
    with pytest.raises(ValueError, match=r"^compute_min_a_dcf: need priors >= 0 summing to 1 with 0 < p_target < 1, "
                                         r"and finite positive costs; got p_target="):
        compute_min_a_dcf(*VALID, *cost_model)
