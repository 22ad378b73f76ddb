"""RawBoost (Tak, Kamble, Patino, Todisco, Evans, ICASSP 2022, arXiv:2111.04433).

Three signal-processing nuisances applied to the raw wave, needing no external data:

1. LnL, linear and non-linear convolutive noise: the sum over n = 1..N_f of x^n filtered by a random
   multi-band notch FIR filter (a cascade of `n_bands` Hamming-window band-stop filters with random
   centre frequencies, bandwidths and lengths), the linear term at a gain drawn in
   [min_gain_db, max_gain_db] dB and the non-linear terms (n >= 2) that gain range lowered by a bias
   drawn in [min_bias_db, max_bias_db] dB; then mean removal and peak normalisation when above 1.
2. ISD, impulsive signal-dependent additive noise: beta ~ U(0, P) percent of the samples, chosen at
   random, become x + g_sd * x * f with f the product of two U(-1, 1) draws; then peak
   normalisation when above 1.
3. SSI, stationary signal-independent additive noise: white Gaussian noise coloured by a random notch
   filter as in 1, added at an SNR drawn uniformly in [ssi_snr_min, ssi_snr_max] dB.

`algo` chooses 1, 2 or 3 alone, 4 = 1 then 2 then 3 in series, or 5 = 1 then 2 in series. The
defaults are the paper's and its reference implementation's (github.com/TakHemlata/RawBoost-antispoofing):
N_f = 5, nBands = 5, minF = 20 Hz, maxF = 8000 Hz, minBW = 100 Hz, maxBW = 1000 Hz, minCoeff = 10,
maxCoeff = 100, minG = maxG = 0 dB, minBiasLinNonLin = 5 dB, maxBiasLinNonLin = 20 dB, P = 10 %,
g_sd = 2, SNRmin = 10 dB, SNRmax = 40 dB. The default algorithm is 5 (LnL + ISD in series), the
configuration the authors use for the ASVspoof 2021 LA track (default of main_SSL_LA.py in
github.com/TakHemlata/SSL_Anti-spoofing; their DF script uses 3).

Written from the published description; two deliberate differences from the reference code: the
filtering compensates the FIR's linear-phase delay of (L - 1) / 2 samples exactly (the reference
is one sample off), and a band edge below 0 or above Nyquist is clipped just inside the band.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from scipy import signal

from augmentation._wave import as_output, as_wave
from conventions import SAMPLE_RATE, HyperParameter, UsageError

NYQUIST = SAMPLE_RATE / 2
EDGE = 1e-3  # Hz: how far inside (0, Nyquist) a clipped band edge is put
SERIES = {1: ("lnl",), 2: ("isd",), 3: ("ssi",), 4: ("lnl", "isd", "ssi"), 5: ("lnl", "isd")}


def filter_fir(wave: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """`wave` through the linear-phase FIR `taps` (odd length L), delay-compensated: [T] -> [T]."""
    delay = (len(taps) - 1) // 2
    return signal.oaconvolve(wave, taps)[delay : delay + len(wave)]


def normalise_peak(wave: np.ndarray, always: bool = False) -> np.ndarray:
    """`wave` divided by its peak magnitude when that exceeds 1 (or, with `always`, when it is not 0)."""
    peak = np.max(np.abs(wave)) if wave.size else 0.0
    return wave / peak if peak > 0 and (always or peak > 1) else wave


class RawBoost:
    """RawBoost algorithm `algo` (1 LnL, 2 ISD, 3 SSI, 4 = 1+2+3, 5 = 1+2, in series): wave [T] -> [T]."""

    def __init__(
        self,
        algo: Annotated[
            int,
            HyperParameter(
                "RawBoost algorithm: 1 linear and non-linear convolutive noise, 2 impulsive signal-dependent noise, "
                "3 stationary coloured additive noise, 4 = 1+2+3 in series, 5 = 1+2 in series",
                choices=tuple(SERIES),
            ),
        ] = 5,
        lnl_order: Annotated[
            int, HyperParameter("RawBoost N_f: highest power x^n of the convolutive noise (1 = linear only)", interval="[1, inf)")
        ] = 5,
        n_bands: Annotated[int, HyperParameter("RawBoost: number of notch bands in each random filter", interval="[1, inf)")] = 5,
        min_f_hz: Annotated[float, HyperParameter("RawBoost: lowest notch centre frequency", unit="Hz", interval=f"(0, {NYQUIST:g}]")] = 20.0,
        max_f_hz: Annotated[float, HyperParameter("RawBoost: highest notch centre frequency", unit="Hz", interval=f"(0, {NYQUIST:g}]")] = 8000.0,
        min_bw_hz: Annotated[float, HyperParameter("RawBoost: narrowest notch bandwidth", unit="Hz", interval="[1, inf)")] = 100.0,
        max_bw_hz: Annotated[float, HyperParameter("RawBoost: widest notch bandwidth", unit="Hz", interval="[1, inf)")] = 1000.0,
        min_coeffs: Annotated[
            int, HyperParameter("RawBoost: fewest taps of a notch filter (more taps, steeper slopes)", unit="taps", interval="[3, inf)")
        ] = 10,
        max_coeffs: Annotated[int, HyperParameter("RawBoost: most taps of a notch filter", unit="taps", interval="[3, inf)")] = 100,
        min_gain_db: Annotated[float, HyperParameter("RawBoost: lowest gain of the linear convolutive component", unit="dB")] = 0.0,
        max_gain_db: Annotated[float, HyperParameter("RawBoost: highest gain of the linear convolutive component", unit="dB")] = 0.0,
        min_bias_db: Annotated[
            float,
            HyperParameter("RawBoost: smallest gain reduction of the non-linear components relative to the linear one", unit="dB"),
        ] = 5.0,
        max_bias_db: Annotated[
            float,
            HyperParameter("RawBoost: largest gain reduction of the non-linear components relative to the linear one", unit="dB"),
        ] = 20.0,
        isd_max_percent: Annotated[
            float, HyperParameter("RawBoost P: most samples hit by impulsive noise", unit="percent of the wave", interval="[0, 100]")
        ] = 10.0,
        isd_gain: Annotated[
            float, HyperParameter("RawBoost g_sd: gain factor of the impulsive noise", unit="factor of the sample", interval="(0, inf)")
        ] = 2.0,
        ssi_snr_min: Annotated[float, HyperParameter("RawBoost: lowest SNR of the coloured additive noise", unit="dB")] = 10.0,
        ssi_snr_max: Annotated[float, HyperParameter("RawBoost: highest SNR of the coloured additive noise", unit="dB")] = 40.0,
    ) -> None:
        if algo not in SERIES:
            raise UsageError(f"--algo {algo} is not one of {', '.join(map(str, SERIES))}")
        values = locals()
        for low, high in (
            ("min_f_hz", "max_f_hz"),
            ("min_bw_hz", "max_bw_hz"),
            ("min_coeffs", "max_coeffs"),
            ("min_gain_db", "max_gain_db"),
            ("min_bias_db", "max_bias_db"),
            ("ssi_snr_min", "ssi_snr_max"),
        ):
            if values[low] > values[high]:
                raise UsageError(f"--{low} {values[low]} must not exceed --{high} {values[high]} for RawBoost")
        self.algo = algo
        self.lnl_order, self.n_bands = lnl_order, n_bands
        self.min_f_hz, self.max_f_hz, self.min_bw_hz, self.max_bw_hz = min_f_hz, max_f_hz, min_bw_hz, max_bw_hz
        self.min_coeffs, self.max_coeffs = min_coeffs, max_coeffs
        self.min_gain_db, self.max_gain_db, self.min_bias_db, self.max_bias_db = min_gain_db, max_gain_db, min_bias_db, max_bias_db
        self.isd_max_percent, self.isd_gain = isd_max_percent, isd_gain
        self.ssi_snr_min, self.ssi_snr_max = ssi_snr_min, ssi_snr_max

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        wave = as_output(as_wave(wave))
        for stage in SERIES[self.algo]:
            # Each stage takes and returns float32, so that algo 4 equals 1, 2 and 3 called in turn.
            wave = as_output(getattr(self, stage)(as_wave(wave), rng))
        return wave

    def notch_filter(self, rng: np.random.Generator, min_gain_db: float, max_gain_db: float) -> np.ndarray:
        """Taps of a random cascade of `n_bands` band-stop filters, scaled to a peak gain drawn in dB."""
        taps = np.ones(1)
        for _ in range(self.n_bands):
            centre = rng.uniform(self.min_f_hz, self.max_f_hz)
            bandwidth = rng.uniform(self.min_bw_hz, self.max_bw_hz)
            length = int(rng.uniform(self.min_coeffs, self.max_coeffs))
            length += 1 - length % 2  # odd: a band-stop FIR must pass the Nyquist frequency
            high = min(centre + bandwidth / 2, NYQUIST - EDGE)
            low = min(max(centre - bandwidth / 2, EDGE), high - EDGE)
            band_stop = signal.firwin(length, [low, high], window="hamming", fs=SAMPLE_RATE)
            taps = np.convolve(band_stop, taps)
        gain_db = rng.uniform(min(min_gain_db, max_gain_db), max(min_gain_db, max_gain_db))
        _, response = signal.freqz(taps, 1, fs=SAMPLE_RATE)
        return 10 ** (gain_db / 20) * taps / np.max(np.abs(response))

    def lnl(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Algorithm 1: linear and non-linear convolutive noise."""
        out = np.zeros_like(wave)
        for power in range(1, self.lnl_order + 1):
            if power == 1:
                gains = (self.min_gain_db, self.max_gain_db)
            else:
                gains = (self.min_gain_db - self.min_bias_db, self.max_gain_db - self.max_bias_db)
            out += filter_fir(wave**power, self.notch_filter(rng, *gains))
        out -= out.mean() if out.size else 0.0
        return normalise_peak(out)

    def isd(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Algorithm 2: impulsive signal-dependent additive noise."""
        percent = rng.uniform(0, self.isd_max_percent)
        count = int(len(wave) * percent / 100)
        positions = rng.permutation(len(wave))[:count]
        factors = (2 * rng.random(count) - 1) * (2 * rng.random(count) - 1)
        out = wave.copy()
        out[positions] += self.isd_gain * wave[positions] * factors
        return normalise_peak(out)

    def ssi(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Algorithm 3: stationary signal-independent (coloured Gaussian) additive noise."""
        noise = rng.standard_normal(len(wave))
        noise = normalise_peak(filter_fir(noise, self.notch_filter(rng, self.min_gain_db, self.max_gain_db)), always=True)
        snr_db = rng.uniform(self.ssi_snr_min, self.ssi_snr_max)
        noise_norm = np.linalg.norm(noise)
        if noise_norm == 0:
            return wave
        return wave + noise * (np.linalg.norm(wave) / noise_norm / 10 ** (snr_db / 20))

    def __repr__(self) -> str:
        return f"RawBoost(algo={self.algo})"
