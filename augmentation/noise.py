"""Additive Gaussian noise, white or with a random spectral tilt, at a random SNR."""
from __future__ import annotations

import math
from typing import Annotated

import numpy as np

from augmentation._wave import as_output, as_wave, power
from conventions import SAMPLE_RATE, HyperParameter, UsageError

TILT_REFERENCE_HZ = 1000.0  # the tilted spectrum keeps its level at this frequency before scaling
TILT_FLOOR_HZ = 20.0  # below this frequency the tilt is held constant (no infrasonic boost); DC is removed
DB_PER_OCTAVE_PER_EXPONENT = 10 * math.log10(2)  # a power spectrum f^beta falls or rises 3.01 * beta dB/octave


class AdditiveNoise:
    """wave [T] -> wave + noise [T] at an SNR drawn uniformly in [snr_min, snr_max] dB.

    The noise is Gaussian, generated from `rng` (no noise corpus): white with probability
    `noise_white_probability`, otherwise coloured by a power-spectrum tilt drawn uniformly in
    [-noise_tilt_db_max, +noise_tilt_db_max] dB per octave (-3 dB/octave is pink noise, +3 blue,
    -6 brown). The SNR is the ratio of the powers of the whole input and of the added noise, so
    that `10 log10(sum(x^2) / sum((y - x)^2))` of the output y is the drawn SNR. A silent input is
    returned unchanged.
    """

    def __init__(
        self,
        snr_min: Annotated[float, HyperParameter("additive noise: lowest signal-to-noise ratio", unit="dB")] = 5.0,
        snr_max: Annotated[float, HyperParameter("additive noise: highest signal-to-noise ratio", unit="dB")] = 20.0,
        noise_white_probability: Annotated[
            float,
            HyperParameter("additive noise: probability that the noise is white rather than tilted", unit="probability", interval="[0, 1]"),
        ] = 0.5,
        noise_tilt_db_max: Annotated[
            float,
            HyperParameter(
                "additive noise: largest spectral tilt of coloured noise, either sign", unit="dB per octave", interval="[0, 12]"
            ),
        ] = 3.0,
    ) -> None:
        if snr_min > snr_max:
            raise UsageError(f"--snr_min {snr_min} must not exceed --snr_max {snr_max} for the additive noise")
        self.snr_min, self.snr_max = snr_min, snr_max
        self.noise_white_probability, self.noise_tilt_db_max = noise_white_probability, noise_tilt_db_max

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        wave = as_wave(wave)
        snr_db = rng.uniform(self.snr_min, self.snr_max)
        white = rng.random() < self.noise_white_probability
        tilt_db = 0.0 if white else rng.uniform(-self.noise_tilt_db_max, self.noise_tilt_db_max)
        noise = rng.standard_normal(len(wave))
        if tilt_db != 0.0:
            noise = tilt(noise, tilt_db)
        signal_power, noise_power = power(wave), power(noise)
        if signal_power == 0 or noise_power == 0:
            return as_output(wave)
        return as_output(wave + noise * math.sqrt(signal_power / noise_power / 10 ** (snr_db / 10)))

    def __repr__(self) -> str:
        return f"AdditiveNoise(snr_min={self.snr_min}, snr_max={self.snr_max})"


def tilt(noise: np.ndarray, tilt_db_per_octave: float) -> np.ndarray:
    """`noise` with its power spectrum multiplied by (f / 1 kHz)^beta, beta = tilt / 3.01 dB (f held at >= 20 Hz; no DC)."""
    if len(noise) < 2:
        return noise
    spectrum = np.fft.rfft(noise)
    frequencies = np.maximum(np.fft.rfftfreq(len(noise), 1 / SAMPLE_RATE), TILT_FLOOR_HZ)
    exponent = tilt_db_per_octave / DB_PER_OCTAVE_PER_EXPONENT
    spectrum *= (frequencies / TILT_REFERENCE_HZ) ** (exponent / 2)
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n=len(noise))
