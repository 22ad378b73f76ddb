"""G.711-style companding round trips (mu-law, A-law) and the `mulaw` augmentation."""
from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio.functional

from augmentation._wave import as_output, as_wave

MU = 255  # G.711 mu-law
A = 87.6  # G.711 A-law
LEVELS = 256  # 8-bit codes


def quantise(companded: np.ndarray) -> np.ndarray:
    """Companded values in [-1, 1] rounded to the nearest of `LEVELS` uniform levels (as torchaudio's mu-law)."""
    codes = np.floor((companded + 1) / 2 * (LEVELS - 1) + 0.5)
    return codes / (LEVELS - 1) * 2 - 1


def mu_law_round_trip(wave: np.ndarray) -> np.ndarray:
    """`wave` clipped to [-1, 1], mu-law companded (mu = 255), quantised to 8 bits and expanded
    (torchaudio.functional.mu_law_encoding / mu_law_decoding)."""
    tensor = torch.from_numpy(np.clip(wave, -1.0, 1.0).astype(np.float32))
    codes = torchaudio.functional.mu_law_encoding(tensor, LEVELS)
    return torchaudio.functional.mu_law_decoding(codes, LEVELS).numpy().astype(np.float64)


def a_law_round_trip(wave: np.ndarray) -> np.ndarray:
    """`wave` clipped to [-1, 1], A-law companded (A = 87.6), quantised to 8 bits and expanded.

    The continuous A-law curve with 256 uniform code levels (G.711 approximates the curve by 13
    segments; this simulation does not)."""
    magnitude, sign = np.abs(np.clip(wave, -1.0, 1.0)), np.sign(wave)
    denominator = 1 + math.log(A)
    small = magnitude < 1 / A
    companded = sign * np.where(small, A * magnitude, 1 + np.log(np.maximum(A * magnitude, 1e-30))) / denominator
    companded = quantise(companded)
    magnitude, sign = np.abs(companded), np.sign(companded)
    small = magnitude < 1 / denominator
    return sign * np.where(small, magnitude * denominator / A, np.exp(magnitude * denominator - 1) / A)


class MuLaw:
    """wave [T] -> wave [T] through a mu-law (mu = 255) 8-bit encode/decode round trip, as G.711.

    Samples are first clipped to [-1, 1]. Deterministic: `rng` is accepted for the common interface
    and not used. The error per sample is at most (1 + 255 |x|) (256^(1/255) - 1) / 255, i.e. about
    2.2 % of |x| plus 8.6e-5.
    """

    def __call__(self, wave: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return as_output(mu_law_round_trip(as_wave(wave)))

    def __repr__(self) -> str:
        return "MuLaw()"
