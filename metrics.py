"""Evaluation metrics for anti-spoofing scores: EER, minDCF, actDCF, Cllr and accuracy.

Every function takes the bona fide scores and the spoof scores separately: 1-D array-likes
(lists, numpy arrays, CPU torch tensors) of finite floats, one per trial, higher meaning more
bona fide. Bona fide is the "target" class of the ASVspoof evaluation packages. The DET curve
and EER follow the ASVspoof 2019/2021 packages, minDCF and actDCF the ASVspoof 5 cost model.
The tandem t-DCF (compute_min_tdcf: CM scores plus the organisers' ASV scores, read by read_asv_scores)
follows the ASVspoof 2019 and 2021 LA packages; compute_eer_per_attack takes scores, labels and attack ids.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from conventions import BONAFIDE, SPOOF

# ASVspoof 5 cost model: prior of a spoof trial, cost of rejecting bona fide, cost of accepting spoof
P_SPOOF = 0.05
C_MISS = 1.0
C_FA = 10.0

# ASVspoof 2019 and 2021 LA t-DCF cost model (the same priors in both evaluation packages): prior of a spoof
# trial, of a target trial and of a nontarget (zero-effort impostor) trial
TDCF_P_SPOOF = 0.05
TDCF_P_TARGET = (1 - TDCF_P_SPOOF) * 0.99  # 0.9405
TDCF_P_NONTARGET = (1 - TDCF_P_SPOOF) * 0.01  # 0.0095
# 2019 (Kinnunen et al., Odyssey 2018): costs of ASV rejecting a target, ASV accepting a nontarget,
# CM rejecting bona fide, CM accepting a spoof
TDCF_2019_C_MISS_ASV = 1.0
TDCF_2019_C_FA_ASV = 10.0
TDCF_2019_C_MISS_CM = 1.0
TDCF_2019_C_FA_CM = 10.0
# 2021 (Kinnunen et al., IEEE/ACM TASLP 2020): costs of the tandem rejecting a target, accepting a nontarget,
# accepting a spoof
TDCF_2021_C_MISS = 1.0
TDCF_2021_C_FA = 10.0
TDCF_2021_C_FA_SPOOF = 10.0
TDCF_VARIANTS = ("2019", "2021")
ASV_KEYS = ("target", "nontarget", "spoof")


def validate_scores(
    caller: str, bonafide_scores: ArrayLike, spoof_scores: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Both score sets as float64 [n] arrays; ValueError naming `caller` if either is empty, not 1-D or not finite."""
    needed = "the evaluation set needs both classes"
    return _as_scores(caller, "bona fide", bonafide_scores, needed), _as_scores(caller, "spoof", spoof_scores, needed)


def _as_scores(caller: str, name: str, scores: ArrayLike, needed: str) -> np.ndarray:
    """One score set as a float64 [n] array; ValueError naming `caller` if it is not 1-D or not finite, or
    empty (saying what is `needed`)."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{caller}: {name} scores must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{caller}: no {name} scores; {needed}")
    n_bad = int(np.count_nonzero(~np.isfinite(array)))
    if n_bad:
        raise ValueError(f"{caller}: {n_bad} of {array.size} {name} scores are not finite (NaN or inf)")
    return array


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


def dcf_normaliser(caller: str, p_spoof: float, c_miss: float, c_fa: float) -> float:
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
    normaliser = dcf_normaliser("compute_min_dcf", p_spoof, c_miss, c_fa)
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
    normaliser = dcf_normaliser("compute_act_dcf", p_spoof, c_miss, c_fa)
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
    normaliser = dcf_normaliser("compute_metrics", P_SPOOF, C_MISS, C_FA)
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


# ---------------------------------------------------------------- tandem (CM + ASV) evaluation: t-DCF


def _asv_error_rates(target: np.ndarray, nontarget: np.ndarray, spoof: np.ndarray) -> tuple[float, float, float]:
    """(Pfa_asv, Pmiss_asv, Pfa_spoof_asv) at the ASV EER threshold (compute_eer of target vs nontarget), as the
    packages' obtain_asv_error_rates: a trial is accepted when its score is >= the threshold."""
    _, threshold = _eer(*_det_curve(target, nontarget))
    pfa = np.count_nonzero(nontarget >= threshold) / nontarget.size
    pmiss = np.count_nonzero(target < threshold) / target.size
    pfa_spoof = np.count_nonzero(spoof >= threshold) / spoof.size
    return pfa, pmiss, pfa_spoof


def _tdcf_coefficients(
    caller: str, variant: str, pfa_asv: float, pmiss_asv: float, pmiss_spoof_asv: float, pfa_spoof_asv: float
) -> tuple[float, float, float, float]:
    """(C0, C1, C2, t-DCF_default) of the variant's cost model: t-DCF(s) = C0 + C1 Pmiss_cm(s) + C2 Pfa_cm(s).

    2019 (C0 = 0): C1 = Ptar (Cmiss_cm - Cmiss_asv Pmiss_asv) - Pnon Cfa_asv Pfa_asv,
    C2 = Cfa_cm Pspoof (1 - Pmiss_spoof_asv), default min(C1, C2).
    2021: C0 = Ptar Cmiss Pmiss_asv + Pnon Cfa Pfa_asv, C1 = Ptar Cmiss - C0, C2 = Pspoof Cfa_spoof Pfa_spoof_asv,
    default C0 + min(C1, C2). Negative coefficients (an ASV system worse than chance at its EER threshold),
    on which the packages stop, and a zero default, which leaves the t-DCF undefined, raise ValueError.
    """
    if variant == "2019":
        c0 = 0.0
        c1 = (TDCF_P_TARGET * (TDCF_2019_C_MISS_CM - TDCF_2019_C_MISS_ASV * pmiss_asv)
              - TDCF_P_NONTARGET * TDCF_2019_C_FA_ASV * pfa_asv)
        c2 = TDCF_2019_C_FA_CM * TDCF_P_SPOOF * (1 - pmiss_spoof_asv)
        default = min(c1, c2)
    else:
        c0 = TDCF_P_TARGET * TDCF_2021_C_MISS * pmiss_asv + TDCF_P_NONTARGET * TDCF_2021_C_FA * pfa_asv
        c1 = TDCF_P_TARGET * TDCF_2021_C_MISS - (
            TDCF_P_TARGET * TDCF_2021_C_MISS * pmiss_asv + TDCF_P_NONTARGET * TDCF_2021_C_FA * pfa_asv
        )
        c2 = TDCF_P_SPOOF * TDCF_2021_C_FA_SPOOF * pfa_spoof_asv
        default = c0 + min(c1, c2)
    rates = f"Pmiss_asv={pmiss_asv:.6g}, Pfa_asv={pfa_asv:.6g}, Pmiss_spoof_asv={pmiss_spoof_asv:.6g}"
    if c0 < 0 or c1 < 0 or c2 < 0:
        raise ValueError(
            f"{caller}: negative t-DCF weights C0={c0:.6g}, C1={c1:.6g}, C2={c2:.6g} from the ASV error rates "
            f"{rates} at its EER threshold; is the ASV score polarity right (higher = target)?"
        )
    if default <= 0:
        raise ValueError(
            f"{caller}: the default t-DCF (no CM) is 0 with C0={c0:.6g}, C1={c1:.6g}, C2={c2:.6g} ({rates}), so the "
            "normalised t-DCF is undefined; the ASV system alone makes no costly error (e.g. it rejects every spoof)"
        )
    return c0, c1, c2, default


def compute_min_tdcf(
    bonafide_cm: ArrayLike,
    spoof_cm: ArrayLike,
    target_asv: ArrayLike,
    nontarget_asv: ArrayLike,
    spoof_asv: ArrayLike,
    variant: str = "2019",
) -> tuple[float, float]:
    """Minimum normalised tandem detection cost (t-DCF) of a CM ahead of an ASV system, and its CM threshold.

    CM scores: higher = bona fide; ASV scores: higher = target. As in the ASVspoof evaluation packages, the ASV
    system works at its EER threshold (compute_eer of target vs nontarget; accepted when score >= threshold),
    which fixes its error rates; see compute_min_tdcf_at_asv_rates for the rest. ValueError for empty or
    non-finite scores, and as compute_min_tdcf_at_asv_rates.
    """
    caller = "compute_min_tdcf"
    needed = "the t-DCF needs bona fide and spoof CM scores and target, nontarget and spoof ASV scores"
    target = _as_scores(caller, "target ASV", target_asv, needed)
    nontarget = _as_scores(caller, "nontarget ASV", nontarget_asv, needed)
    spoof_asv_scores = _as_scores(caller, "spoof ASV", spoof_asv, needed)
    return _min_tdcf(caller, bonafide_cm, spoof_cm, *_asv_error_rates(target, nontarget, spoof_asv_scores), variant)


def compute_min_tdcf_at_asv_rates(
    bonafide_cm: ArrayLike, spoof_cm: ArrayLike, pfa_asv: float, pmiss_asv: float, pfa_spoof_asv: float, variant: str = "2021"
) -> tuple[float, float]:
    """Minimum normalised t-DCF of CM scores (higher = bona fide) ahead of an ASV system with the given error rates
    (fractions: nontarget accepted, target rejected, spoof accepted), and its CM threshold.

    The rates fix the coefficients of t-DCF(s) = C0 + C1 Pmiss_cm(s) + C2 Pfa_cm(s) over the CM DET points s
    (compute_det_curve); the first minimum of t-DCF(s) / t-DCF_default is returned with its threshold.
    variant "2019": ASVspoof 2019 package (Kinnunen et al. 2018), C0 = 0, t-DCF_default = min(C1, C2);
    "2021": ASVspoof 2021 LA and ASVspoof 5 packages (Kinnunen et al. 2020), t-DCF_default = C0 + min(C1, C2); see
    _tdcf_coefficients. Normalised, the minimum is in [0, 1] for 2019 and in [C0 / t-DCF_default, 1] for 2021
    (1: the CM is no better than passing or rejecting everything). Like the packages, the CM scores must take at
    least 3 distinct values (soft scores, not decisions); ValueError otherwise, for a bad variant, for empty or
    non-finite scores and for negative weights (see _tdcf_coefficients).
    """
    return _min_tdcf("compute_min_tdcf_at_asv_rates", bonafide_cm, spoof_cm, pfa_asv, pmiss_asv, pfa_spoof_asv, variant)


def _min_tdcf(
    caller: str, bonafide_cm: ArrayLike, spoof_cm: ArrayLike, pfa_asv: float, pmiss_asv: float, pfa_spoof_asv: float,
    variant: str,
) -> tuple[float, float]:
    """See compute_min_tdcf_at_asv_rates."""
    if not isinstance(variant, str) or variant not in TDCF_VARIANTS:
        raise ValueError(f"{caller}: variant must be one of {', '.join(map(repr, TDCF_VARIANTS))}, got {variant!r}")
    bonafide, spoof = validate_scores(caller, bonafide_cm, spoof_cm)
    n_distinct = np.unique(np.concatenate((bonafide, spoof))).size
    if n_distinct < 3:
        raise ValueError(
            f"{caller}: the CM scores take only {n_distinct} distinct value(s); like the ASVspoof packages, the t-DCF "
            "needs soft scores (at least 3 distinct values), not hard decisions"
        )
    c0, c1, c2, default = _tdcf_coefficients(caller, variant, pfa_asv, pmiss_asv, 1.0 - pfa_spoof_asv, pfa_spoof_asv)
    pmiss_cm, pfa_cm, thresholds = _det_curve(bonafide, spoof)
    if variant == "2019":
        tdcf = c1 * pmiss_cm + c2 * pfa_cm
    else:
        tdcf = c0 + c1 * pmiss_cm + c2 * pfa_cm
    normalised = tdcf / default
    index = np.argmin(normalised)
    return float(normalised[index]), float(thresholds[index])


def _read_fields(caller: str, path: Path) -> list[tuple[int, str, list[str]]]:
    """(line number, line, whitespace-separated fields) of each line that is neither blank nor a # comment."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{caller}: {path} is not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            rows.append((number, text, text.split()))
    if not rows:
        raise ValueError(f"{caller}: {path} holds no trials")
    return rows


def _parse_score(caller: str, path: Path, number: int, text: str, field: str, expected: str) -> float:
    """A finite float, or ValueError naming the file, the line and the expected layout."""
    try:
        score = float(field)
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        raise ValueError(f"{caller}: {path} line {number}: expected {expected} with a finite score, got {text!r}")
    return score


def read_asv_scores(
    path: str | Path, metadata: str | Path | None = None, subset: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Organisers' ASV scores as (target, nontarget, spoof) float64 arrays, higher = target, in file order.

    ASVspoof 2019 LA (ASVspoof2019.LA.asv.{dev,eval}.gi.trl.scores.txt), read as the 2019 package does: three
    columns "<source> <key> <score>", source bonafide or the attack id, key target|nontarget|spoof.
    ASVspoof 2021 LA (keys/LA/ASV/ASVTorch_Kaldi/score.txt): three columns "<speaker> <trial> <score>" without the
    key, which is in the ASV protocol (keys/LA/ASV/trial_metadata.txt, eight columns "<speaker> <trial> <codec>
    <transmission> <attack> <key> <trim> <subset>") that `metadata` names; the two are joined on (speaker, trial),
    in protocol order, keeping the protocol lines of `subset` (eval, progress, hidden) when it is given.
    The format is told from the first line: a 2019 file has a key word in its second column. ValueError naming
    the file and line for a malformed line, and for a missing class, a missing score or an unused argument.
    """
    caller = "read_asv_scores"
    path = Path(path)
    rows = _read_fields(caller, path)
    first_fields = rows[0][2]
    if len(first_fields) == 3 and first_fields[1] in ASV_KEYS:
        if metadata is not None or subset is not None:
            raise ValueError(f"{caller}: {path} is an ASVspoof 2019 ASV score file, which carries its keys; "
                             "metadata and subset are for the 2021 format")
        expected = "'<source> <target|nontarget|spoof> <score>' (ASVspoof 2019 ASV score file)"
        keys, scores = [], []
        for number, text, fields in rows:
            if len(fields) != 3 or fields[1] not in ASV_KEYS:
                raise ValueError(f"{caller}: {path} line {number}: expected {expected}, got {text!r}")
            keys.append(fields[1])
            scores.append(_parse_score(caller, path, number, text, fields[2], expected))
    elif len(first_fields) == 3:
        keys, scores = _read_asv_scores_2021(caller, path, rows, metadata, subset)
    else:
        raise ValueError(
            f"{caller}: {path} line {rows[0][0]}: expected 3 columns, '<source> <target|nontarget|spoof> <score>' "
            f"(ASVspoof 2019) or '<speaker> <trial> <score>' (ASVspoof 2021), got {rows[0][1]!r}"
        )
    keys_array, scores_array = np.asarray(keys), np.asarray(scores, dtype=np.float64)
    result = tuple(scores_array[keys_array == key] for key in ASV_KEYS)
    for key, array in zip(ASV_KEYS, result):
        if array.size == 0:
            raise ValueError(
                f"{caller}: {path} has no {key} trials; the t-DCF needs target, nontarget and spoof trials"
            )
    return result


def _read_asv_scores_2021(
    caller: str, path: Path, rows: list[tuple[int, str, list[str]]], metadata: str | Path | None, subset: str | None
) -> tuple[list[str], list[float]]:
    """Keys and scores of a 2021 ASV score file joined with its protocol; see read_asv_scores."""
    if metadata is None:
        raise ValueError(
            f"{caller}: {path} is an ASVspoof 2021 ASV score file ('<speaker> <trial> <score>'), which carries no "
            "target|nontarget|spoof keys; pass metadata= the ASV protocol keys/LA/ASV/trial_metadata.txt"
        )
    expected = "'<speaker> <trial> <score>' (ASVspoof 2021 ASV score file)"
    score_of: dict[tuple[str, str], float] = {}
    line_of: dict[tuple[str, str], int] = {}
    for number, text, fields in rows:
        if len(fields) != 3:
            raise ValueError(f"{caller}: {path} line {number}: expected {expected}, got {text!r}")
        pair = (fields[0], fields[1])
        if pair in score_of:
            raise ValueError(f"{caller}: {path} line {number}: speaker {pair[0]} trial {pair[1]} is scored again "
                             f"(first on line {line_of[pair]})")
        score_of[pair] = _parse_score(caller, path, number, text, fields[2], expected)
        line_of[pair] = number
    metadata = Path(metadata)
    expected_metadata = ("'<speaker> <trial> <codec> <transmission> <attack> <target|nontarget|spoof> <trim> "
                         "<subset>' (ASVspoof 2021 ASV protocol)")
    keys, scores, in_protocol = [], [], set()
    for number, text, fields in _read_fields(caller, metadata):
        if len(fields) != 8 or fields[5] not in ASV_KEYS:
            raise ValueError(f"{caller}: {metadata} line {number}: expected {expected_metadata}, got {text!r}")
        pair = (fields[0], fields[1])
        in_protocol.add(pair)
        if subset is not None and fields[7] != subset:
            continue
        if pair not in score_of:
            raise ValueError(f"{caller}: {path} has no score for speaker {pair[0]} trial {pair[1]} "
                             f"({metadata} line {number})")
        keys.append(fields[5])
        scores.append(score_of[pair])
    for pair, number in line_of.items():
        if pair not in in_protocol:
            raise ValueError(f"{caller}: {path} line {number}: speaker {pair[0]} trial {pair[1]} is not in {metadata}")
    if not keys:
        raise ValueError(f"{caller}: {metadata} has no trials of subset {subset!r}")
    return keys, scores


def natural_order(attack: str) -> tuple:
    """Sort key of an attack id in natural order: A07 < A10 < A19, 2 < 10."""
    parts = re.split(r"(\d+)", attack)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts), attack


def compute_eer_per_attack(scores: ArrayLike, labels: ArrayLike, attacks: ArrayLike) -> dict[str, float]:
    """EER (a fraction) of all bona fide trials against the spoof trials of each attack, and "pooled" against all.

    scores: one per trial, higher = bona fide; labels: conventions.BONAFIDE or conventions.SPOOF per trial; attacks: the
    attack id per trial (str() of it is the key; ignored for bona fide trials). Keys: the attack ids in natural
    order (A07 < A10), then "pooled", as in the per-attack tables of the ASVspoof packages. Each EER is
    compute_eer's. ValueError for mismatched lengths, unknown labels, a missing class or an attack named "pooled".
    """
    caller = "compute_eer_per_attack"
    score_array = np.asarray(scores, dtype=np.float64)
    label_array = np.asarray(labels)
    attack_list = attacks.tolist() if hasattr(attacks, "tolist") else list(attacks)
    if score_array.ndim != 1 or label_array.ndim != 1:
        raise ValueError(f"{caller}: scores and labels must be 1-D, got shapes {score_array.shape} and "
                         f"{label_array.shape}")
    if not score_array.size == label_array.size == len(attack_list):
        raise ValueError(f"{caller}: {score_array.size} scores, {label_array.size} labels and {len(attack_list)} "
                         "attacks; need one of each per trial")
    unknown = ~np.isin(label_array, (BONAFIDE, SPOOF))
    if unknown.any():
        raise ValueError(f"{caller}: label {label_array[unknown][0].item()!r} is neither BONAFIDE ({BONAFIDE}) nor "
                         f"SPOOF ({SPOOF})")
    is_spoof = label_array == SPOOF
    bonafide, spoof = validate_scores(caller, score_array[~is_spoof], score_array[is_spoof])
    spoof_attacks = [str(attack) for attack, spoofed in zip(attack_list, is_spoof) if spoofed]
    if "pooled" in spoof_attacks:
        raise ValueError(f'{caller}: an attack is named "pooled", the key of the pooled EER')
    attack_array = np.asarray(spoof_attacks)
    result = {}
    for attack in sorted(set(spoof_attacks), key=natural_order):
        result[attack] = _eer(*_det_curve(bonafide, spoof[attack_array == attack]))[0]
    result["pooled"] = _eer(*_det_curve(bonafide, spoof))[0]
    return result
