"""The waveform augmentations: determinism from the rng alone, output format, and what each preserves."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from augmentation.compose import Compose
from augmentation.mulaw import a_law_round_trip
from augmentation.noise import tilt
from augmentation.rawboost import RawBoost, normalise_peak
from augmentation.speed import SpeedPerturbation
from augmentation.time_mask import TimeMask
from common import AUGMENTATIONS
from conventions import SAMPLE_RATE, UsageError

T = SAMPLE_RATE  # one second
RANDOM_NAMES = [name for name in AUGMENTATIONS if name != "mulaw"]  # mulaw is deterministic (G.711 has no randomness)


def speech_like(seed: int = 0, length: int = T) -> np.ndarray:
    """A harmonic tone with a slow envelope plus a little noise, peak about 0.6, no exact zeros."""
    rng = np.random.default_rng(seed)
    time = np.arange(length) / SAMPLE_RATE
    tone = sum(np.sin(2 * np.pi * 150 * k * time + k) / k for k in range(1, 12))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * time)
    wave = 0.25 * envelope * tone + 0.01 * rng.standard_normal(length)
    return wave.astype(np.float32)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """10 log10 of the power of `clean` over the power of what was added to it."""
    clean, noisy = clean.astype(np.float64), noisy.astype(np.float64)
    return 10 * math.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))


def test_registry_names():
    assert list(AUGMENTATIONS) == ["rawboost", "noise", "time_mask", "mulaw", "speed", "codec"]


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_same_seed_same_output_whatever_the_global_generators(name):
    wave = speech_like()
    outputs = []
    for global_seed in (0, 1):
        np.random.seed(global_seed)
        random.seed(global_seed)
        torch.manual_seed(global_seed)
        outputs.append(AUGMENTATIONS[name]()(wave, np.random.default_rng(7)))
    np.testing.assert_array_equal(outputs[0], outputs[1])


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_different_seeds_give_different_outputs(name):
    augmentation, wave = AUGMENTATIONS[name](), speech_like()
    if name in ("speed", "codec"):  # a choice among 3 factors or 2 laws: some seeds draw the same one
        outputs = [augmentation(wave, np.random.default_rng(seed)) for seed in range(10)]
        assert len({output.tobytes() for output in outputs}) > 1
    else:
        first, second = (augmentation(wave, np.random.default_rng(seed)) for seed in (0, 1))
        assert first.shape != second.shape or not np.array_equal(first, second)


def test_mulaw_ignores_the_rng():
    wave = speech_like()
    first, second = (AUGMENTATIONS["mulaw"]()(wave, np.random.default_rng(seed)) for seed in (0, 1))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_output_is_finite_float32_of_the_expected_length_and_input_untouched(name):
    wave = speech_like()
    kept = wave.copy()
    for seed in range(3):
        output = AUGMENTATIONS[name]()(wave, np.random.default_rng(seed))
        assert output.dtype == np.float32 and output.ndim == 1 and np.isfinite(output).all()
        if name == "speed":
            assert min(abs(len(output) - T / factor) for factor in (0.9, 1.0, 1.1)) <= 1
        else:
            assert len(output) == T
    np.testing.assert_array_equal(wave, kept)


@pytest.mark.parametrize("name", AUGMENTATIONS)
@pytest.mark.parametrize("length", [0, 1, 7, 101])
def test_short_and_silent_waves(name, length):
    for wave in (np.zeros(length, dtype=np.float32), np.full(length, 0.3, dtype=np.float32)):
        output = AUGMENTATIONS[name]()(wave, np.random.default_rng(0))
        assert output.dtype == np.float32 and np.isfinite(output).all()
        assert len(output) == length or name == "speed"
        if name in ("noise", "time_mask") and not wave.any():
            assert not output.any()  # silence stays silent: the SNR is relative to the signal


def test_compose_applies_in_order_with_one_rng():
    wave, mask, noise = speech_like(), TimeMask(n_masks=3), AUGMENTATIONS["noise"]()
    composed = Compose([mask, noise])(wave, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(composed, noise(mask(wave, rng), rng))
    rng = np.random.default_rng(3)
    assert not np.array_equal(composed, mask(noise(wave, rng), rng))
    np.testing.assert_array_equal(Compose([])(wave, np.random.default_rng(0)), wave)


# --- additive noise


def test_noise_snr_is_within_the_drawn_range():
    wave, noise = speech_like(), AUGMENTATIONS["noise"]()  # 5 to 20 dB
    measured = [snr_db(wave, noise(wave, np.random.default_rng(seed))) for seed in range(20)]
    assert all(5 - 1e-3 <= value <= 20 + 1e-3 for value in measured)
    assert max(measured) - min(measured) > 5  # drawn, not fixed


@pytest.mark.parametrize("white_probability", [1.0, 0.0])
def test_noise_snr_is_exactly_the_one_asked_for(white_probability):
    noise = AUGMENTATIONS["noise"](snr_min=12, snr_max=12, noise_white_probability=white_probability, noise_tilt_db_max=6)
    wave = speech_like()
    assert snr_db(wave, noise(wave, np.random.default_rng(0))) == pytest.approx(12, abs=0.01)


@pytest.mark.parametrize("tilt_db", [-3.0, 3.0, -6.0])
def test_noise_tilt_changes_the_power_per_octave_by_the_tilt(tilt_db):
    noise = tilt(np.random.default_rng(0).standard_normal(8 * T), tilt_db)
    power = np.abs(np.fft.rfft(noise)) ** 2
    frequencies = np.fft.rfftfreq(len(noise), 1 / SAMPLE_RATE)

    def octave_density(low):
        return power[(frequencies >= low) & (frequencies < 2 * low)].mean()

    # mean density over the octave [2f, 4f) vs [f, 2f): one octave up
    assert 10 * math.log10(octave_density(2000) / octave_density(1000)) == pytest.approx(tilt_db, abs=0.3)


def test_noise_refuses_snr_min_above_snr_max():
    with pytest.raises(UsageError):
        AUGMENTATIONS["noise"](snr_min=30, snr_max=10)


# --- time masking


def test_time_mask_zeroes_exactly_the_drawn_spans():
    wave, mask = speech_like(), TimeMask(n_masks=3, max_mask_seconds=0.2)
    for seed in range(5):
        masked = np.zeros(T, dtype=bool)
        for start, end in mask.spans(T, np.random.default_rng(seed)):
            assert 0 <= start <= end <= T and end - start <= 0.2 * SAMPLE_RATE
            masked[start:end] = True
        output = mask(wave, np.random.default_rng(seed))
        assert masked.any()
        assert (output[masked] == 0).all()
        np.testing.assert_array_equal(output[~masked], wave[~masked])


# --- mu-law and A-law


def test_mulaw_round_trip_error_is_bounded_as_g711_predicts():
    wave = np.linspace(-1, 1, 40001).astype(np.float32)
    output = AUGMENTATIONS["mulaw"]()(wave, np.random.default_rng(0)).astype(np.float64)
    # 8 bits: the companded value is off by at most half a step (1/255); the expansion
    # (256^|y| - 1) / 255 turns that into at most (1 + 255 |x|) (256^(1/255) - 1) / 255.
    bound = (1 + 255 * np.abs(wave)) * (256 ** (1 / 255) - 1) / 255
    assert (np.abs(output - wave) <= bound * (1 + 1e-3) + 1e-7).all()
    assert len(np.unique(output)) == 256  # quantised to 8 bits, all codes used
    assert np.abs(output - wave).max() > 0.01  # and not a no-op
    clipped = AUGMENTATIONS["mulaw"]()(np.array([-3.0, 2.0], dtype=np.float32), np.random.default_rng(0))
    np.testing.assert_allclose(clipped, [-1.0, 1.0])


def test_a_law_round_trip_error_is_bounded_as_g711_predicts():
    wave = np.linspace(-1, 1, 40001)
    output = a_law_round_trip(wave)
    log_a = 1 + math.log(87.6)
    # half a step 1/255 of the companded value: linear segment (|x| < 1/A) and logarithmic segment
    bound = log_a / (87.6 * 255) + np.abs(wave) * (math.exp(log_a / 255) - 1)
    assert (np.abs(output - wave) <= bound * (1 + 1e-9)).all()
    assert len(np.unique(output)) == 256
    assert np.abs(output - wave).max() > 0.01


# --- speed perturbation


@pytest.mark.parametrize("factor", [0.9, 1.0, 1.1, 1.25])
def test_speed_changes_duration_and_pitch_by_the_factor(factor):
    time = np.arange(T) / SAMPLE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * time)).astype(np.float32)
    output = SpeedPerturbation(speed_factors=str(factor))(tone, np.random.default_rng(0))
    assert abs(len(output) - T / factor) <= 1
    spectrum = np.abs(np.fft.rfft(output))
    peak_hz = np.fft.rfftfreq(len(output), 1 / SAMPLE_RATE)[np.argmax(spectrum)]
    assert peak_hz == pytest.approx(1000 * factor, abs=3)
    if factor == 1.0:
        np.testing.assert_array_equal(output, tone)


def test_speed_draws_every_factor():
    speed, wave = SpeedPerturbation(), speech_like()
    lengths = {len(speed(wave, np.random.default_rng(seed))) for seed in range(30)}
    assert lengths == {math.ceil(T * 10 / 9), T, math.ceil(T * 10 / 11)}


def test_speed_refuses_bad_factors():
    for factors in ("0.9,fast", "0.9,0", ""):
        with pytest.raises(UsageError):
            SpeedPerturbation(speed_factors=factors)


# --- telephone codec simulation


@pytest.mark.parametrize("law", ["mu-law", "a-law"])
def test_codec_keeps_the_telephone_band_only(law):
    wave = (0.1 * np.random.default_rng(0).standard_normal(T)).astype(np.float32)  # flat spectrum
    output = AUGMENTATIONS["codec"](codec_law=law)(wave, np.random.default_rng(0))
    frequencies = np.fft.rfftfreq(T, 1 / SAMPLE_RATE)
    power_in, power_out = (np.abs(np.fft.rfft(w.astype(np.float64))) ** 2 for w in (wave, output))

    def gain_db(low, high):
        band = (frequencies >= low) & (frequencies < high)
        return 10 * math.log10(power_out[band].sum() / power_in[band].sum())

    # limits about 3 dB below the values measured with both band-pass passes; with the sending
    # end's alone, 3.5-8 kHz is down 48 dB and 0-200 Hz 38 dB, which these limits refuse
    assert gain_db(3400, 8000) < -25
    assert gain_db(3500, 8000) < -50
    assert gain_db(0, 200) < -42
    assert -1.5 < gain_db(500, 3000) < 0.5


def test_codec_random_law_draws_both_laws():
    wave, codec = speech_like(), AUGMENTATIONS["codec"]()
    outputs = {codec(wave, np.random.default_rng(seed)).tobytes() for seed in range(10)}
    by_law = {AUGMENTATIONS["codec"](codec_law=law)(wave, np.random.default_rng(0)).tobytes() for law in ("mu-law", "a-law")}
    assert outputs == by_law


# --- RawBoost


@pytest.mark.parametrize("algo", [1, 2, 3, 4, 5])
def test_rawboost_each_algorithm_changes_the_signal(algo):
    wave = speech_like()
    output = RawBoost(algo=algo)(wave, np.random.default_rng(1))
    assert np.linalg.norm(output - wave) > 1e-3 * np.linalg.norm(wave)


def test_rawboost_default_is_lnl_then_isd():
    assert RawBoost().algo == 5


@pytest.mark.parametrize("algo, series", [(4, (1, 2, 3)), (5, (1, 2))])
def test_rawboost_combinations_are_the_single_algorithms_in_series(algo, series):
    wave = speech_like()
    for seed in range(3):
        rng = np.random.default_rng(seed)
        expected = wave
        for single in series:
            expected = RawBoost(algo=single)(expected, rng)
        np.testing.assert_array_equal(RawBoost(algo=algo)(wave, np.random.default_rng(seed)), expected)


def test_rawboost_ssi_snr_is_within_10_and_40_db():
    wave, ssi = speech_like(), RawBoost(algo=3)
    measured = [snr_db(wave, ssi(wave, np.random.default_rng(seed))) for seed in range(20)]
    assert all(10 - 1e-3 <= value <= 40 + 1e-3 for value in measured)
    assert max(measured) - min(measured) > 10


def test_rawboost_isd_touches_at_most_p_percent_of_the_samples():
    wave = 0.5 * speech_like()  # quiet enough that the impulses seldom exceed 1 (which renormalises)
    checked = 0
    for seed in range(10):
        output = RawBoost(algo=2)(wave, np.random.default_rng(seed))
        if np.abs(output).max() < 1:  # not renormalised: untouched samples are exactly equal
            assert 0 < np.mean(output != wave) <= 0.10
            checked += 1
    assert checked >= 5


def test_rawboost_lnl_is_zero_mean_and_within_unit_peak():
    peaks = []
    for scale, seed in ((1, 0), (4, 1), (4, 2), (8, 3)):
        loud = np.clip(scale * speech_like(), -1, 1)
        output = RawBoost(algo=1)(loud, np.random.default_rng(seed)).astype(np.float64)
        assert abs(output.mean()) < 1e-6
        peaks.append(np.abs(output).max())
    assert max(peaks) <= 1 + 1e-6
    np.testing.assert_allclose(normalise_peak(np.array([0.5, -2.0])), [0.25, -1.0])
    np.testing.assert_array_equal(normalise_peak(np.array([0.5, -0.25])), [0.5, -0.25])
    np.testing.assert_allclose(normalise_peak(np.array([0.5, -0.25]), always=True), [1.0, -0.5])


def test_rawboost_notch_filter_peaks_at_the_drawn_gain():
    boost = RawBoost()
    from scipy import signal

    for gains, expected_db in (((0.0, 0.0), 0.0), ((-6.0, -6.0), -6.0)):
        taps = boost.notch_filter(np.random.default_rng(0), *gains)
        _, response = signal.freqz(taps, 1, fs=SAMPLE_RATE)
        assert 20 * math.log10(np.abs(response).max()) == pytest.approx(expected_db, abs=1e-6)
        assert len(taps) % 2 == 1  # a cascade of odd-length band-stop filters
        assert 20 * math.log10(np.abs(response).min()) < -20  # it has notches


def test_rawboost_refuses_bad_settings():
    with pytest.raises(UsageError):
        RawBoost(algo=6)
    with pytest.raises(UsageError):
        RawBoost(ssi_snr_min=40, ssi_snr_max=10)
