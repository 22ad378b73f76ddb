"""Speed perturbation by resampling (duration and pitch change together, as Kaldi's)."""
from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Sequence

import numpy as np
from scipy import signal

from augmentation._wave import as_output, as_wave
from conventions import HyperParameter, UsageError

MAX_DENOMINATOR = 1000  # a factor is applied as the nearest ratio p/q with q <= 1000


def parse_factors(factors: str | Sequence[float]) -> tuple[float, ...]:
    """Speed factors from "0.9,1.0,1.1" or a sequence of numbers; each in [0.5, 2]."""
    try:
        values = tuple(float(factor) for factor in (factors.split(",") if isinstance(factors, str) else factors))
    except ValueError:
        raise UsageError(f"--speed_factors {factors} is not a comma-separated list of numbers") from None
    if not values or not all(0.5 <= value <= 2 for value in values):
        raise UsageError(f"--speed_factors {factors}: give one or more factors, each between 0.5 and 2")
    return values


class SpeedPerturbation:
    """wave [T] -> wave [~T / f], f drawn uniformly from `speed_factors`.

    The wave is resampled by the ratio 1 / f (scipy.signal.resample_poly, a polyphase Kaiser-window
    filter) and kept at the same sample rate, so it plays f times faster and f times higher, like
    Kaldi's (sox) speed perturbation. A factor of 1 returns the wave unchanged.
    """

    def __init__(
        self,
        speed_factors: Annotated[
            str,
            HyperParameter(
                "speed perturbation: comma-separated speed factors, one drawn per item; f > 1 shortens the wave to T/f "
                "and raises the pitch f times (a sequence of floats is accepted too)",
                unit="factors",
            ),
        ] = "0.9,1.0,1.1",
    ) -> None:
        self.speed_factors = parse_factors(speed_factors)

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        wave = as_wave(wave)
        factor = self.speed_factors[int(rng.integers(len(self.speed_factors)))]
        return as_output(change_speed(wave, factor))

    def __repr__(self) -> str:
        return f"SpeedPerturbation(speed_factors={self.speed_factors})"


def change_speed(wave: np.ndarray, factor: float) -> np.ndarray:
    """`wave` [T] played `factor` times faster at the same sample rate: [ceil(T q / p)] for factor ~ p / q."""
    ratio = Fraction(factor).limit_denominator(MAX_DENOMINATOR)
    if ratio == 1 or wave.size == 0:
        return wave.copy()
    return signal.resample_poly(wave, ratio.denominator, ratio.numerator)
