"""Speech-like signals for the Synthetic corpus: voices, utterance plans, rendering, vocoders, channel.

An utterance is first *planned* as parameter tracks (F0, formants, voicing, frication) at the
frame rate SAMPLE_RATE / HOP, then *rendered*: a glottal pulse train plus aspiration and
fricative noise, filtered frame by frame in the STFT domain by all-pole resonance envelopes.
The vocoders (the spoofing attacks) either re-render a degraded plan or degrade a rendered
wave. Every function works on a batch of B utterances zero-padded to a common length T.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
from scipy.ndimage import convolve1d

from common import SAMPLE_RATE

N_FFT = 512  # samples; window of every STFT here
HOP = 128  # samples; one frame of the parameter tracks and of the STFTs
N_BINS = N_FFT // 2 + 1
BIN_HZ = np.arange(N_BINS) * SAMPLE_RATE / N_FFT
WINDOW = torch.hann_window(N_FFT)

# F1–F4 (Hz) of a long (adult male) vocal tract: i ɪ ɛ æ ɑ ɔ ʊ u ʌ ɝ, then a nasal murmur.
VOWEL_HZ = np.array(
    [
        [270, 2290, 3010, 3500],
        [390, 1990, 2550, 3400],
        [530, 1840, 2480, 3400],
        [660, 1720, 2410, 3400],
        [730, 1090, 2440, 3400],
        [570, 840, 2410, 3300],
        [440, 1020, 2240, 3300],
        [300, 870, 2240, 3300],
        [640, 1190, 2390, 3400],
        [490, 1350, 1690, 3300],
    ],
    dtype=np.float32,
)
NASAL_HZ = np.array([250, 1100, 2300, 3300], dtype=np.float32)
F5_HZ = 4500.0  # a fixed fifth formant, scaled with the tract like the others
BANDWIDTH_HZ = np.array([60, 90, 120, 180, 250], dtype=np.float32)  # B1–B5

# Phonetic units: vowel, nasal, fricative, pause; their probability and duration range (s).
VOWEL, NASAL, FRICATIVE, PAUSE = range(4)
UNIT_PROBABILITY = [0.58, 0.12, 0.2, 0.1]
UNIT_SECONDS = np.array([[0.07, 0.22], [0.04, 0.1], [0.06, 0.16], [0.08, 0.3]], dtype=np.float32)
MAX_UNITS = 64  # more than the longest utterance needs

NOISE_SEED = 20240917  # the shared table of Gaussian noise that every noise source reads from
NOISE_TABLE_SAMPLES = 1 << 21
GLOTTAL_TABLE_SIZE = 1024  # samples of one glottal period in the pulse look-up table


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker."""

    f0_hz: float  # median fundamental frequency
    tract: float  # formant scale: 1 for a long (adult male) vocal tract, ~1.2 for a short one
    open_phase: float  # Rosenberg pulse opening, fraction of the period
    close_phase: float  # Rosenberg pulse closing, fraction of the period
    jitter: float  # standard deviation of the glottal-closure instants, fraction of the period
    shimmer: float  # standard deviation of the per-period amplitude, relative
    breath: float  # aspiration noise amplitude relative to the glottal source
    rate: float  # speaking-rate factor (> 1 is faster)


def random_voice(rng: np.random.Generator, high: bool) -> Voice:
    """A low (male-like) or high (female-like) voice."""
    return Voice(
        f0_hz=rng.uniform(170, 250) if high else rng.uniform(85, 140),
        tract=rng.uniform(1.1, 1.25) if high else rng.uniform(0.92, 1.05),
        open_phase=rng.uniform(0.3, 0.5),
        close_phase=rng.uniform(0.1, 0.2),
        jitter=rng.uniform(0.005, 0.02),
        shimmer=rng.uniform(0.03, 0.1),
        breath=rng.uniform(0.05, 0.25),
        rate=rng.uniform(0.85, 1.2),
    )


@dataclass(frozen=True)
class Plan:
    """Parameter tracks of B utterances, F frames each (frame f is sample f * HOP)."""

    lengths: np.ndarray  # [B] samples
    f0_hz: np.ndarray  # [B, F]
    formant_hz: np.ndarray  # [B, F, 5]
    bandwidth_hz: np.ndarray  # [B, F, 5]
    voicing: np.ndarray  # [B, F] in [0, 1]: gate of the glottal pulses
    voiced_gain: np.ndarray  # [B, F] amplitude of the voiced spectrum envelope
    fricative_gain: np.ndarray  # [B, F] amplitude of the fricative spectrum envelope
    fricative_hz: np.ndarray  # [B, F] centre of the fricative resonance
    fricative_bandwidth_hz: np.ndarray  # [B, F]
    open_phase: np.ndarray  # [B] see Voice
    close_phase: np.ndarray  # [B]
    jitter: np.ndarray  # [B]
    shimmer: np.ndarray  # [B]
    breath: np.ndarray  # [B] aspiration noise level
    breath_floor: np.ndarray  # [B] share of the aspiration noise present outside the glottal open phase
    tilt_pole: np.ndarray  # [B] an extra real pole of the voiced envelope (0: none)


def smooth(track: np.ndarray, seconds: float | np.ndarray) -> np.ndarray:
    """Smooth along axis 1 (frames) with a Hann kernel `seconds` wide; one width per row if an array."""
    if np.ndim(seconds) > 0:
        return np.stack([smooth(row[None], width)[0] for row, width in zip(track, seconds)])
    taps = max(1, int(round(seconds * SAMPLE_RATE / HOP)))
    kernel = np.hanning(taps + 2)[1:-1].astype(np.float32)
    return convolve1d(track, kernel / kernel.sum(), axis=1, mode="nearest")


def plan_utterances(rng: np.random.Generator, voices: Sequence[Voice], lengths: np.ndarray) -> Plan:
    """Plan B utterances of `lengths` samples: a random sequence of vowels, nasals, fricatives and
    pauses framed by silence, with an F0 contour (declination, intonation, accents) per utterance."""
    batch = len(voices)
    frames = int(lengths.max()) // HOP + 2
    seconds = lengths[:, None].astype(np.float32) / SAMPLE_RATE  # [B, 1]
    t = np.arange(frames, dtype=np.float32)[None] * HOP / SAMPLE_RATE  # [1, F]
    voice = {name: np.array([getattr(v, name) for v in voices], dtype=np.float32) for name in Voice.__annotations__}
    tract = voice["tract"][:, None]

    # Units: kind and duration, laid end to end after a leading silence.
    kind = rng.choice(4, size=(batch, MAX_UNITS), p=UNIT_PROBABILITY)
    low, high = UNIT_SECONDS[kind, 0], UNIT_SECONDS[kind, 1]
    duration = (low + (high - low) * rng.random((batch, MAX_UNITS), dtype=np.float32)) / voice["rate"][:, None]
    lead = rng.uniform(0.05, 0.3, (batch, 1)).astype(np.float32)
    trail = rng.uniform(0.05, 0.3, (batch, 1)).astype(np.float32)
    end = lead + np.cumsum(duration, axis=1)
    unit = np.minimum((t[:, :, None] >= end[:, None, :]).sum(-1), MAX_UNITS - 1)  # [B, F]
    position = 1 - (np.take_along_axis(end, unit, 1) - t) / np.take_along_axis(duration, unit, 1)
    kind = np.take_along_axis(kind, unit, 1)
    kind[(t < lead) | (t >= seconds - trail)] = PAUSE

    def per_unit(values: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, unit, 1)

    # Formants: a vowel target per unit (a nasal murmur in nasals), scaled by the tract.
    vowel = rng.integers(0, len(VOWEL_HZ), (batch, MAX_UNITS))
    targets = VOWEL_HZ[vowel] * (1 + 0.04 * rng.standard_normal((batch, MAX_UNITS, 4), dtype=np.float32))
    formants = np.take_along_axis(targets, unit[:, :, None], 1)
    formants[kind == NASAL] = NASAL_HZ
    formants = np.concatenate([formants, np.full((batch, frames, 1), F5_HZ, np.float32)], axis=2)
    formants = smooth(formants * tract[:, :, None], 0.05)
    bandwidths = BANDWIDTH_HZ * (1 + 0.15 * rng.standard_normal((batch, 1, 5), dtype=np.float32))
    bandwidths = np.broadcast_to(np.abs(bandwidths), formants.shape).copy()
    bandwidths[kind == NASAL, 0] *= 2

    # Loudness: per-unit level with a syllabic rise and fall, declining over the utterance.
    level = 10 ** (rng.normal(0, 2.5, (batch, MAX_UNITS)) / 20).astype(np.float32)
    voiced_fricative = rng.random((batch, MAX_UNITS)) < 0.3
    shape = (0.6 + 0.4 * np.sin(np.pi * np.clip(position, 0, 1))) * 10 ** (
        -rng.uniform(0, 6, (batch, 1)) * t / seconds / 20
    )
    unit_level = per_unit(level) * shape
    voiced = np.select(
        [kind == VOWEL, kind == NASAL, (kind == FRICATIVE) & per_unit(voiced_fricative)], [1.0, 0.3, 0.15], 0.0
    )
    fricative = np.where(kind == FRICATIVE, 0.25, 0.0)
    fricative_hz = per_unit(rng.uniform(2500, 7000, (batch, MAX_UNITS)).astype(np.float32))
    fricative_bandwidth = per_unit(rng.uniform(1000, 3000, (batch, MAX_UNITS)).astype(np.float32))

    # F0: speaker median, declination, slow intonation and smoothed accents, in semitones.
    semitones = rng.uniform(2, 5, (batch, 1)) * (0.5 - t / seconds)
    for _ in range(2):
        rate_hz, depth = rng.uniform(0.2, 1.2, (batch, 1)), rng.uniform(0.5, 2, (batch, 1))
        semitones = semitones + depth * np.sin(2 * np.pi * rate_hz * t + rng.uniform(0, 2 * np.pi, (batch, 1)))
    semitones = semitones + smooth(per_unit(rng.normal(0, 1.5, (batch, MAX_UNITS))), 0.12)
    f0 = voice["f0_hz"][:, None] * rng.uniform(0.92, 1.08, (batch, 1)) * 2 ** (semitones / 12)

    return Plan(
        lengths=lengths.astype(np.int64),
        f0_hz=f0.astype(np.float32),
        formant_hz=formants,
        bandwidth_hz=bandwidths,
        voicing=smooth((voiced > 0).astype(np.float32), 0.02),
        voiced_gain=smooth((voiced * unit_level).astype(np.float32), 0.03),
        fricative_gain=smooth((fricative * unit_level).astype(np.float32), 0.02),
        fricative_hz=smooth(fricative_hz, 0.02),
        fricative_bandwidth_hz=fricative_bandwidth,
        open_phase=voice["open_phase"],
        close_phase=voice["close_phase"],
        jitter=voice["jitter"],
        shimmer=voice["shimmer"],
        breath=voice["breath"],
        breath_floor=np.full(batch, 0.3, np.float32),
        tilt_pole=np.zeros(batch, np.float32),
    )


_noise_table: torch.Tensor | None = None


def noise_rows(rng: np.random.Generator, batch: int, samples: int) -> torch.Tensor:
    """White Gaussian noise [batch, samples]: rows of a fixed table read from random offsets."""
    global _noise_table
    if _noise_table is None:
        table = np.random.default_rng(NOISE_SEED).standard_normal(NOISE_TABLE_SAMPLES, dtype=np.float32)
        _noise_table = torch.from_numpy(table)
    offsets = rng.integers(0, NOISE_TABLE_SAMPLES - samples, batch)
    return _noise_table.unfold(0, samples, 1)[torch.from_numpy(offsets)]


def glottal_flow_table(open_phase: np.ndarray, close_phase: np.ndarray) -> torch.Tensor:
    """Rosenberg glottal flow over one period, [B, GLOTTAL_TABLE_SIZE], peak 1."""
    phase = (np.arange(GLOTTAL_TABLE_SIZE, dtype=np.float32) + 0.5) / GLOTTAL_TABLE_SIZE
    opening = np.clip(phase / open_phase[:, None], 0, 1)
    closing = np.clip((phase - open_phase[:, None]) / close_phase[:, None], 0, 1)
    return torch.from_numpy(0.5 * (1 - np.cos(np.pi * opening)) * np.cos(0.5 * np.pi * closing))


def all_pole_response(pole_hz: torch.Tensor, bandwidth_hz: torch.Tensor) -> torch.Tensor:
    """|1 / A(f)| at the STFT bins of the all-pole filter with one conjugate pole pair per
    resonance; pole_hz and bandwidth_hz [..., R] → [..., N_BINS]. A resonance at 0 Hz is a real pole."""
    radius = torch.exp(-torch.pi * bandwidth_hz / SAMPLE_RATE)
    real_pole = pole_hz == 0
    c1 = torch.where(real_pole, -radius, -2 * radius * torch.cos(2 * torch.pi * pole_hz / SAMPLE_RATE))
    c2 = torch.where(real_pole, 0.0, radius**2)
    poly = torch.zeros(*pole_hz.shape[:-1], 2 * pole_hz.shape[-1] + 1)
    poly[..., 0] = 1
    for r in range(pole_hz.shape[-1]):
        previous = poly.clone()
        poly[..., 1:] += c1[..., r : r + 1] * previous[..., :-1]
        poly[..., 2:] += c2[..., r : r + 1] * previous[..., :-2]
    return 1 / torch.fft.rfft(poly, n=N_FFT).abs()


def spectral_envelope(plan: Plan) -> torch.Tensor:
    """Amplitude envelope [B, N_BINS, F] by which each STFT frame of the source is multiplied."""
    formants, bandwidths = torch.from_numpy(plan.formant_hz), torch.from_numpy(plan.bandwidth_hz)
    tilt = torch.from_numpy(plan.tilt_pole)[:, None, None].expand(-1, formants.shape[1], 1)
    # a real pole at radius r is a "resonance" at 0 Hz of bandwidth -ln(r) fs / π
    tilt_bandwidth = -torch.log(tilt.clamp(min=1e-6)) * SAMPLE_RATE / torch.pi
    voiced = all_pole_response(torch.cat([formants, torch.zeros_like(tilt)], 2), torch.cat([bandwidths, tilt_bandwidth], 2))
    voiced = voiced / voiced[..., :1]  # unity gain at 0 Hz
    fricative = all_pole_response(
        torch.from_numpy(plan.fricative_hz)[..., None], torch.from_numpy(plan.fricative_bandwidth_hz)[..., None]
    )
    fricative = fricative / fricative.amax(-1, keepdim=True)  # unity gain at the resonance
    noise_level = plan.breath * plan.breath_floor  # the source noise outside the open phase
    envelope = torch.from_numpy(plan.voiced_gain)[..., None] * voiced + torch.from_numpy(
        plan.fricative_gain / noise_level[:, None]
    )[..., None] * fricative
    return envelope.transpose(1, 2)


def glottal_source(plan: Plan, rng: np.random.Generator, impulses: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The voiced excitation [B, T] (differentiated glottal flow, or impulses at the glottal
    closures) with jitter and shimmer, normalised to unit power where voiced; and the glottal
    flow times the pulse amplitude [B, T] (0 between pulses), which modulates the aspiration."""
    f0 = torch.from_numpy(plan.f0_hz)
    batch, frames = f0.shape
    samples = (frames - 1) * HOP
    # Phase in periods: cumulative at the frames, linear in between.
    frame_phase = torch.cumsum(f0, 1) * (HOP / SAMPLE_RATE)
    frame_phase = torch.cat([torch.zeros(batch, 1), frame_phase[:, :-1]], 1)
    phase = torch.nn.functional.interpolate(frame_phase[:, None], size=samples + 1, mode="linear", align_corners=True)
    phase = phase[:, 0, :samples]
    # Per period: amplitude (voicing gate at its start, with shimmer) and closure offset (jitter).
    periods = int(frame_phase[:, -1].max()) + 3
    starts = torch.searchsorted(frame_phase.contiguous(), torch.arange(periods, dtype=torch.float32).expand(batch, -1).contiguous())
    gate = torch.gather(torch.from_numpy(plan.voicing), 1, starts.clamp(max=frames - 1))
    amplitude = gate * (1 + torch.from_numpy(plan.shimmer[:, None] * rng.standard_normal((batch, periods), dtype=np.float32)))
    offset = torch.from_numpy(plan.jitter[:, None] * rng.standard_normal((batch, periods), dtype=np.float32))
    offset[:, 0] = 0
    step = torch.diff(offset, dim=1, append=torch.zeros(batch, 1))
    period = phase.long()
    phase = phase - torch.gather(offset, 1, period) - torch.gather(step, 1, period) * (phase - period)
    period = phase.long()
    pulse_amplitude = torch.gather(amplitude, 1, period)
    index = ((phase - period) * GLOTTAL_TABLE_SIZE).long().clamp_(max=GLOTTAL_TABLE_SIZE - 1)
    flow = torch.gather(glottal_flow_table(plan.open_phase, plan.close_phase), 1, index) * pulse_amplitude
    if impulses:
        source = torch.diff(period, dim=1, prepend=period[:, :1]).float() * pulse_amplitude
    else:
        source = torch.diff(flow, dim=1, prepend=flow[:, :1])
    power = source.square().sum(1, keepdim=True) / pulse_amplitude.square().sum(1, keepdim=True).clamp(min=1e-6)
    return source / power.sqrt().clamp(min=1e-6), flow


def render(
    plan: Plan, rng: np.random.Generator, impulses: bool = False, max_voiced_hz: np.ndarray | None = None
) -> torch.Tensor:
    """Waves [B, T] of the planned utterances, T = (F - 1) * HOP, zero beyond each length.

    The source (glottal pulses plus aspiration noise that is stronger in the open phase) is
    filtered frame by frame by the spectral envelope. With `impulses` the pulses are single
    samples (a buzz); with `max_voiced_hz` [B] the phase above that frequency is random
    (harmonics become noise, as in a harmonic-plus-noise vocoder)."""
    pulses, flow = glottal_source(plan, rng, impulses)
    batch, samples = pulses.shape
    floor = torch.from_numpy(plan.breath_floor)[:, None]
    aspiration = torch.from_numpy(plan.breath)[:, None] * (floor + (1 - floor) * flow)
    source = pulses + aspiration * noise_rows(rng, batch, samples)
    spectrum = torch.stft(source, N_FFT, HOP, window=WINDOW, return_complex=True) * spectral_envelope(plan)
    if max_voiced_hz is not None:
        above = torch.from_numpy(BIN_HZ[None, :] >= max_voiced_hz[:, None])[..., None]
        random_phase = torch.from_numpy(rng.random(spectrum.shape, dtype=np.float32)) * (2 * torch.pi)
        spectrum = torch.where(above, spectrum.abs() * torch.exp(1j * random_phase), spectrum)
    wave = torch.istft(spectrum, N_FFT, HOP, window=WINDOW, length=samples)
    return wave * valid_mask(plan.lengths, samples)


def valid_mask(lengths: np.ndarray, samples: int) -> torch.Tensor:
    """[B, samples] float: 1 within each utterance's length, 0 in the padding."""
    return (torch.arange(samples)[None] < torch.from_numpy(lengths)[:, None]).float()


# ---- vocoders: the spoofing attacks; `severity` [B] in [0, 1], 1 = the strongest artefacts ----


def griffin_lim(wave: torch.Tensor, lengths: np.ndarray, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    """Resynthesis from the STFT magnitude, smoothed over time, by 1–4 Griffin-Lim iterations
    (fewer for higher severity) from random phase."""
    batch, samples = wave.shape
    magnitude = torch.stft(wave, N_FFT, HOP, window=WINDOW, return_complex=True).abs()
    taps = 1 + 2 * np.round(severity).astype(int)
    magnitude = torch.from_numpy(smooth(magnitude.numpy().transpose(0, 2, 1), taps * HOP / SAMPLE_RATE).transpose(0, 2, 1).copy())
    iterations = 4 - np.round(3 * severity).astype(int)
    phase = torch.exp(2j * torch.pi * torch.from_numpy(rng.random(magnitude.shape, dtype=np.float32)))
    result = torch.zeros_like(wave)
    previous = torch.zeros_like(phase)
    for iteration in range(1, int(iterations.max()) + 1):
        estimate = torch.istft(magnitude * phase, N_FFT, HOP, window=WINDOW, length=samples)
        done = torch.from_numpy(iterations == iteration)
        result[done] = estimate[done]
        rebuilt = torch.stft(estimate, N_FFT, HOP, window=WINDOW, return_complex=True)
        accelerated = rebuilt - 0.99 / 1.99 * previous
        phase, previous = accelerated / accelerated.abs().clamp(min=1e-8), rebuilt
    return result * valid_mask(lengths, samples)


def harmonic_plus_noise(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    """Resynthesis from an over-smoothed plan: smoothed F0 and formant tracks, wider formants,
    no jitter, shimmer or aspiration, and noise instead of harmonics above a maximum voiced
    frequency of 6.5–3 kHz."""
    smoothed = replace(
        plan,
        f0_hz=smooth(plan.f0_hz, 0.05 + 0.15 * severity),
        formant_hz=smooth(plan.formant_hz, 0.05 + 0.15 * severity),
        bandwidth_hz=plan.bandwidth_hz * (1.3 + 1.2 * severity)[:, None, None],
        jitter=np.zeros_like(plan.jitter),
        shimmer=np.zeros_like(plan.shimmer),
        breath=np.full_like(plan.breath, 0.02),
        breath_floor=np.ones_like(plan.breath_floor),
    )
    return render(smoothed, rng, max_voiced_hz=6500 - 3500 * severity)


def lpc_vocoder(plan: Plan, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    """A buzz/noise-excited all-pole vocoder: impulse excitation in voiced frames and noise in
    the others (a hard voicing decision), parameters held over 2–4 frames, a one-pole model of
    the glottal spectral tilt, wider formants."""
    hold = 2 + np.round(2 * severity).astype(int)  # frames
    frame = np.arange(plan.f0_hz.shape[1])[None] // hold[:, None] * hold[:, None]  # [B, F]

    def held(track: np.ndarray) -> np.ndarray:
        index = frame.reshape(frame.shape + (1,) * (track.ndim - 2))
        return np.take_along_axis(track, np.broadcast_to(index, frame.shape + track.shape[2:]), 1)

    voiced = (held(plan.voicing) > 0.5).astype(np.float32)
    held_plan = replace(
        plan,
        f0_hz=held(plan.f0_hz),
        formant_hz=held(plan.formant_hz),
        bandwidth_hz=held(plan.bandwidth_hz) * (1.2 + 0.6 * severity)[:, None, None],
        voicing=voiced,
        voiced_gain=held(plan.voiced_gain + plan.fricative_gain) * voiced,
        fricative_gain=held(plan.voiced_gain + plan.fricative_gain) * (1 - voiced),
        fricative_hz=held(plan.fricative_hz),
        jitter=np.zeros_like(plan.jitter),
        shimmer=np.zeros_like(plan.shimmer),
        breath=np.full_like(plan.breath, 0.02),
        breath_floor=np.ones_like(plan.breath_floor),
        tilt_pole=(0.97 - 0.12 * severity).astype(np.float32),
    )
    return render(held_plan, rng, impulses=True)


def codec(wave: torch.Tensor, lengths: np.ndarray, rng: np.random.Generator, severity: np.ndarray) -> torch.Tensor:
    """A lossy codec: band limit at 7.5–4 kHz, log-magnitude quantised in steps of 1–6 dB per
    STFT bin, then μ-law quantisation to 8–6 bits."""
    batch, samples = wave.shape
    spectrum = torch.stft(wave, N_FFT, HOP, window=WINDOW, return_complex=True)
    cutoff = torch.from_numpy(BIN_HZ[None, :] < (7500 - 3500 * severity)[:, None])[..., None]
    step_db = torch.from_numpy(1 + 5 * severity.astype(np.float32))[:, None, None]
    magnitude = spectrum.abs().clamp(min=1e-7)
    quantised = 10 ** (torch.round(20 * torch.log10(magnitude) / step_db) * step_db / 20)
    spectrum = spectrum * (quantised / magnitude) * cutoff
    wave = torch.istft(spectrum, N_FFT, HOP, window=WINDOW, length=samples)
    peak = wave.abs().amax(1, keepdim=True).clamp(min=1e-7)
    mu = torch.from_numpy(2.0 ** (8 - np.round(2 * severity)) - 1)[:, None].float()
    companded = torch.sign(wave) * torch.log1p(mu * wave.abs() / peak) / torch.log1p(mu)
    companded = torch.round(companded * (mu + 1) / 2) / ((mu + 1) / 2)
    expanded = torch.sign(companded) * (torch.pow(1 + mu, companded.abs()) - 1) / mu * peak
    return expanded * valid_mask(lengths, samples)


# ---- the recording channel, identical for bona fide and spoofed speech ----


def channel(wave: torch.Tensor, lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour, add a noise floor, set the level and quantise to 16 bits: [B, T] → int16 [B, T].

    Colouring: a first-order tilt and a three-tap low-pass. Noise floor: 35–60 dB below the
    speech RMS. Level: the mean of the RMS and peak levels drawn from -32…-18 dBFS."""
    batch, samples = wave.shape
    mask = valid_mask(lengths, samples)
    tilt = torch.from_numpy(rng.uniform(-0.3, 0.5, (batch, 1)).astype(np.float32))
    wave = wave - tilt * torch.nn.functional.pad(wave[:, :-1], (1, 0))
    lowpass = torch.from_numpy(rng.uniform(0, 0.35, (batch, 1)).astype(np.float32))
    neighbours = torch.nn.functional.pad(wave[:, :-1], (1, 0)) + torch.nn.functional.pad(wave[:, 1:], (0, 1))
    wave = ((1 - lowpass) * wave + 0.5 * lowpass * neighbours) * mask
    count = torch.from_numpy(lengths)[:, None].float()
    rms = (wave.square().sum(1, keepdim=True) / count).sqrt()
    snr_db = torch.from_numpy(rng.uniform(35, 60, (batch, 1)).astype(np.float32))
    wave = wave + noise_rows(rng, batch, samples) * rms * 10 ** (-snr_db / 20) * mask
    rms_db = 10 * torch.log10(wave.square().sum(1, keepdim=True) / count)
    peak_db = 20 * torch.log10(wave.abs().amax(1, keepdim=True))
    target_db = torch.from_numpy(rng.uniform(-32, -18, (batch, 1)).astype(np.float32))
    wave = wave * 10 ** ((target_db - (rms_db + peak_db) / 2) / 20)
    return torch.round(wave * 32768).clamp(-32768, 32767).to(torch.int16).numpy()
