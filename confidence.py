"""Confidence of evaluation results: bootstrap intervals of EER and minDCF, and paired tests of two systems.

Scores come as in metrics.py: bona fide and spoof scores separately, 1-D float arrays, higher meaning more
bona fide. Every metric is a fraction, not %. Two systems compared by a paired function are scored on the
same trials in the same order: bona fide score i of system A and of system B belong to the same trial.

The bootstrap is stratified: each draw resamples the bona fide trials and the spoof trials separately, with
replacement, keeping both counts. Draw b takes bona fide indices rng.integers(0, n_bonafide, size=n_bonafide),
then spoof indices rng.integers(0, n_spoof, size=n_spoof), from rng = numpy.random.default_rng(seed), so a seed
fixes every draw, and a draw's EER and minDCF equal metrics.compute_eer and compute_min_dcf of the resampled
scores. They are computed without sorting again: see _SortedTrials.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom

from metrics import C_FA, C_MISS, P_SPOOF, compute_eer, compute_min_dcf, dcf_normaliser, validate_scores


@dataclass(frozen=True)
class ConfidenceInterval:
    """Bootstrap percentile interval of one metric, in the metric's unit (a fraction for EER and minDCF).

    lower and upper are the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of the n_draws bootstrap
    values (numpy.quantile, linear interpolation); standard_error is their sample standard deviation (NaN for
    a single draw).
    """

    estimate: float  # the metric of the original trials
    lower: float
    upper: float
    confidence: float  # e.g. 0.95
    n_draws: int
    standard_error: float


@dataclass(frozen=True)
class PairedBootstrap:
    """Paired bootstrap of the EER difference EER_A - EER_B (fractions), with its percentile interval.

    p_value is two-sided, for the hypothesis that the difference is 0: with D the observed difference and
    count the number of draws whose difference is 0 or of the sign opposite to D,
    p = min(1, 2 * (count + 1) / (n_draws + 1)); p = 1 when D is 0.
    """

    eer_a: float  # EER of system A on the original trials
    eer_b: float
    difference: float  # eer_a - eer_b
    lower: float  # interval of the difference, as ConfidenceInterval's
    upper: float
    confidence: float
    n_draws: int
    standard_error: float
    p_value: float


@dataclass(frozen=True)
class McNemarTest:
    """McNemar's exact test of two systems' decisions on the same trials.

    A trial is decided correctly when a bona fide score is >= the system's threshold or a spoof score is below
    it (as metrics.compute_accuracy). Of the discordant trials, only_a_correct are right for A only and
    only_b_correct for B only; under the hypothesis of equal error rates each discordant trial is either with
    probability 1/2, and p_value = min(1, 2 * P(Binomial(n, 1/2) <= min(only_a_correct, only_b_correct))) with
    n = only_a_correct + only_b_correct (1 when n is 0).
    """

    threshold_a: float
    threshold_b: float
    accuracy_a: float  # fraction of all trials that system A decides correctly
    accuracy_b: float
    only_a_correct: int
    only_b_correct: int
    p_value: float


@dataclass(frozen=True)
class _SortedTrials:
    """One sort of a system's trials, from which the DET curve of any resample follows by counting.

    The pooled trials are sorted as metrics._det_curve sorts them (stable, ascending, bona fide before spoof
    among ties) and cut into runs: maximal blocks of consecutive trials of one class. A resample repeats each
    trial as often as it was drawn and sorts the same way, so its sorted trials are these runs with their
    trials repeated; its DET points (one per prefix) at the run boundaries follow from the number of drawn
    trials per run, and between two boundaries only one class is rejected, one trial at a time.
    """

    bonafide_run: np.ndarray  # [n_bonafide] run of each bona fide trial
    spoof_run: np.ndarray  # [n_spoof] run of each spoof trial
    run_is_bonafide: np.ndarray  # [n_runs] bool

    @classmethod
    def of(cls, bonafide: np.ndarray, spoof: np.ndarray) -> _SortedTrials:
        """The runs of validated bona fide [n_bonafide] and spoof [n_spoof] scores."""
        order = np.argsort(np.concatenate((bonafide, spoof)), kind="mergesort")
        is_bonafide = order < bonafide.size
        starts_run = np.concatenate(([True], is_bonafide[1:] != is_bonafide[:-1]))
        run_of_trial = np.empty(order.size, dtype=np.intp)
        run_of_trial[order] = np.cumsum(starts_run) - 1
        return cls(run_of_trial[: bonafide.size], run_of_trial[bonafide.size:], is_bonafide[starts_run])

    def eer_and_min_dcf(
        self, bonafide_indices: np.ndarray, spoof_indices: np.ndarray, p_spoof: float, c_miss: float, c_fa: float
    ) -> tuple[float, float]:
        """EER and normalised minDCF of the resample taking these trials (indices into bona fide, spoof).

        Equal to metrics.compute_eer and compute_min_dcf of the resampled scores: the DET curve of the resample
        is computed at the run boundaries only. Between two boundaries the cost of minDCF is monotone (only frr
        rises, or only far falls), so its minimum lies on a boundary; |frr - far| falls then rises along the
        curve, so the first point minimising it lies in the run where frr - far turns positive, whose points
        are computed one by one.
        """
        n_runs = self.run_is_bonafide.size
        n_bonafide, n_spoof = bonafide_indices.size, spoof_indices.size
        bonafide_drawn = np.bincount(self.bonafide_run[bonafide_indices], minlength=n_runs)
        spoof_drawn = np.bincount(self.spoof_run[spoof_indices], minlength=n_runs)
        bonafide_rejected = np.concatenate(([0], np.cumsum(bonafide_drawn)))
        spoof_rejected = np.concatenate(([0], np.cumsum(spoof_drawn)))
        # the same arithmetic as metrics._det_curve and _min_dcf, so that the values agree to the last bit
        frr = bonafide_rejected / n_bonafide
        far = (n_spoof - spoof_rejected) / n_spoof
        costs = c_miss * frr * (1.0 - p_spoof) + c_fa * far * p_spoof
        min_dcf = float(costs.min() / dcf_normaliser("bootstrap", p_spoof, c_miss, c_fa))
        # frr - far never falls along the curve (nor does its rounding); the last boundary where it is <= 0
        # starts the run to search
        run = int(np.searchsorted(frr - far, 0.0, side="right")) - 1
        if self.run_is_bonafide[run]:
            frr_in_run = (bonafide_rejected[run] + np.arange(bonafide_drawn[run] + 1)) / n_bonafide
            far_in_run = np.full(frr_in_run.size, far[run])
        else:
            far_in_run = (n_spoof - (spoof_rejected[run] + np.arange(spoof_drawn[run] + 1))) / n_spoof
            frr_in_run = np.full(far_in_run.size, frr[run])
        index = np.argmin(np.abs(frr_in_run - far_in_run))
        return float((frr_in_run[index] + far_in_run[index]) / 2), min_dcf


def _check_n_draws(caller: str, n_draws: int) -> None:
    """ValueError naming `caller` unless n_draws is an int >= 1."""
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"{caller}: n_draws must be an int >= 1, got {n_draws!r}")


def _check_confidence(caller: str, confidence: float) -> None:
    """ValueError naming `caller` unless 0 < confidence < 1."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"{caller}: confidence must be in (0, 1), got {confidence!r}")


def _check_pair(
    caller: str, bonafide_a: ArrayLike, spoof_a: ArrayLike, bonafide_b: ArrayLike, spoof_b: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The scores of both systems as float64 arrays; ValueError naming `caller` unless they cover the same trials."""
    bonafide_a, spoof_a = validate_scores(caller, bonafide_a, spoof_a)
    bonafide_b, spoof_b = validate_scores(caller, bonafide_b, spoof_b)
    if bonafide_a.size != bonafide_b.size or spoof_a.size != spoof_b.size:
        raise ValueError(
            f"{caller}: system A has {bonafide_a.size} bona fide and {spoof_a.size} spoof scores, system B "
            f"{bonafide_b.size} and {spoof_b.size}; both must score the same trials in the same order"
        )
    return bonafide_a, spoof_a, bonafide_b, spoof_b


def _spread(draws: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """(lower, upper, standard error) of bootstrap values [n_draws]; see ConfidenceInterval."""
    lower, upper = np.quantile(draws, [(1.0 - confidence) / 2, (1.0 + confidence) / 2])
    standard_error = float(np.std(draws, ddof=1)) if draws.size > 1 else math.nan
    return float(lower), float(upper), standard_error


def _eer_and_min_dcf_draws(
    systems: list[_SortedTrials],
    n_bonafide: int,
    n_spoof: int,
    n_draws: int,
    seed: int,
    p_spoof: float,
    c_miss: float,
    c_fa: float,
) -> np.ndarray:
    """[n_systems, 2, n_draws]: EER and minDCF of each system on each draw; all systems share the draws."""
    rng = np.random.default_rng(seed)
    values = np.empty((len(systems), 2, n_draws))
    for draw in range(n_draws):
        bonafide_indices = rng.integers(0, n_bonafide, size=n_bonafide)
        spoof_indices = rng.integers(0, n_spoof, size=n_spoof)
        for system, trials in enumerate(systems):
            values[system, :, draw] = trials.eer_and_min_dcf(bonafide_indices, spoof_indices, p_spoof, c_miss, c_fa)
    return values


def bootstrap_draws(
    bonafide_scores: ArrayLike,
    spoof_scores: ArrayLike,
    n_draws: int = 1000,
    seed: int = 0,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> tuple[np.ndarray, np.ndarray]:
    """EER and normalised minDCF (fractions) of each stratified bootstrap draw: two float64 [n_draws] arrays.

    Draw b resamples as the module docstring says; its values equal metrics.compute_eer and compute_min_dcf
    (with this cost model) of the resampled bona fide and spoof scores.
    """
    caller = "bootstrap_draws"
    _check_n_draws(caller, n_draws)
    dcf_normaliser(caller, p_spoof, c_miss, c_fa)
    bonafide, spoof = validate_scores(caller, bonafide_scores, spoof_scores)
    trials = _SortedTrials.of(bonafide, spoof)
    values = _eer_and_min_dcf_draws([trials], bonafide.size, spoof.size, n_draws, seed, p_spoof, c_miss, c_fa)
    return values[0, 0], values[0, 1]


def bootstrap_eer_min_dcf(
    bonafide_scores: ArrayLike,
    spoof_scores: ArrayLike,
    n_draws: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    p_spoof: float = P_SPOOF,
    c_miss: float = C_MISS,
    c_fa: float = C_FA,
) -> dict[str, ConfidenceInterval]:
    """Stratified bootstrap percentile intervals of the EER and the normalised minDCF (fractions).

    Keys "eer" and "min_dcf"; each estimate is metrics.compute_eer or compute_min_dcf of the given scores, the
    interval comes from the draws of bootstrap_draws (the same seed gives the same intervals).
    """
    caller = "bootstrap_eer_min_dcf"
    _check_n_draws(caller, n_draws)
    _check_confidence(caller, confidence)
    dcf_normaliser(caller, p_spoof, c_miss, c_fa)
    bonafide, spoof = validate_scores(caller, bonafide_scores, spoof_scores)
    trials = _SortedTrials.of(bonafide, spoof)
    values = _eer_and_min_dcf_draws([trials], bonafide.size, spoof.size, n_draws, seed, p_spoof, c_miss, c_fa)
    eer = compute_eer(bonafide, spoof)[0]
    min_dcf = compute_min_dcf(bonafide, spoof, p_spoof, c_miss, c_fa)[0]
    result = {}
    for name, estimate, draws in (("eer", eer, values[0, 0]), ("min_dcf", min_dcf, values[0, 1])):
        lower, upper, standard_error = _spread(draws, confidence)
        result[name] = ConfidenceInterval(estimate, lower, upper, confidence, n_draws, standard_error)
    return result


def paired_bootstrap_eer(
    bonafide_a: ArrayLike,
    spoof_a: ArrayLike,
    bonafide_b: ArrayLike,
    spoof_b: ArrayLike,
    n_draws: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedBootstrap:
    """Paired stratified bootstrap of EER_A - EER_B (fractions) for two systems scored on the same trials.

    Each draw resamples the trials as bootstrap_draws does and takes the same trials for both systems, so the
    EERs of a draw are those bootstrap_draws gives each system with the same seed. See PairedBootstrap for
    the interval and the p-value.
    """
    caller = "paired_bootstrap_eer"
    _check_n_draws(caller, n_draws)
    _check_confidence(caller, confidence)
    bonafide_a, spoof_a, bonafide_b, spoof_b = _check_pair(caller, bonafide_a, spoof_a, bonafide_b, spoof_b)
    systems = [_SortedTrials.of(bonafide_a, spoof_a), _SortedTrials.of(bonafide_b, spoof_b)]
    values = _eer_and_min_dcf_draws(systems, bonafide_a.size, spoof_a.size, n_draws, seed, P_SPOOF, C_MISS, C_FA)
    differences = values[0, 0] - values[1, 0]
    eer_a, eer_b = compute_eer(bonafide_a, spoof_a)[0], compute_eer(bonafide_b, spoof_b)[0]
    difference = eer_a - eer_b
    if difference == 0.0:
        p_value = 1.0
    else:
        not_on_observed_side = int(np.count_nonzero(differences * math.copysign(1.0, difference) <= 0.0))
        p_value = min(1.0, 2.0 * (not_on_observed_side + 1) / (n_draws + 1))
    lower, upper, standard_error = _spread(differences, confidence)
    return PairedBootstrap(eer_a, eer_b, difference, lower, upper, confidence, n_draws, standard_error, p_value)


def mcnemar_test(
    bonafide_a: ArrayLike,
    spoof_a: ArrayLike,
    bonafide_b: ArrayLike,
    spoof_b: ArrayLike,
    threshold_a: float | None = None,
    threshold_b: float | None = None,
) -> McNemarTest:
    """McNemar's exact test of two systems' per-trial decisions on the same trials; see McNemarTest.

    A threshold left None is the system's own EER threshold (metrics.compute_eer).
    """
    caller = "mcnemar_test"
    bonafide_a, spoof_a, bonafide_b, spoof_b = _check_pair(caller, bonafide_a, spoof_a, bonafide_b, spoof_b)
    if threshold_a is None:
        threshold_a = compute_eer(bonafide_a, spoof_a)[1]
    if threshold_b is None:
        threshold_b = compute_eer(bonafide_b, spoof_b)[1]
    if math.isnan(threshold_a) or math.isnan(threshold_b):
        raise ValueError(
            f"{caller}: a decision threshold is NaN (threshold_a={threshold_a}, threshold_b={threshold_b})"
        )
    correct_a = np.concatenate((bonafide_a >= threshold_a, spoof_a < threshold_a))
    correct_b = np.concatenate((bonafide_b >= threshold_b, spoof_b < threshold_b))
    only_a_correct = int(np.count_nonzero(correct_a & ~correct_b))
    only_b_correct = int(np.count_nonzero(correct_b & ~correct_a))
    n_discordant = only_a_correct + only_b_correct
    if n_discordant == 0:
        p_value = 1.0
    else:
        p_value = min(1.0, 2.0 * float(binom.cdf(min(only_a_correct, only_b_correct), n_discordant, 0.5)))
    return McNemarTest(
        float(threshold_a),
        float(threshold_b),
        float(np.mean(correct_a)),
        float(np.mean(correct_b)),
        only_a_correct,
        only_b_correct,
        p_value,
    )
