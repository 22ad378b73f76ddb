"""Evaluation metrics for anti-spoofing scores: EER, minDCF, actDCF, Cllr and accuracy.

Every function takes the bona fide scores and the spoof scores separately: 1-D array-likes
(lists, numpy arrays, CPU torch tensors) of finite floats, one per trial, higher meaning more
bona fide. Bona fide is the "target" class of the ASVspoof evaluation packages. The DET curve
and EER follow the ASVspoof 2019/2021 packages, minDCF and actDCF the ASVspoof 5 cost model.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

# ASVspoof 5 cost model: prior of a spoof trial, cost of rejecting bona fide, cost of accepting spoof
P_SPOOF = 0.05
C_MISS = 1.0
C_FA = 10.0


def validate_scores(
    caller: str, bonafide_scores: ArrayLike, spoof_scores: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Both score sets as float64 [n] arrays; ValueError naming `caller` if either is empty, not 1-D or not finite."""
    arrays = []
    for name, scores in (("bona fide", bonafide_scores), ("spoof", spoof_scores)):
        array = np.asarray(scores, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"{caller}: {name} scores must be 1-D, got shape {array.shape}")
        if array.size == 0:
            raise ValueError(f"{caller}: no {name} scores; the evaluation set needs both classes")
        n_bad = int(np.count_nonzero(~np.isfinite(array)))
        if n_bad:
            raise ValueError(f"{caller}: {n_bad} of {array.size} {name} scores are not finite (NaN or inf)")
        arrays.append(array)
    return arrays[0], arrays[1]


def _det_curve(bonafide: np.ndarray, spoof: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DET points of validated scores; see compute_det_curve."""
    scores = np.concatenate((bonafide, spoof))
    # stable sort of bona fide-then-spoof: among tied scores, bona fide trials come first
    order = np.argsort(scores, kind="mergesort")
    is_bonafide = order < bonafide.size
    bonafide_rejected = np.cumsum(is_bonafide)
    spoof_rejected = np.arange(1, scores.size + 1) - bonafide_rejected
    frr = np.concatenate(([0.0], bonafide_rejected / bonafide.size))
    far = np.concatenate(([1.0], (spoof.size - spoof_rejected) / spoof.size))
    sorted_scores = scores[order]
    thresholds = np.concatenate(([sorted_scores[0] - 0.001], sorted_scores))
    return frr, far, thresholds


def _eer(frr: np.ndarray, far: np.ndarray, thresholds: np.ndarray) -> tuple[float, float]:
    """EER and its threshold from DET points; see compute_eer."""
    index = np.argmin(np.abs(frr - far))
    return float((frr[index] + far[index]) / 2), float(thresholds[index])


def _dcf_normaliser(caller: str, p_spoof: float, c_miss: float, c_fa: float) -> float:
    """Cost of the better of the two trivial systems (accept all, reject all); checks the cost model."""
    if not 0.0 < p_spoof < 1.0 or c_miss <= 0.0 or c_fa <= 0.0:
        raise ValueError(
            f"{caller}: need 0 < p_spoof < 1 and positive costs, got p_spoof={p_spoof}, c_miss={c_miss}, c_fa={c_fa}"
        )
    return min(c_miss * (1.0 - p_spoof), c_fa * p_spoof)


def _min_dcf(
    frr: np.ndarray,
    far: np.ndarray,
    thresholds: np.ndarray,
    p_spoof: float,
    c_miss: float,
    c_fa: float,
    normaliser: float,
) -> tuple[float, float]:
    """Normalised minDCF and its threshold from DET points; see compute_min_dcf."""
    costs = c_miss * frr * (1.0 - p_spoof) + c_fa * far * p_spoof
    index = np.argmin(costs)
    return float(costs[index] / normaliser), float(thresholds[index])


def _act_dcf(
    bonafide: np.ndarray, spoof: np.ndarray, p_spoof: float, c_miss: float, c_fa: float, normaliser: float
) -> tuple[float, float]:
    """Normalised actDCF at the Bayes threshold and that threshold; see compute_act_dcf."""
    threshold = -math.log(c_miss * (1.0 - p_spoof) / (c_fa * p_spoof))
    miss = np.count_nonzero(bonafide < threshold) / bonafide.size
    false_alarm = np.count_nonzero(spoof >= threshold) / spoof.size
    cost = c_miss * (1.0 - p_spoof) * miss + c_fa * p_spoof * false_alarm
    return float(cost / normaliser), threshold


def _cllr(bonafide: np.ndarray, spoof: np.ndarray) -> float:
    """Cllr in bits of validated scores; see compute_cllr."""
    # log(1 + exp(x)) == logaddexp(0, x), which does not overflow for large |x|
    bonafide_cost = np.mean(np.logaddexp(0.0, -bonafide))
    spoof_cost = np.mean(np.logaddexp(0.0, spoof))
    return float((bonafide_cost + spoof_cost) / (2.0 * math.log(2.0)))


def _accuracy(caller: str, bonafide: np.ndarray, spoof: np.ndarray, threshold: float) -> float:
    """Fraction of validated trials classified correctly; see compute_accuracy."""
    if math.isnan(threshold):
        raise ValueError(f"{caller}: the decision threshold is NaN")
    correct = np.count_nonzero(bonafide >= threshold) + np.count_nonzero(spoof < threshold)
    return float(correct / (bonafide.size + spoof.size))


def compute_det_curve(
    bonafide_scores: ArrayLike, spoof_scores: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DET curve as in the ASVspoof 2019/2021 evaluation packages: (frr, far, thresholds), each float64 [n + 1].

    The n trials are sorted by score (stable, bona fide before spoof among ties). Point i rejects the first
    i sorted trials: frr[i] is the fraction of bona fide trials among them, far[i] the fraction of spoof
    trials not among them, thresholds[i] the last rejected score (thresholds[0] = lowest score - 0.001).
    """
    bonafide, spoof = validate_scores("compute_det_curve", bonafide_scores, spoof_scores)
    return _det_curve(bonafide, spoof)


def compute_eer(bonafide_scores: ArrayLike, spoof_scores: ArrayLike) -> tuple[float, float]:
    """Equal error rate (a fraction, not %) and its threshold.

    The EER is mean(frr, far) at the first DET point (compute_det_curve) that minimises |frr - far|.
    """
    bonafide, spoof = validate_scores("compute_eer", bonafide_scores, spoof_scores)
    return _eer(*_det_curve(bonafide, spoof))


def compute_min_dcf(
    bonafide_scores: ArrayLike,
    spoof_scores: ArrayLike,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> tuple[float, float]:
    """Normalised minimum detection cost (ASVspoof 5) and the threshold reaching it.

    Over the DET points, cost = c_miss * frr * (1 - p_spoof) + c_fa * far * p_spoof; the first minimum is
    divided by min(c_miss * (1 - p_spoof), c_fa * p_spoof), the cost of the better trivial system.
    """
    normaliser = _dcf_normaliser("compute_min_dcf", p_spoof, c_miss, c_fa)
    bonafide, spoof = validate_scores("compute_min_dcf", bonafide_scores, spoof_scores)
    return _min_dcf(*_det_curve(bonafide, spoof), p_spoof, c_miss, c_fa, normaliser)


def compute_act_dcf(
    bonafide_scores: ArrayLike,
    spoof_scores: ArrayLike,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> tuple[float, float]:
    """Normalised actual detection cost (ASVspoof 5) and the Bayes threshold it is measured at.

    Scores are read as natural-log likelihood ratios (bona fide vs spoof), thresholded at
    -ln(c_miss * (1 - p_spoof) / (c_fa * p_spoof)): bona fide below it is a miss, spoof at or above it
    a false alarm. Normalised as in compute_min_dcf.
    """
    normaliser = _dcf_normaliser("compute_act_dcf", p_spoof, c_miss, c_fa)
    bonafide, spoof = validate_scores("compute_act_dcf", bonafide_scores, spoof_scores)
    return _act_dcf(bonafide, spoof, p_spoof, c_miss, c_fa, normaliser)


def compute_cllr(bonafide_scores: ArrayLike, spoof_scores: ArrayLike) -> float:
    """Log-likelihood-ratio cost in bits; scores are natural-log LLRs. 1.0 for all-zero scores, near 0 for good ones."""
    bonafide, spoof = validate_scores("compute_cllr", bonafide_scores, spoof_scores)
    return _cllr(bonafide, spoof)


def compute_accuracy(bonafide_scores: ArrayLike, spoof_scores: ArrayLike, threshold: float) -> float:
    """Fraction of all trials classified correctly when score >= threshold means bona fide."""
    bonafide, spoof = validate_scores("compute_accuracy", bonafide_scores, spoof_scores)
    return _accuracy("compute_accuracy", bonafide, spoof, threshold)


def compute_metrics(
    bonafide_scores: ArrayLike, spoof_scores: ArrayLike, decision_threshold: float | None = None
) -> dict[str, float]:
    """All metrics with the default ASVspoof 5 cost model, from one sort of the scores.

    Keys: eer, eer_threshold, min_dcf, act_dcf, cllr, accuracy, n_bonafide, n_spoof (the counts are ints).
    Accuracy is taken at `decision_threshold`, or at the EER threshold of these scores when it is None.
    """
    bonafide, spoof = validate_scores("compute_metrics", bonafide_scores, spoof_scores)
    normaliser = _dcf_normaliser("compute_metrics", P_SPOOF, C_MISS, C_FA)
    det = _det_curve(bonafide, spoof)
    eer, eer_threshold = _eer(*det)
    min_dcf, _ = _min_dcf(*det, P_SPOOF, C_MISS, C_FA, normaliser)
    act_dcf, _ = _act_dcf(bonafide, spoof, P_SPOOF, C_MISS, C_FA, normaliser)
    threshold = eer_threshold if decision_threshold is None else decision_threshold
    return {
        "eer": eer,
        "eer_threshold": eer_threshold,
        "min_dcf": min_dcf,
        "act_dcf": act_dcf,
        "cllr": _cllr(bonafide, spoof),
        "accuracy": _accuracy("compute_metrics", bonafide, spoof, threshold),
        "n_bonafide": bonafide.size,
        "n_spoof": spoof.size,
    }
