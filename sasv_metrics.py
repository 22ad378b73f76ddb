"""Spoofing-aware speaker verification (SASV) metrics of ASVspoof 5: the min a-DCF and the concurrent t-EER.

A SASV trial is a target (bona fide speech of the claimed speaker), a nontarget (bona fide speech of another
speaker) or a spoof (a spoofing attack). Every function takes the scores of the three classes separately:
1-D array-likes (lists, numpy arrays, CPU torch tensors) of finite floats, one per trial, checked as in
metrics.py. Rates and metrics are fractions, not %.

- compute_min_a_dcf: one SASV score per trial, higher = accept as target (Shim, Jung, Kinnunen et al., "a-DCF",
  Odyssey 2024), primary metric of ASVspoof 5 track 2, as in evaluation-package/a_dcf.py of the challenge, with the
  cost model its evaluation uses.
- compute_t_eer: a countermeasure (CM) score (higher = bona fide) and an ASV score (higher = target) per trial,
  the two systems run in tandem (Kinnunen et al., "t-EER", IEEE TPAMI 2023), a secondary metric of ASVspoof 5.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from metrics import (
    TDCF_2021_C_FA,
    TDCF_2021_C_FA_SPOOF,
    TDCF_2021_C_MISS,
    TDCF_P_NONTARGET,
    TDCF_P_SPOOF,
    TDCF_P_TARGET,
    _as_scores,
)

# ASVspoof 5 track 2 a-DCF cost model: prior of a target, a nontarget and a spoof trial; cost of rejecting a target,
# of accepting a nontarget, of accepting a spoof. The challenge's evaluation (evaluation-package/calculate_metrics.py,
# calculate_aDCF_tdcf_tEER) builds it from its t-DCF cost model, the 2021 one of metrics.py; the CostModel defaults of
# evaluation-package/a_dcf.py (0.9, 0.05, 0.05; 1, 10, 20) are not what it scores with.
A_DCF_P_TARGET = TDCF_P_TARGET  # 0.9405
A_DCF_P_NONTARGET = TDCF_P_NONTARGET  # 0.0095
A_DCF_P_SPOOF = TDCF_P_SPOOF  # 0.05
A_DCF_C_MISS = TDCF_2021_C_MISS  # 1
A_DCF_C_FA_NONTARGET = TDCF_2021_C_FA  # 10
A_DCF_C_FA_SPOOF = TDCF_2021_C_FA_SPOOF  # 10
# The organisers' ASV error rates, pooled over all conditions, that the ASVspoof 5 evaluation takes for its min t-DCF
# (2021 form) of track 2 when no ASV scores of theirs are given: nontarget accepted, target rejected, spoof accepted
ASVSPOOF5_ASV_ERROR_RATES = (0.01881016557566423, 0.01880141010575793, 0.4607082907604729)
# the accept-everything point of the a-DCF curve sits this far below the lowest score, as in the package
A_DCF_ACCEPT_ALL_OFFSET = 1e-8


def _a_dcf_normaliser(
    caller: str,
    p_target: float,
    p_nontarget: float,
    p_spoof: float,
    c_miss: float,
    c_fa_nontarget: float,
    c_fa_spoof: float,
) -> float:
    """a-DCF of the better trivial system: min(reject all = c_miss p_target, accept all = c_fa_nontarget
    p_nontarget + c_fa_spoof p_spoof); ValueError naming `caller` for a bad cost model."""
    priors_ok = 0.0 < p_target < 1.0 and p_nontarget >= 0.0 and p_spoof >= 0.0
    priors_ok = priors_ok and abs(p_target + p_nontarget + p_spoof - 1.0) <= 1e-9
    costs = (c_miss, c_fa_nontarget, c_fa_spoof)
    if not priors_ok or not all(math.isfinite(cost) and cost > 0.0 for cost in costs):
        raise ValueError(
            f"{caller}: need priors >= 0 summing to 1 with 0 < p_target < 1, and finite positive costs; got "
            f"p_target={p_target}, p_nontarget={p_nontarget}, p_spoof={p_spoof}, c_miss={c_miss}, "
            f"c_fa_nontarget={c_fa_nontarget}, c_fa_spoof={c_fa_spoof}"
        )
    return min(c_miss * p_target, c_fa_nontarget * p_nontarget + c_fa_spoof * p_spoof)


def compute_min_a_dcf(
    target_scores: ArrayLike,
    nontarget_scores: ArrayLike,
    spoof_scores: ArrayLike,
    p_target: float = A_DCF_P_TARGET,
    p_nontarget: float = A_DCF_P_NONTARGET,
    p_spoof: float = A_DCF_P_SPOOF,
    c_miss: float = A_DCF_C_MISS,
    c_fa_nontarget: float = A_DCF_C_FA_NONTARGET,
    c_fa_spoof: float = A_DCF_C_FA_SPOOF,
) -> tuple[float, float]:
    """Normalised minimum a-DCF of SASV scores and the threshold reaching it (accept as target iff score > it).

    a-DCF = c_miss p_target Pmiss + c_fa_nontarget p_nontarget Pfa_nontarget + c_fa_spoof p_spoof Pfa_spoof,
    divided by a-DCF_default = min(c_miss p_target, c_fa_nontarget p_nontarget + c_fa_spoof p_spoof), the cost
    of rejecting or of accepting every trial (0.9 with the ASVspoof 5 defaults). As in the package, the n trials
    are sorted by score (stable: target, then nontarget, then spoof among tied scores) and point i rejects the
    first i of them, its threshold the last rejected score (point 0: lowest score - 1e-8); the first minimum is
    returned. Inside a group of tied scores the cost first rises (targets rejected) and then falls, so the
    minimum is always at a threshold every tied trial obeys: tied scores get one decision.
    """
    caller = "compute_min_a_dcf"
    normaliser = _a_dcf_normaliser(caller, p_target, p_nontarget, p_spoof, c_miss, c_fa_nontarget, c_fa_spoof)
    needed = "the a-DCF needs target, nontarget and spoof trials"
    target = _as_scores(caller, "target", target_scores, needed)
    nontarget = _as_scores(caller, "nontarget", nontarget_scores, needed)
    spoof = _as_scores(caller, "spoof", spoof_scores, needed)
    scores = np.concatenate((target, nontarget, spoof))
    order = np.argsort(scores, kind="mergesort")
    trial_class = np.repeat(np.arange(3), (target.size, nontarget.size, spoof.size))[order]
    targets_rejected = np.concatenate(([0], np.cumsum(trial_class == 0)))
    nontargets_rejected = np.concatenate(([0], np.cumsum(trial_class == 1)))
    spoofs_rejected = np.concatenate(([0], np.cumsum(trial_class == 2)))
    miss = targets_rejected / target.size
    fa_nontarget = (nontarget.size - nontargets_rejected) / nontarget.size
    fa_spoof = (spoof.size - spoofs_rejected) / spoof.size
    costs = c_miss * p_target * miss + c_fa_nontarget * p_nontarget * fa_nontarget + c_fa_spoof * p_spoof * fa_spoof
    index = int(np.argmin(costs))
    sorted_scores = scores[order]
    threshold = sorted_scores[0] - A_DCF_ACCEPT_ALL_OFFSET if index == 0 else sorted_scores[index - 1]
    return float(costs[index] / normaliser), float(threshold)


def _acceptance_rates(thresholds: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Fraction of `scores` at or above each threshold: float64, the shape of `thresholds`."""
    return (scores.size - np.searchsorted(np.sort(scores), thresholds, side="left")) / scores.size


def _tandem_error_rates(
    bonafide_pass: np.ndarray,
    spoof_pass: np.ndarray,
    target_accept: np.ndarray,
    nontarget_accept: np.ndarray,
    spoof_accept: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tandem (miss, nontarget false alarm, spoof false alarm) rates from the CM pass rates of bona fide and
    spoof trials and the ASV accept rates of target, nontarget and spoof trials, CM and ASV independent:
    Pmiss = Pmiss_cm + (1 - Pmiss_cm) Pmiss_asv = 1 - pass_cm accept_asv(target), Pfa_nontarget =
    pass_cm accept_asv(nontarget), Pfa_spoof = pass_cm(spoof) accept_asv(spoof)."""
    return 1.0 - bonafide_pass * target_accept, bonafide_pass * nontarget_accept, spoof_pass * spoof_accept


def compute_t_eer(
    cm_target: ArrayLike,
    cm_nontarget: ArrayLike,
    cm_spoof: ArrayLike,
    asv_target: ArrayLike,
    asv_nontarget: ArrayLike,
    asv_spoof: ArrayLike,
) -> tuple[float, float, float]:
    """Concurrent t-EER of a CM ahead of an ASV system, and its (CM, ASV) thresholds: (t_eer, cm_threshold,
    asv_threshold). A trial passes the CM iff its CM score >= cm_threshold and is accepted by the ASV iff its
    ASV score >= asv_threshold; the tandem accepts a trial that both pass.

    Each class comes with one CM and one ASV score per trial (equal lengths). As in Kinnunen et al. (2023) and
    the ASVspoof 5 package, CM and ASV are taken as independent: the CM rates are those of the bona fide
    (target and nontarget) and spoof CM scores, and the tandem rates (Pmiss, Pfa_nontarget, Pfa_spoof) follow
    _tandem_error_rates. The concurrent t-EER is the point where all three are equal, the crossing of the t-EER
    paths Pmiss = (1 - rho) Pfa_nontarget + rho Pfa_spoof of every spoof prevalence rho; it is found, like the
    package, on the rho = 1/2 path. Candidate thresholds are the distinct scores (and +inf for the CM), so tied
    scores always get one decision. For each ASV threshold where the path exists (CM passing everything,
    Pmiss < (Pfa_nontarget + Pfa_spoof) / 2), the path point is the one of the two CM thresholds around the sign
    change of Pmiss - (Pfa_nontarget + Pfa_spoof) / 2 closer to 0 (the lower on a tie); the path point with the
    smallest |Pfa_nontarget - Pfa_spoof| (the lowest ASV threshold on a tie) is the result, and the t-EER is
    the mean of its three tandem rates. O(n log n) in the number of trials n: one sort per system, then a
    bisection per ASV threshold.
    """
    caller = "compute_t_eer"
    needed = "the t-EER needs target, nontarget and spoof trials, each with a CM and an ASV score"
    classes = {}
    for name, cm_scores, asv_scores in (
        ("target", cm_target, asv_target),
        ("nontarget", cm_nontarget, asv_nontarget),
        ("spoof", cm_spoof, asv_spoof),
    ):
        cm = _as_scores(caller, f"{name} CM", cm_scores, needed)
        asv = _as_scores(caller, f"{name} ASV", asv_scores, needed)
        if cm.size != asv.size:
            raise ValueError(
                f"{caller}: {cm.size} {name} CM scores but {asv.size} {name} ASV scores; need one of each per trial"
            )
        classes[name] = (cm, asv)
    cm_bonafide = np.concatenate((classes["target"][0], classes["nontarget"][0]))
    cm_spoof_scores = classes["spoof"][0]
    cm_thresholds = np.append(np.unique(np.concatenate((cm_bonafide, cm_spoof_scores))), np.inf)
    bonafide_pass = _acceptance_rates(cm_thresholds, cm_bonafide)
    spoof_pass = _acceptance_rates(cm_thresholds, cm_spoof_scores)
    asv_scores = [classes[name][1] for name in ("target", "nontarget", "spoof")]
    asv_thresholds = np.unique(np.concatenate(asv_scores))
    asv_accept = [_acceptance_rates(asv_thresholds, scores) for scores in asv_scores]

    def rates_at(cm_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tandem rates at CM threshold cm_index[j] and ASV threshold j, for every ASV threshold j."""
        return _tandem_error_rates(bonafide_pass[cm_index], spoof_pass[cm_index], *asv_accept)

    def miss_excess(cm_index: np.ndarray) -> np.ndarray:
        """Pmiss - (Pfa_nontarget + Pfa_spoof) / 2: nondecreasing in the CM and in the ASV threshold."""
        miss, fa_nontarget, fa_spoof = rates_at(cm_index)
        return miss - (fa_nontarget + fa_spoof) / 2

    # bisection per ASV threshold for the first CM threshold with miss_excess >= 0 (+inf: miss 1, false alarms 0)
    low = np.zeros(asv_thresholds.size, dtype=np.int64)
    high = np.full(asv_thresholds.size, cm_thresholds.size - 1, dtype=np.int64)
    on_path = miss_excess(low) < 0
    while np.any(high - low > 1):
        middle = (low + high) // 2
        reached = miss_excess(middle) >= 0
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle)
    cm_index = np.where(np.abs(miss_excess(high)) < np.abs(miss_excess(low)), high, low)
    miss, fa_nontarget, fa_spoof = rates_at(cm_index)
    best = int(np.argmin(np.where(on_path, np.abs(fa_nontarget - fa_spoof), np.inf)))
    t_eer = (miss[best] + fa_nontarget[best] + fa_spoof[best]) / 3
    return float(t_eer), float(cm_thresholds[cm_index[best]]), float(asv_thresholds[best])
