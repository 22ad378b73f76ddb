"""Tandem t-DCF (ASVspoof 2019 and 2021 LA), the ASV score file reader and the per-attack EER of metrics.py.

The references are plain loops written from the evaluation plans' formulas: every DET point (the packages'
candidate thresholds, bona fide / target first among tied scores) is visited and its cost computed on its own.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conventions import BONAFIDE, SPOOF
from metrics import compute_eer, compute_eer_per_attack, compute_min_tdcf, compute_min_tdcf_at_asv_rates, read_asv_scores

TOL = 1e-12
VARIANTS = ["2019", "2021"]

# ---------------------------------------------------------------- references: O(n^2) loops from the plans


def reference_det_points(positive, negative):
    """(Pmiss, Pfa, threshold) of each DET point: point i rejects the first i trials sorted by (score, is negative)."""
    trials = sorted([(float(score), 0) for score in positive] + [(float(score), 1) for score in negative])
    points = []
    for i in range(len(trials) + 1):
        misses = 0
        for _, is_negative in trials[:i]:
            if not is_negative:
                misses += 1
        false_alarms = 0
        for _, is_negative in trials[i:]:
            if is_negative:
                false_alarms += 1
        threshold = trials[0][0] - 0.001 if i == 0 else trials[i - 1][0]
        points.append((misses / len(positive), false_alarms / len(negative), threshold))
    return points


def reference_asv_rates(target, nontarget, spoof):
    """ASV error rates at its EER threshold: the first DET point minimising |Pmiss - Pfa|; accept when >= it."""
    points = reference_det_points(target, nontarget)
    best = 0
    for i in range(len(points)):
        if abs(points[i][0] - points[i][1]) < abs(points[best][0] - points[best][1]):
            best = i
    threshold = points[best][2]
    pfa = sum(1 for score in nontarget if score >= threshold) / len(nontarget)
    pmiss = sum(1 for score in target if score < threshold) / len(target)
    pmiss_spoof = sum(1 for score in spoof if score < threshold) / len(spoof)
    pfa_spoof = sum(1 for score in spoof if score >= threshold) / len(spoof)
    return pfa, pmiss, pmiss_spoof, pfa_spoof


def reference_min_tdcf(bonafide_cm, spoof_cm, target_asv, nontarget_asv, spoof_asv, variant):
    return reference_min_tdcf_at_rates(bonafide_cm, spoof_cm, *reference_asv_rates(target_asv, nontarget_asv, spoof_asv), variant)


def reference_min_tdcf_at_rates(bonafide_cm, spoof_cm, pfa_asv, pmiss_asv, pmiss_spoof_asv, pfa_spoof_asv, variant):
    p_spoof = 0.05
    p_target = (1 - p_spoof) * 0.99
    p_nontarget = (1 - p_spoof) * 0.01
    if variant == "2019":
        # ASVspoof 2019 plan: Cmiss_asv = Cmiss_cm = 1, Cfa_asv = Cfa_cm = 10
        c1 = p_target * (1 - 1 * pmiss_asv) - p_nontarget * 10 * pfa_asv
        c2 = 10 * p_spoof * (1 - pmiss_spoof_asv)
        c0, default = 0.0, min(c1, c2)
    else:
        # ASVspoof 2021 plan: Cmiss = 1, Cfa = 10, Cfa_spoof = 10
        c0 = p_target * 1 * pmiss_asv + p_nontarget * 10 * pfa_asv
        c1 = p_target * 1 - c0
        c2 = p_spoof * 10 * pfa_spoof_asv
        default = c0 + min(c1, c2)
    best_cost, best_threshold = math.inf, None
    for pmiss_cm, pfa_cm, threshold in reference_det_points(bonafide_cm, spoof_cm):
        if variant == "2019":
            cost = (c1 * pmiss_cm + c2 * pfa_cm) / default
        else:
            cost = (c0 + c1 * pmiss_cm + c2 * pfa_cm) / default
        if cost < best_cost:
            best_cost, best_threshold = cost, threshold
    return best_cost, best_threshold


# ---------------------------------------------------------------- random tandem score sets


def make_tandem_sets():
    """(id, bona fide CM, spoof CM, target ASV, nontarget ASV, spoof ASV): continuous, rounded (tied) and small."""
    rng = np.random.default_rng(20250101)
    cases = []
    for index in range(16):
        n_bonafide, n_spoof, n_target, n_nontarget, n_spoof_asv = rng.integers(2, 50, size=5)
        rounding = [None, 1, 0][index % 3]

        def draw(mean, scale, n):
            scores = rng.normal(mean, scale, n)
            return scores if rounding is None else np.round(scores, rounding)

        cm_shift = rng.uniform(-0.5, 3)
        asv_shift = rng.uniform(1.5, 4)  # a sound ASV system, so that the t-DCF weights are positive
        bonafide = draw(cm_shift, 1, n_bonafide)
        spoof = draw(0, 1, n_spoof)
        if np.unique(np.concatenate((bonafide, spoof))).size < 3:
            continue
        kind = "continuous" if rounding is None else f"rounded{rounding}"
        # one spoof far above every target, so that the ASV accepts some spoof and C2 > 0
        spoof_asv = np.append(draw(rng.uniform(0, asv_shift), 1, n_spoof_asv), asv_shift + 10)
        cases.append((
            f"{kind}-{index}", bonafide, spoof, draw(asv_shift, 1, n_target), draw(0, 1, n_nontarget), spoof_asv
        ))
    # an ASV system worse than chance on nontargets that accepts every spoof: min(C1, C2) is C1 there
    cases.append(("weak-asv", rng.normal(1, 1, 30), rng.normal(0, 1, 30),
                  rng.normal(-0.5, 1, 40), rng.normal(0, 1, 40), rng.normal(5, 0.1, 20)))
    return cases


TANDEM_SETS = make_tandem_sets()
TANDEM_IDS = [case[0] for case in TANDEM_SETS]

# hand-checked ASV system: sorted target/nontarget scores -2n -1n 0n 0.5t 1n 2t 3t 4t; the EER point rejects
# the first 4 (Pmiss = Pfa = 1/4), threshold 0.5. At it (accept >= 0.5): Pmiss_asv = 0, Pfa_asv = 1/4,
# spoofs 0 1 2 3 -> Pmiss_spoof_asv = 1/4, Pfa_spoof_asv = 3/4.
ASV_TARGET = [0.5, 2.0, 3.0, 4.0]
ASV_NONTARGET = [-2.0, -1.0, 0.0, 1.0]
ASV_SPOOF = [0.0, 1.0, 2.0, 3.0]
# 2019: C1 = 0.9405 * (1 - 0) - 0.0095 * 10 * 0.25 = 0.91675, C2 = 10 * 0.05 * (1 - 0.25) = 0.375
# 2021: C0 = 0.9405 * 0 + 0.0095 * 10 * 0.25 = 0.02375, C1 = 0.9405 - C0 = 0.91675, C2 = 0.05 * 10 * 0.75 = 0.375
C0_2021, C1_HAND, C2_HAND = 0.02375, 0.91675, 0.375


def tdcf(bonafide_cm, spoof_cm, variant, target=ASV_TARGET, nontarget=ASV_NONTARGET, spoof_asv=ASV_SPOOF):
    return compute_min_tdcf(bonafide_cm, spoof_cm, target, nontarget, spoof_asv, variant=variant)


# ---------------------------------------------------------------- agreement with the references


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", TANDEM_SETS, ids=TANDEM_IDS)
def test_min_tdcf_matches_reference(case, variant):
    _, bonafide, spoof, target, nontarget, spoof_asv = case
    value, threshold = compute_min_tdcf(bonafide, spoof, target, nontarget, spoof_asv, variant=variant)
    expected_value, expected_threshold = reference_min_tdcf(bonafide, spoof, target, nontarget, spoof_asv, variant)
    assert value == pytest.approx(expected_value, rel=TOL, abs=TOL)
    assert threshold == pytest.approx(expected_threshold, abs=TOL)


def test_reference_cases_cover_both_normalisers_and_ties():
    """The random sets exercise min(C1, C2) = C1 and = C2, and tied CM and ASV scores."""
    which = set()
    for _, bonafide, spoof, target, nontarget, spoof_asv in TANDEM_SETS:
        pfa, pmiss, pmiss_spoof, _ = reference_asv_rates(target, nontarget, spoof_asv)
        c1 = 0.9405 * (1 - pmiss) - 0.0095 * 10 * pfa
        c2 = 10 * 0.05 * (1 - pmiss_spoof)
        which.add("C1" if c1 < c2 else "C2")
    assert which == {"C1", "C2"}
    assert any(np.unique(np.concatenate(case[1:3])).size < len(case[1]) + len(case[2]) for case in TANDEM_SETS)
    assert any(np.unique(np.concatenate(case[3:5])).size < len(case[3]) + len(case[4]) for case in TANDEM_SETS)


def test_default_variant_is_2019():
    _, bonafide, spoof, target, nontarget, spoof_asv = TANDEM_SETS[0]
    assert compute_min_tdcf(bonafide, spoof, target, nontarget, spoof_asv) == compute_min_tdcf(
        bonafide, spoof, target, nontarget, spoof_asv, variant="2019"
    )
    assert compute_min_tdcf(bonafide, spoof, target, nontarget, spoof_asv, variant="2021") != compute_min_tdcf(
        bonafide, spoof, target, nontarget, spoof_asv, variant="2019"
    )


# ---------------------------------------------------------------- hand-checked cases


def test_perfect_cm_by_hand():
    bonafide, spoof = [2.0, 3.0, 4.0], [-1.0, 0.0, 1.0]
    # rejecting the 3 spoofs (threshold 1.0) gives Pmiss_cm = Pfa_cm = 0: the 2019 t-DCF is 0 there ...
    assert tdcf(bonafide, spoof, "2019") == (0.0, 1.0)
    # ... and the 2021 one C0 / (C0 + min(C1, C2)), the cost of the ASV system's own errors
    value, threshold = tdcf(bonafide, spoof, "2021")
    assert value == pytest.approx(0.02375 / (0.02375 + 0.375), abs=TOL)
    assert value == pytest.approx(C0_2021 / (C0_2021 + min(C1_HAND, C2_HAND)), abs=TOL)
    assert threshold == 1.0


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    "bonafide, spoof",
    [([-3.0, -2.0, -1.0], [1.0, 2.0, 3.0]), ([1.0, 3.0, 5.0], [2.0, 4.0, 6.0]), ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])],
    ids=["inverted", "interleaved", "identical"],
)
def test_useless_cm_gives_one(bonafide, spoof, variant):
    # Pmiss_cm + Pfa_cm >= 1 at every point: no threshold beats passing every trial (Pmiss 0, Pfa 1), which
    # costs C2 (+ C0) = the default t-DCF, since C2 < C1 here, so the normalised minimum is exactly 1
    value, threshold = tdcf(bonafide, spoof, variant)
    assert value == pytest.approx(1.0, abs=TOL)
    assert threshold == pytest.approx(min(bonafide + spoof) - 0.001, abs=TOL)


@pytest.mark.parametrize("variant", VARIANTS)
def test_intermediate_cm_by_hand(variant):
    # sorted CM trials: -1s 0.5b 1s 2b 3b; candidate points (Pmiss, Pfa): (0, 1) (0, 1/2) (1/3, 1/2) (1/3, 0) ...
    value, threshold = tdcf([0.5, 2.0, 3.0], [-1.0, 1.0], variant)
    c0 = 0.0 if variant == "2019" else C0_2021
    costs = {  # threshold -> cost of the point
        -1.001: c0 + C2_HAND,
        -1.0: c0 + C2_HAND / 2,
        0.5: c0 + C1_HAND / 3 + C2_HAND / 2,
        1.0: c0 + C1_HAND / 3,
    }
    best = min(costs, key=costs.get)
    assert best == -1.0  # 0.1875 (+ C0) beats 0.3056 (+ C0)
    assert value == pytest.approx(costs[best] / (c0 + C2_HAND), abs=TOL)
    assert threshold == best


@pytest.mark.parametrize("variant", VARIANTS)
def test_tied_cm_scores_put_bona_fide_first(variant):
    # sorted CM trials with bona fide first among the tied 1.0s: 0s 1b 1s 1s 2b 3b. No point rejects both 1.0
    # spoofs without the 1.0 bona fide; were spoofs first, (Pmiss, Pfa) = (0, 0) would give a 2019 t-DCF of 0.
    value, threshold = tdcf([1.0, 2.0, 3.0], [1.0, 1.0, 0.0], variant)
    c0 = 0.0 if variant == "2019" else C0_2021
    # best point: reject the 0.0 spoof only (Pmiss 0, Pfa 2/3); rejecting all spoofs costs C1 / 3 + C0 more
    assert value == pytest.approx((c0 + C2_HAND * 2 / 3) / (c0 + C2_HAND), abs=TOL)
    assert threshold == 0.0
    assert value > 0.6


def test_tied_asv_scores_accept_at_the_threshold():
    # sorted ASV trials with the target first among tied 1.0s: 0n 1t 1n 2t; EER point rejects 0n 1t
    # (Pmiss 1/2, Pfa 1/2), threshold 1.0; accepted when >= 1.0: Pmiss_asv = 0, Pfa_asv = 1/2, spoof 1.0 accepted
    value, _ = compute_min_tdcf([2.0, 3.0], [0.0, 1.0], [1.0, 2.0], [0.0, 1.0], [1.0, 0.5], variant="2021")
    c0 = 0.0095 * 10 * 0.5
    c2 = 0.05 * 10 * 0.5
    assert value == pytest.approx(c0 / (c0 + min(0.9405 - c0, c2)), abs=TOL)


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("variant", VARIANTS)
def test_min_tdcf_is_at_most_one_and_at_least_the_perfect_cm(variant):
    rng = np.random.default_rng(7)
    for _ in range(25):
        target, nontarget, spoof_asv = rng.normal(3, 1, 40), rng.normal(0, 1, 40), rng.normal(2, 1.5, 30)
        bonafide, spoof = rng.normal(rng.uniform(-2, 4), 1, 30), rng.normal(0, 1, 30)
        value, _ = compute_min_tdcf(bonafide, spoof, target, nontarget, spoof_asv, variant=variant)
        perfect, _ = compute_min_tdcf(np.arange(3.0) + 100, np.arange(3.0), target, nontarget, spoof_asv,
                                      variant=variant)
        assert perfect - TOL <= value <= 1.0 + TOL
        if variant == "2019":
            assert perfect == 0.0 and 0.0 <= value <= 1.0
        else:
            assert 0.0 < perfect < 1.0


@pytest.mark.parametrize("variant", VARIANTS)
def test_min_tdcf_falls_as_the_cm_improves(variant):
    rng = np.random.default_rng(11)
    target, nontarget, spoof_asv = rng.normal(3, 1, 100), rng.normal(0, 1, 100), rng.normal(2.5, 1, 100)
    bonafide, spoof = rng.normal(0, 1, 200), rng.normal(0, 1, 200)
    values = [
        compute_min_tdcf(bonafide + shift, spoof, target, nontarget, spoof_asv, variant=variant)[0]
        for shift in np.arange(0.0, 12.5, 0.5)
    ]
    assert all(later <= earlier + TOL for earlier, later in zip(values, values[1:]))
    assert values[0] > 0.9 and values[-1] < values[4] < values[0]
    if variant == "2019":
        assert values[-1] == 0.0


def test_2021_cannot_beat_an_asv_that_rejects_every_spoof():
    # spoofs far below the ASV threshold: Pfa_spoof_asv = 0, so C2 = 0; the 2021 t-DCF is C0 + C1 Pmiss_cm,
    # minimised at 1 by passing everything; in 2019 min(C1, C2) = 0 leaves the normalised t-DCF undefined
    bonafide, spoof, far_below = [1.0, 2.0, 3.0], [-1.0, 0.0, 1.5], [-50.0, -40.0]
    value, threshold = tdcf(bonafide, spoof, "2021", spoof_asv=far_below)
    assert value == 1.0
    # the first three points (reject nothing, -1, -1 and 0) all pass every bona fide: the first one is returned
    assert threshold == pytest.approx(-1.001, abs=TOL)
    with pytest.raises(ValueError, match="compute_min_tdcf: the default t-DCF"):
        tdcf(bonafide, spoof, "2019", spoof_asv=far_below)


def test_min_tdcf_accepts_tensors_and_lists():
    _, bonafide, spoof, target, nontarget, spoof_asv = TANDEM_SETS[1]
    expected = compute_min_tdcf(bonafide, spoof, target, nontarget, spoof_asv, variant="2021")
    got = compute_min_tdcf(torch.tensor(bonafide), list(spoof), torch.tensor(target), list(nontarget),
                           tuple(spoof_asv), variant="2021")
    assert got == expected


@pytest.mark.parametrize("variant", ["2019", "2021"])
def test_min_tdcf_at_given_asv_rates_matches_reference(variant):
    """The ASVspoof 5 evaluation's way: the organisers' pooled ASV error rates instead of ASV scores."""
    from sasv_metrics import ASVSPOOF5_ASV_ERROR_RATES

    pfa, pmiss, pfa_spoof = ASVSPOOF5_ASV_ERROR_RATES
    for _, bonafide, spoof, *_ in TANDEM_SETS[:8]:
        expected = reference_min_tdcf_at_rates(bonafide, spoof, pfa, pmiss, 1 - pfa_spoof, pfa_spoof, variant)
        assert compute_min_tdcf_at_asv_rates(bonafide, spoof, pfa, pmiss, pfa_spoof, variant) == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("variant", ["2020", 2019, "LA", "", None])
def test_bad_variant(variant):
    with pytest.raises(ValueError, match="compute_min_tdcf: variant must be one of '2019', '2021'"):
        tdcf([1.0, 2.0], [0.0], variant)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (([1.0, math.nan], [0.0], ASV_TARGET, ASV_NONTARGET, ASV_SPOOF), "bona fide scores are not finite"),
        (([1.0, 2.0], [0.0], [1.0, math.inf], ASV_NONTARGET, ASV_SPOOF), "target ASV scores are not finite"),
        (([1.0, 2.0], [0.0], ASV_TARGET, [], ASV_SPOOF), "no nontarget ASV scores"),
        (([1.0, 2.0], [0.0], ASV_TARGET, ASV_NONTARGET, []), "no spoof ASV scores"),
        (([1.0, 2.0], [], ASV_TARGET, ASV_NONTARGET, ASV_SPOOF), "no spoof scores"),
        (([1.0, 2.0], [0.0], [[1.0, 2.0]], ASV_NONTARGET, ASV_SPOOF), "target ASV scores must be 1-D"),
        (([1.0, 1.0, 1.0], [0.0, 0.0], ASV_TARGET, ASV_NONTARGET, ASV_SPOOF), "only 2 distinct value"),
    ],
    ids=["nan-cm", "inf-asv", "no-nontarget", "no-spoof-asv", "no-spoof-cm", "2d-asv", "hard-decisions"],
)
@pytest.mark.parametrize("variant", VARIANTS)
def test_bad_scores(arguments, message, variant):
    with pytest.raises(ValueError, match=f"compute_min_tdcf: .*{message}"):
        compute_min_tdcf(*arguments, variant=variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_inverted_asv_gives_negative_weights(variant):
    # targets 0..19 below nontargets 20..39: the EER point rejects all targets (threshold 19), where
    # Pmiss_asv = 19/20 and Pfa_asv = 1: C1 = 0.9405 * 0.05 - 0.095 < 0 (2019) and 0.9405 - 0.8935 - 0.095 < 0 (2021)
    with pytest.raises(ValueError, match="negative t-DCF weights.*polarity"):
        compute_min_tdcf([1.0, 2.0, 3.0], [0.0], np.arange(20.0), np.arange(20.0, 40.0), [5.0], variant=variant)


# ---------------------------------------------------------------- read_asv_scores

ASV_2019_LINES = """bonafide target 1.5
bonafide nontarget -0.5

A07 spoof 0.25
A19 spoof 3
bonafide target 2e0
bonafide nontarget -1.25
"""

# 2021 LA: score file "<speaker> <trial> <score>", protocol "<speaker> <trial> <codec> <transmission> <attack>
# <key> <trim> <subset>"; the same trial may be scored against two speakers
ASV_2021_SCORES = """LA_0013-alaw-ita_tx LA_E_2 -3.5
LA_0007-alaw-ita_tx LA_E_1 2.25
LA_0007-alaw-ita_tx LA_E_3 0.5
LA_0013-alaw-ita_tx LA_E_1 -1.0
LA_0007-none-no_tx LA_E_4 1.75
"""
ASV_2021_PROTOCOL = """LA_0007-alaw-ita_tx LA_E_1 alaw ita_tx bonafide target notrim eval
LA_0013-alaw-ita_tx LA_E_1 alaw ita_tx bonafide nontarget notrim eval
LA_0007-alaw-ita_tx LA_E_3 alaw ita_tx A07 spoof notrim eval
LA_0013-alaw-ita_tx LA_E_2 alaw ita_tx bonafide nontarget notrim progress
LA_0007-none-no_tx LA_E_4 none no_tx A19 spoof notrim progress
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_asv_scores_2019(tmp_path):
    path = write(tmp_path, "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt", ASV_2019_LINES)
    target, nontarget, spoof = read_asv_scores(path)
    assert target.tolist() == [1.5, 2.0] and nontarget.tolist() == [-0.5, -1.25] and spoof.tolist() == [0.25, 3.0]
    assert target.dtype == nontarget.dtype == spoof.dtype == np.float64
    assert [array.tolist() for array in read_asv_scores(str(path))] == [[1.5, 2.0], [-0.5, -1.25], [0.25, 3.0]]


def test_read_asv_scores_2021(tmp_path):
    scores = write(tmp_path, "score.txt", ASV_2021_SCORES)
    protocol = write(tmp_path, "trial_metadata.txt", ASV_2021_PROTOCOL)
    target, nontarget, spoof = read_asv_scores(scores, metadata=protocol)
    # joined on (speaker, trial), in protocol order
    assert target.tolist() == [2.25] and nontarget.tolist() == [-1.0, -3.5] and spoof.tolist() == [0.5, 1.75]
    target, nontarget, spoof = read_asv_scores(scores, metadata=str(protocol), subset="eval")
    assert target.tolist() == [2.25] and nontarget.tolist() == [-1.0] and spoof.tolist() == [0.5]


def test_read_asv_scores_feeds_min_tdcf(tmp_path):
    path = write(tmp_path, "asv.txt", "".join(
        f"{source} {key} {score}\n"
        for source, key, scores in [("bonafide", "target", ASV_TARGET), ("bonafide", "nontarget", ASV_NONTARGET),
                                    ("A10", "spoof", ASV_SPOOF)]
        for score in scores
    ))
    assert compute_min_tdcf([2.0, 3.0, 4.0], [-1.0, 0.0, 1.0], *read_asv_scores(path), variant="2021")[0] == (
        pytest.approx(C0_2021 / (C0_2021 + C2_HAND), abs=TOL))


@pytest.mark.parametrize(
    "line, number",
    [("A07 spof 0.25", 4), ("A07 spoof", 4), ("A07 spoof 0.25 extra", 4), ("A07 spoof abc", 4),
     ("A07 spoof nan", 4), ("bonafide target inf", 1)],
    ids=["bad-key", "two-columns", "four-columns", "not-a-number", "nan", "inf-first-line"],
)
def test_read_asv_scores_2019_malformed_line(tmp_path, line, number):
    lines = ASV_2019_LINES.splitlines()
    lines[number - 1] = line
    path = write(tmp_path, "asv.txt", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"read_asv_scores: .*asv\.txt line {number}: expected '<source> "
                                         r"<target\|nontarget\|spoof> <score>'"):
        read_asv_scores(path)


def test_read_asv_scores_unknown_layout(tmp_path):
    path = write(tmp_path, "asv.txt", "LA_0007 LA_E_1 bonafide target 1.5\n")
    with pytest.raises(ValueError, match=r"asv\.txt line 1: expected 3 columns"):
        read_asv_scores(path)


def test_read_asv_scores_2021_errors(tmp_path):
    scores = write(tmp_path, "score.txt", ASV_2021_SCORES)
    protocol = write(tmp_path, "trial_metadata.txt", ASV_2021_PROTOCOL)
    with pytest.raises(ValueError, match=r"score\.txt is an ASVspoof 2021 .*pass metadata="):
        read_asv_scores(scores)
    bad_protocol = write(tmp_path, "bad_metadata.txt", ASV_2021_PROTOCOL.replace("A07 spoof notrim", "A07 spoof"))
    with pytest.raises(ValueError, match=r"bad_metadata\.txt line 3: expected '<speaker> <trial> <codec>"):
        read_asv_scores(scores, metadata=bad_protocol)
    bad_key = write(tmp_path, "bad_key.txt", ASV_2021_PROTOCOL.replace("bonafide target", "bonafide targ"))
    with pytest.raises(ValueError, match=r"bad_key\.txt line 1: expected"):
        read_asv_scores(scores, metadata=bad_key)
    bad_scores = write(tmp_path, "bad_score.txt", ASV_2021_SCORES.replace("LA_E_3 0.5", "LA_E_3 0.5 x"))
    with pytest.raises(ValueError, match=r"bad_score\.txt line 3: expected '<speaker> <trial> <score>'"):
        read_asv_scores(bad_scores, metadata=protocol)
    missing = write(tmp_path, "missing.txt", ASV_2021_SCORES.replace("LA_0007-alaw-ita_tx LA_E_3 0.5\n", ""))
    with pytest.raises(ValueError, match=r"missing\.txt has no score for speaker LA_0007-alaw-ita_tx trial LA_E_3"):
        read_asv_scores(missing, metadata=protocol)
    extra = write(tmp_path, "extra.txt", ASV_2021_SCORES + "LA_0099 LA_E_9 1.0\n")
    with pytest.raises(ValueError, match=r"extra\.txt line 6: speaker LA_0099 trial LA_E_9 is not in"):
        read_asv_scores(extra, metadata=protocol)
    twice = write(tmp_path, "twice.txt", ASV_2021_SCORES + "LA_0007-alaw-ita_tx LA_E_1 1.0\n")
    with pytest.raises(ValueError, match=r"twice\.txt line 6: .* scored again \(first on line 2\)"):
        read_asv_scores(twice, metadata=protocol)
    with pytest.raises(ValueError, match="has no trials of subset 'hidden'"):
        read_asv_scores(scores, metadata=protocol, subset="hidden")
    with pytest.raises(ValueError, match="has no target trials"):
        read_asv_scores(scores, metadata=protocol, subset="progress")


def test_read_asv_scores_2019_errors(tmp_path):
    path = write(tmp_path, "asv.txt", ASV_2019_LINES)
    with pytest.raises(ValueError, match="metadata and subset are for the 2021 format"):
        read_asv_scores(path, metadata=path)
    no_spoof = write(tmp_path, "no_spoof.txt", "bonafide target 1\nbonafide nontarget 0\n")
    with pytest.raises(ValueError, match=r"no_spoof\.txt has no spoof trials"):
        read_asv_scores(no_spoof)
    empty = write(tmp_path, "empty.txt", "\n\n")
    with pytest.raises(ValueError, match=r"empty\.txt holds no trials"):
        read_asv_scores(empty)


# ---------------------------------------------------------------- compute_eer_per_attack


def per_attack_case():
    bonafide = [0.7, 0.8, 0.9]
    scores = bonafide + [0.1, 0.75, 0.2, 0.95, 0.8, 0.3, 0.85]
    labels = [BONAFIDE] * 3 + [SPOOF] * 7
    attacks = ["-", "-", "-", "A07", "A10", "A07", "A10", "A19", "A19", "A10"]
    return scores, labels, attacks


def test_eer_per_attack_against_compute_eer():
    scores, labels, attacks = per_attack_case()
    result = compute_eer_per_attack(scores, labels, attacks)
    assert list(result) == ["A07", "A10", "A19", "pooled"]
    bonafide = [0.7, 0.8, 0.9]
    assert result["A07"] == compute_eer(bonafide, [0.1, 0.2])[0] == 0.0
    # sorted .7b .75s .8b .85s .9b .95s: rejecting .7b .75s .8b gives Pmiss = Pfa = 2/3
    assert result["A10"] == compute_eer(bonafide, [0.75, 0.85, 0.95])[0] == pytest.approx(2 / 3, abs=TOL)
    # a spoof tied with a bona fide score (0.8): bona fide first among ties, as in compute_eer
    assert result["A19"] == compute_eer(bonafide, [0.8, 0.3])[0]
    assert result["pooled"] == compute_eer(bonafide, [0.1, 0.75, 0.2, 0.95, 0.8, 0.3, 0.85])[0]


def test_eer_per_attack_ignores_bona_fide_attacks_and_takes_tensors():
    scores, labels, attacks = per_attack_case()
    expected = compute_eer_per_attack(scores, labels, attacks)
    relabelled = ["A07", None, "A99"] + attacks[3:]
    assert compute_eer_per_attack(scores, labels, relabelled) == expected
    assert compute_eer_per_attack(torch.tensor(scores), torch.tensor(labels), np.asarray(attacks)) == pytest.approx(
        expected, abs=1e-6)


def test_eer_per_attack_natural_order_of_ids():
    scores = [1.0, 2.0, 0.5, 1.5, 0.0, 3.0]
    labels = [BONAFIDE, BONAFIDE, SPOOF, SPOOF, SPOOF, SPOOF]
    result = compute_eer_per_attack(scores, labels, [0, 0, 10, 2, 1, 2])
    assert list(result) == ["1", "2", "10", "pooled"]
    assert result["2"] == compute_eer([1.0, 2.0], [1.5, 3.0])[0]
    assert list(compute_eer_per_attack(scores, labels, ["", "", "A10", "A7", "A1", "A7"])) == ["A1", "A7", "A10",
                                                                                                "pooled"]


@pytest.mark.parametrize(
    "scores, labels, attacks, message",
    [
        ([1.0, 0.0], [BONAFIDE, SPOOF], ["-"], "2 scores, 2 labels and 1 attacks"),
        ([1.0, 0.0], [BONAFIDE, 2], ["-", "A01"], "label 2 is neither BONAFIDE"),
        ([1.0, 0.0], [BONAFIDE, BONAFIDE], ["-", "-"], "no spoof scores"),
        ([1.0, math.nan], [BONAFIDE, SPOOF], ["-", "A01"], "not finite"),
        ([1.0, 0.0], [BONAFIDE, SPOOF], ["-", "pooled"], 'attack is named "pooled"'),
    ],
    ids=["lengths", "label", "no-spoof", "nan", "pooled-name"],
)
def test_eer_per_attack_errors(scores, labels, attacks, message):
    with pytest.raises(ValueError, match=f"compute_eer_per_attack: .*{message}"):
        compute_eer_per_attack(scores, labels, attacks)
