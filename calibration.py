"""Score calibration and fusion into natural-log likelihood ratios, and minCllr.

Linear (logistic-regression) calibration as in the BOSARIS toolkit and the ASVspoof 5 fusion tool: an affine
map llr = scores @ weights + offset from K score columns (K = 1: calibration, K > 1: fusion) to natural-log
likelihood ratios of bona fide (the "target" class, higher = more bona fide) against spoof, fitted on labelled
(dev) scores by minimising the prior-weighted cross-entropy (cross_entropy), whose value at prior 0.5 is Cllr.

minCllr (compute_min_cllr) is the Cllr in bits after the optimal monotonic calibration of the scores themselves,
found by the pool-adjacent-violators algorithm (pav_llrs), as BOSARIS min_cllr / opt_loglr define it.

Scores are checked with metrics.validate_scores (ValueError naming the function).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import isotonic_regression
from scipy.special import expit

from metrics import _as_scores, validate_scores

# ridge (nats) on the weights of the standardised score columns, added to every fit: it keeps the optimum
# finite (large) when the dev scores are perfectly separable and pins the weight of a constant column to 0;
# an ordinary fit moves by about 1e-9 / (smallest Hessian eigenvalue) of its size (under 1e-6 for columns
# correlated at 0.8)
SEPARABLE_RIDGE = 1e-9
MAX_NEWTON_STEPS = 100
# Newton stops when half the squared Newton decrement (the predicted decrease of the objective, in nats)
# falls below this
NEWTON_TOLERANCE = 1e-15
MAX_STEP_HALVINGS = 60


@dataclass(frozen=True, eq=False)
class LinearCalibration:
    """Affine map from K score columns to natural-log LLRs (bona fide vs spoof): llr = scores @ weights + offset.

    weights: float64 [K], read-only; offset: natural-log units; prior: the bona fide prior of the training
    objective (it does not enter `apply`). Equality is identity: compare the fields.
    """

    weights: np.ndarray
    offset: float
    prior: float = 0.5

    def __post_init__(self) -> None:
        caller = "LinearCalibration"
        weights = np.array(self.weights, dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(f"{caller}: weights must be a non-empty 1-D array, got shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or not math.isfinite(self.offset):
            raise ValueError(f"{caller}: weights and offset must be finite, got {weights.tolist()}, {self.offset}")
        weights.setflags(write=False)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "offset", float(self.offset))
        object.__setattr__(self, "prior", _checked_prior(caller, self.prior))

    @property
    def n_columns(self) -> int:
        """K, the number of score columns the map takes."""
        return self.weights.size

    def apply(self, scores: ArrayLike) -> np.ndarray:
        """Natural-log LLRs, float64 [n], of scores [n, K] (or [n] when K = 1)."""
        return _as_score_matrix("LinearCalibration.apply", "input", scores, self.n_columns) @ self.weights + self.offset

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready {"weights": [K floats], "offset": float, "prior": float}."""
        return {"weights": self.weights.tolist(), "offset": self.offset, "prior": self.prior}

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> LinearCalibration:
        """The calibration that to_dict wrote; ValueError for missing or unknown keys."""
        expected = {"weights", "offset", "prior"}
        if set(fields) != expected:
            raise ValueError(f"LinearCalibration.from_dict: expected keys {sorted(expected)}, got {sorted(fields)}")
        return cls(weights=np.asarray(fields["weights"], dtype=np.float64), offset=float(fields["offset"]),
                   prior=float(fields["prior"]))


def _checked_prior(caller: str, prior: float) -> float:
    """`prior` as a float, or ValueError naming `caller` unless 0 < prior < 1."""
    try:
        value = float(prior)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 < value < 1.0:
        raise ValueError(f"{caller}: prior must be in (0, 1), got {prior}")
    return value


def _as_score_matrix(caller: str, name: str, scores: ArrayLike, n_columns: int | None = None) -> np.ndarray:
    """Scores [n, K] (or [n], read as K = 1) as a float64 [n, K] array; ValueError naming `caller` when empty,
    not finite, of another rank or, when `n_columns` is given, with another K."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise ValueError(f"{caller}: {name} scores must be [n] or [n, K], got shape {array.shape}")
    if n_columns is not None and array.shape[1] != n_columns:
        raise ValueError(f"{caller}: {name} scores have {array.shape[1]} column(s), expected {n_columns}")
    _as_scores(caller, name, array.ravel(), "calibration needs both classes")
    return array


def cross_entropy(bonafide_llrs: ArrayLike, spoof_llrs: ArrayLike, prior: float = 0.5) -> float:
    """Prior-weighted cross-entropy in bits of natural-log LLRs [n_b] and [n_s]; Cllr at prior 0.5.

    With q = logit(prior): prior * mean(log2(1 + exp(-(llr_b + q)))) + (1 - prior) * mean(log2(1 + exp(llr_s + q))).
    LLRs may be infinite: one on the right side (+inf bona fide, -inf spoof) costs 0, on the wrong side inf.
    """
    caller = "cross_entropy"
    prior = _checked_prior(caller, prior)
    bonafide, spoof = (np.asarray(llrs, dtype=np.float64) for llrs in (bonafide_llrs, spoof_llrs))
    for name, llrs in (("bona fide", bonafide), ("spoof", spoof)):
        if llrs.ndim != 1 or llrs.size == 0:
            raise ValueError(f"{caller}: {name} LLRs must be a non-empty 1-D array, got shape {llrs.shape}")
        if np.any(np.isnan(llrs)):
            raise ValueError(f"{caller}: {name} LLRs contain NaN")
    return _cross_entropy_bits(bonafide, spoof, prior)


def _cross_entropy_bits(bonafide: np.ndarray, spoof: np.ndarray, prior: float) -> float:
    """cross_entropy of checked LLRs."""
    prior_log_odds = math.log(prior / (1.0 - prior))
    # log(1 + exp(x)) == logaddexp(0, x): no overflow, and 0 at x = -inf
    bonafide_cost = np.mean(np.logaddexp(0.0, -(bonafide + prior_log_odds)))
    spoof_cost = np.mean(np.logaddexp(0.0, spoof + prior_log_odds))
    return float((prior * bonafide_cost + (1.0 - prior) * spoof_cost) / math.log(2.0))


def fit_linear_calibration(
    bonafide_scores: ArrayLike, spoof_scores: ArrayLike, prior: float = 0.5, l2: float = 0.0
) -> LinearCalibration:
    """Logistic-regression calibration (K = 1) or fusion (K > 1) of scores [n_b, K] and [n_s, K] (or [n]).

    Minimises, over weights w [K] and offset b, cross_entropy(llr_b, llr_s, prior) + l2 * |w|^2 (bits; the
    offset is not penalised) with llr = scores @ w + b, i.e. logistic regression whose bona fide trials carry
    the total weight `prior` and spoof trials 1 - prior, on log-odds llr + logit(prior), as BOSARIS
    train_linear_fuser. Solved by Newton's method with step halving on standardised columns, with a ridge of
    SEPARABLE_RIDGE on their weights, so that perfectly separable scores give large but finite parameters,
    at most MAX_NEWTON_STEPS steps.
    """
    caller = "fit_linear_calibration"
    prior = _checked_prior(caller, prior)
    if not (math.isfinite(l2) and l2 >= 0.0):
        raise ValueError(f"{caller}: l2 must be a finite number >= 0, got {l2}")
    bonafide = _as_score_matrix(caller, "bona fide", bonafide_scores)
    spoof = _as_score_matrix(caller, "spoof", spoof_scores, bonafide.shape[1])

    scores = np.concatenate((bonafide, spoof))
    centre = scores.mean(axis=0)
    scale = scores.std(axis=0)
    scale[scale == 0.0] = 1.0
    # rows [standardised scores, 1]; the sign +1 (bona fide) or -1 (spoof) of each trial's log-odds
    design = np.column_stack(((scores - centre) / scale, np.ones(scores.shape[0])))
    signs = np.concatenate((np.ones(bonafide.shape[0]), -np.ones(spoof.shape[0])))
    trial_weights = np.concatenate((np.full(bonafide.shape[0], prior / bonafide.shape[0]),
                                    np.full(spoof.shape[0], (1.0 - prior) / spoof.shape[0])))
    # the objective in nats: the ridge on the standardised weights w * scale, l2 * ln 2 on the weights w
    ridge = np.append(SEPARABLE_RIDGE + l2 * math.log(2.0) / scale**2, 0.0)
    parameters = _newton_logistic(design, signs, trial_weights, ridge, math.log(prior / (1.0 - prior)))

    weights = parameters[:-1] / scale
    return LinearCalibration(weights=weights, offset=float(parameters[-1] - weights @ centre), prior=prior)


def _newton_logistic(
    design: np.ndarray, signs: np.ndarray, trial_weights: np.ndarray, ridge: np.ndarray, prior_log_odds: float
) -> np.ndarray:
    """Parameters theta [K + 1] minimising sum(trial_weights * log(1 + exp(-signs * (design @ theta + q))))
    + sum(ridge * theta^2) (nats), q = prior_log_odds, by Newton steps halved until the objective decreases."""

    def objective(theta: np.ndarray) -> float:
        margins = signs * (design @ theta + prior_log_odds)
        return float(trial_weights @ np.logaddexp(0.0, -margins) + ridge @ theta**2)

    theta = np.zeros(design.shape[1])
    value = objective(theta)
    for _ in range(MAX_NEWTON_STEPS):
        margins = signs * (design @ theta + prior_log_odds)
        # d/dmargin log(1 + exp(-margin)) = -expit(-margin); second derivative expit(margin) * expit(-margin)
        gradient = design.T @ (trial_weights * signs * -expit(-margins)) + 2.0 * ridge * theta
        curvature = trial_weights * expit(margins) * expit(-margins)
        hessian = (design.T * curvature) @ design + np.diag(2.0 * ridge)
        step = -np.linalg.solve(hessian, gradient)
        if -(gradient @ step) / 2.0 < NEWTON_TOLERANCE:
            break
        for _ in range(MAX_STEP_HALVINGS):
            candidate = theta + step
            candidate_value = objective(candidate)
            if candidate_value < value:
                break
            step = step / 2.0
        else:
            break
        theta, value = candidate, candidate_value
    return theta


def pav_llrs(bonafide_scores: ArrayLike, spoof_scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Natural-log LLRs (bona fide [n_b], spoof [n_s]) of the optimal monotonic calibration of the scores.

    As BOSARIS opt_loglr: the pooled trials sorted by score, tied scores forming one block, the
    pool-adjacent-violators algorithm fits the nondecreasing bona fide posterior that best fits the labels;
    each trial's LLR is the log-odds of its pool's posterior, n_b' / n_s', less the empirical prior log-odds
    log(n_b / n_s). A pool of one class only gives +inf (bona fide) or -inf (spoof) LLRs.
    """
    bonafide, spoof = validate_scores("pav_llrs", bonafide_scores, spoof_scores)
    return _pav_llrs(bonafide, spoof)


def _pav_llrs(bonafide: np.ndarray, spoof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pav_llrs of validated scores."""
    values, trial_value, trials_per_value = np.unique(
        np.concatenate((bonafide, spoof)), return_inverse=True, return_counts=True
    )
    bonafide_per_value = np.bincount(trial_value[: bonafide.size], minlength=values.size)
    pools = isotonic_regression(bonafide_per_value / trials_per_value, weights=trials_per_value).blocks
    pool_bonafide = np.add.reduceat(bonafide_per_value, pools[:-1]).astype(np.float64)
    pool_spoof = np.add.reduceat(trials_per_value, pools[:-1]) - pool_bonafide
    # log((pool_bonafide / pool_spoof) / (n_b / n_s)) from the counts; log(0) = -inf for a pure pool
    with np.errstate(divide="ignore"):
        pool_llrs = np.log(pool_bonafide * spoof.size) - np.log(pool_spoof * bonafide.size)
    trial_llrs = np.repeat(pool_llrs, np.diff(pools))[trial_value]
    return trial_llrs[: bonafide.size], trial_llrs[bonafide.size:]


def compute_min_cllr(bonafide_scores: ArrayLike, spoof_scores: ArrayLike) -> float:
    """minCllr in bits: the Cllr of pav_llrs, the lowest Cllr that a nondecreasing calibration of these scores
    reaches on them. In [0, 1]: 0 for perfectly separated scores, 1 when no threshold beats chance (one pool)."""
    bonafide, spoof = validate_scores("compute_min_cllr", bonafide_scores, spoof_scores)
    return _cross_entropy_bits(*_pav_llrs(bonafide, spoof), 0.5)
