"""Speech-like signals for the Synthetic corpus: voices, utterance plans, rendering, vocoders, channel.

An utterance is first *planned* as parameter tracks (F0, formants, voicing, frication) at the
frame rate SAMPLE_RATE / HOP, then *rendered* as a spectrogram: a glottal pulse train (Rosenberg
pulses read at an accumulated phase, with jitter and shimmer) plus aspiration and fricative
noise, whose STFT is multiplied frame by frame by all-pole resonance envelopes; `to_wave`
overlap-adds it back into a wave. The vocoders (the spoofing attacks) re-render a degraded plan
or degrade a rendered spectrogram; `channel` records any of them the same way.

Every function works on a batch of B utterances padded to a common length T = (F - 1) * HOP
samples (F frames); spectrograms are complex [B, F, N_BINS]. All randomness comes from the
numpy Generator passed in (and from fixed tables of noise), so a seed fixes every sample.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
import torchaudio
from scipy.ndimage import convolve1d

from conventions import SAMPLE_RATE

N_FFT = 512  # samples; the Hann window of every STFT here
HOP = N_FFT // 2  # samples; one frame of the parameter tracks and of the STFTs (16 ms)
N_BINS = N_FFT // 2 + 1
BIN_HZ = np.arange(N_BINS) * SAMPLE_RATE / N_FFT
WINDOW = torch.hann_window(N_FFT)
# the synthesis window that makes overlap-add (at half-window hops) invert the STFT exactly
SYNTHESIS_WINDOW = WINDOW / (WINDOW[:HOP] ** 2 + WINDOW[HOP:] ** 2).repeat(2)

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
HIGHER_FORMANT_HZ = np.array([4500, 5500, 6500], dtype=np.float32)  # F5–F7, the same for every voice
BANDWIDTH_HZ = np.array([60, 90, 120, 180, 200, 300, 400], dtype=np.float32)  # B1–B7

# Phonetic units: vowel, nasal, fricative, pause; their probability and duration range (s).
VOWEL, NASAL, FRICATIVE, PAUSE = range(4)
UNIT_PROBABILITY = [0.6, 0.13, 0.2, 0.07]
UNIT_SECONDS = np.array([[0.07, 0.22], [0.04, 0.1], [0.06, 0.16], [0.06, 0.25]], dtype=np.float32)
MAX_UNITS = 64  # more than the longest utterance needs

NOISE_SEED = 20240917  # of the tables of noise and random phase that every random signal reads from
NOISE_TABLE_SIZE = 1 << 22  # more than the spectrogram of the largest batch
GLOTTAL_TABLE_SIZE = 1024  # samples of one glottal period in the pulse look-up table


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker."""

    f0_hz: float  # median fundamental frequency
    tract: float  # scale of F1-F4: 1 for a long (adult male) vocal tract, ~1.2 for a short one
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
    formant_hz: np.ndarray  # [B, F, 7]
    bandwidth_hz: np.ndarray  # [B, F, 7]
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
    lead = rng.uniform(0.02, 0.1, (batch, 1)).astype(np.float32)
    trail = rng.uniform(0.02, 0.1, (batch, 1)).astype(np.float32)
    end = lead + np.cumsum(duration, axis=1)
    unit = np.minimum((t[:, :, None] >= end[:, None, :]).sum(-1), MAX_UNITS - 1)  # [B, F]
    position = 1 - (np.take_along_axis(end, unit, 1) - t) / np.take_along_axis(duration, unit, 1)
    kind = np.take_along_axis(kind, unit, 1)
    kind[(t < lead) | (t >= seconds - trail)] = PAUSE

    def per_unit(values: np.ndarray) -> np.ndarray:
        return np.take_along_axis(values, unit, 1)

    # Formants: a vowel target per unit (a nasal murmur in nasals) scaled by the tract, then F5-F7.
    vowel = rng.integers(0, len(VOWEL_HZ), (batch, MAX_UNITS))
    targets = VOWEL_HZ[vowel] * (1 + 0.04 * rng.standard_normal((batch, MAX_UNITS, 4), dtype=np.float32))
    formants = np.take_along_axis(targets, unit[:, :, None], 1)
    formants[kind == NASAL] = NASAL_HZ
    higher = np.broadcast_to(HIGHER_FORMANT_HZ, (batch, frames, len(HIGHER_FORMANT_HZ)))
    formants = smooth(np.concatenate([formants * tract[:, :, None], higher], axis=2), 0.06)
    bandwidths = BANDWIDTH_HZ * (1 + 0.15 * rng.standard_normal((batch, 1, len(BANDWIDTH_HZ)), dtype=np.float32))
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
        voicing=smooth((voiced > 0).astype(np.float32), 0.03),
        voiced_gain=smooth((voiced * unit_level).astype(np.float32), 0.05),
        fricative_gain=smooth((fricative * unit_level).astype(np.float32), 0.03),
        fricative_hz=smooth(fricative_hz, 0.03),
        fricative_bandwidth_hz=fricative_bandwidth,
        open_phase=voice["open_phase"],
        close_phase=voice["close_phase"],
        jitter=voice["jitter"],
        shimmer=voice["shimmer"],
        breath=voice["breath"],
        breath_floor=np.full(batch, 0.3, np.float32),
    )


@functools.cache
def _noise_table() -> torch.Tensor:
    """Gaussian white noise [NOISE_TABLE_SIZE] from NOISE_SEED, read by every noise source."""
    return torch.from_numpy(np.random.default_rng(NOISE_SEED).standard_normal(NOISE_TABLE_SIZE, dtype=np.float32))


@functools.cache
def _phasor_table() -> torch.Tensor:
    """Unit complex numbers of uniformly random phase [NOISE_TABLE_SIZE] from NOISE_SEED."""
    angle = np.random.default_rng(NOISE_SEED + 1).uniform(0, 2 * np.pi, NOISE_TABLE_SIZE).astype(np.float32)
    return torch.polar(torch.ones(NOISE_TABLE_SIZE), torch.from_numpy(angle))


def noise_rows(rng: np.random.Generator, batch: int, samples: int) -> torch.Tensor:
    """White Gaussian noise [batch, samples]: stretches of the noise table from random offsets."""
    offsets = torch.from_numpy(rng.integers(0, NOISE_TABLE_SIZE - samples, batch))
    return _noise_table().unfold(0, samples, 1)[offsets]


def random_phasors(rng: np.random.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """exp(i θ) with θ uniform in [0, 2π), `shape`: a stretch of the phasor table from a random offset."""
    count = int(np.prod(shape))
    offset = int(rng.integers(0, NOISE_TABLE_SIZE - count))
    return _phasor_table()[offset : offset + count].reshape(shape)


def glottal_flow_table(open_phase: np.ndarray, close_phase: np.ndarray) -> torch.Tensor:
    """Rosenberg glottal flow over one period, [B, GLOTTAL_TABLE_SIZE], peak 1."""
    phase = (np.arange(GLOTTAL_TABLE_SIZE, dtype=np.float32) + 0.5) / GLOTTAL_TABLE_SIZE
    opening = np.clip(phase / open_phase[:, None], 0, 1)
    closing = np.clip((phase - open_phase[:, None]) / close_phase[:, None], 0, 1)
    return torch.from_numpy(0.5 * (1 - np.cos(np.pi * opening)) * np.cos(0.5 * np.pi * closing))


def glottal_source(plan: Plan, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The voiced excitation [B, T] and the glottal flow [B, T].

    The excitation is the differentiated glottal flow, with jitter and shimmer, scaled to unit
    power per unit pulse amplitude. The flow (0 between pulses) modulates the aspiration noise."""
    f0 = torch.from_numpy(plan.f0_hz)
    batch, frames = f0.shape
    samples = (frames - 1) * HOP
    # Phase in periods: cumulative at the frames, linear in between.
    frame_phase = torch.cumsum(f0, 1) * (HOP / SAMPLE_RATE)
    frame_phase = torch.cat([torch.zeros(batch, 1), frame_phase[:, :-1]], 1)
    phase = torch.nn.functional.interpolate(frame_phase[:, None], size=samples + 1, mode="linear", align_corners=True)
    phase = phase[:, 0, :samples]
    # Per period: amplitude (the voicing gate at its start, with shimmer) and closure offset (jitter).
    periods = int(frame_phase[:, -1].max()) + 3
    starts = torch.searchsorted(frame_phase, torch.arange(periods, dtype=torch.float32).expand(batch, -1).contiguous())
    gate = torch.gather(torch.from_numpy(plan.voicing), 1, starts.clamp(max=frames - 1))
    shimmer = plan.shimmer[:, None] * rng.standard_normal((batch, periods), dtype=np.float32)
    amplitude = gate * (1 + torch.from_numpy(shimmer))
    offset = torch.from_numpy(plan.jitter[:, None] * rng.standard_normal((batch, periods), dtype=np.float32))
    offset[:, 0] = 0
    # delaying the phase by a constant within each period moves its start (in the closed phase)
    phase = phase - torch.gather(offset, 1, phase.long())
    period = phase.long()
    pulse_amplitude = torch.gather(amplitude, 1, period)
    index = ((phase - period) * GLOTTAL_TABLE_SIZE).long()
    flow = torch.gather(glottal_flow_table(plan.open_phase, plan.close_phase), 1, index) * pulse_amplitude
    source = torch.diff(flow, dim=1, prepend=flow[:, :1])
    power_per_amplitude = source.square().sum(1, keepdim=True) / pulse_amplitude.square().sum(1, keepdim=True)
    return source * power_per_amplitude.clamp(min=1e-12).rsqrt(), flow


def all_pole_response(pole_hz: torch.Tensor, bandwidth_hz: torch.Tensor) -> torch.Tensor:
    """|1 / A(f)| at the STFT bins for the all-pole filter A with one conjugate pole pair per
    resonance (pole_hz, bandwidth_hz [..., R]) → [..., N_BINS]."""
    radius = torch.exp(-torch.pi * bandwidth_hz / SAMPLE_RATE)
    c1 = -2 * radius * torch.cos(2 * torch.pi * pole_hz / SAMPLE_RATE)
    c2 = radius**2
    poly = torch.zeros(*pole_hz.shape[:-1], 2 * pole_hz.shape[-1] + 1)
    poly[..., 0] = 1
    for r in range(pole_hz.shape[-1]):
        previous = poly.clone()
        poly[..., 1:] += c1[..., r : r + 1] * previous[..., :-1]
        poly[..., 2:] += c2[..., r : r + 1] * previous[..., :-2]
    # A(f) = Σ_n poly[n] exp(-2πi f n / fs), as two real matrix products
    angle = torch.outer(torch.arange(poly.shape[-1], dtype=torch.float32), torch.from_numpy(BIN_HZ).float())
    angle = angle * (2 * torch.pi / SAMPLE_RATE)
    return (torch.square(poly @ torch.cos(angle)) + torch.square(poly @ torch.sin(angle))).rsqrt()


def spectral_envelope(plan: Plan) -> torch.Tensor:
    """Amplitude envelope [B, F, N_BINS] by which each STFT frame of the source is multiplied:
    the voiced (formant) response with unity gain at 0 Hz plus the fricative response with unity
    gain at its resonance, each times its gain track (computed only where that gain is not 0)."""
    envelope = torch.zeros(*plan.f0_hz.shape, N_BINS)
    voiced = torch.from_numpy(plan.voiced_gain > 0)
    if voiced.any():
        formants, bandwidths = torch.from_numpy(plan.formant_hz), torch.from_numpy(plan.bandwidth_hz)
        response = all_pole_response(formants[voiced], bandwidths[voiced])
        envelope[voiced] = response * (torch.from_numpy(plan.voiced_gain)[voiced][:, None] / response[:, :1])
    fricative = torch.from_numpy(plan.fricative_gain > 0)
    if fricative.any():
        response = all_pole_response(
            torch.from_numpy(plan.fricative_hz)[fricative][:, None],
            torch.from_numpy(plan.fricative_bandwidth_hz)[fricative][:, None],
        )
        # the source noise outside the glottal open phase has amplitude breath * breath_floor
        noise = np.broadcast_to((plan.breath * plan.breath_floor)[:, None], fricative.shape)[fricative.numpy()]
        gain = torch.from_numpy(plan.fricative_gain)[fricative] / torch.from_numpy(noise)
        envelope[fricative] += response * (gain[:, None] / response.amax(1, keepdim=True))
    return envelope


def stft(wave: torch.Tensor) -> torch.Tensor:
    """[B, T] → complex [B, T // HOP + 1, N_BINS] (frame f centred on sample f * HOP)."""
    return torch.stft(wave, N_FFT, HOP, window=WINDOW, pad_mode="constant", return_complex=True).transpose(1, 2)


def to_wave(spectrogram: torch.Tensor, lengths: np.ndarray) -> torch.Tensor:
    """Inverse of `stft` by overlap-add: [B, F, N_BINS] → [B, (F - 1) * HOP], zero beyond each length."""
    frames = torch.fft.irfft(spectrogram, n=N_FFT) * SYNTHESIS_WINDOW
    wave = (frames[:, 1:, :HOP] + frames[:, :-1, HOP:]).reshape(len(frames), -1)
    return zero_padding(wave, lengths)


def zero_padding(wave: torch.Tensor, lengths: np.ndarray) -> torch.Tensor:
    """`wave` [B, T] with the samples beyond each row's length set to 0 (in place)."""
    for row, length in enumerate(lengths):
        wave[row, length:] = 0
    return wave


def power(spectrogram: torch.Tensor) -> torch.Tensor:
    """|spectrogram|² as a real tensor (cheaper than abs() of a complex one)."""
    return spectrogram.real.square() + spectrogram.imag.square()


def render(plan: Plan, rng: np.random.Generator) -> torch.Tensor:
    """The spectrogram [B, F, N_BINS] of the planned utterances: the source (glottal pulses plus
    aspiration noise, stronger in the glottal open phase) filtered frame by frame by the spectral
    envelope."""
    pulses, flow = glottal_source(plan, rng)
    floor = torch.from_numpy(plan.breath_floor)[:, None]
    aspiration = torch.from_numpy(plan.breath)[:, None] * (floor + (1 - floor) * flow)
    source = pulses + aspiration * noise_rows(rng, *pulses.shape)
    return stft(source) * spectral_envelope(plan)


# ---- vocoders (the spoofing attacks); every parameter is an array [B], one value per utterance ----


@functools.cache
def mel_smoothing(top_hz: float) -> torch.Tensor:
    """[N_BINS, N_BINS]: magnitude → 80 mel-band means up to top_hz → bins (interpolated); zero above."""
    bands = torchaudio.functional.melscale_fbanks(N_BINS, 0.0, top_hz, 80, SAMPLE_RATE)  # [N_BINS, 80]
    analysis = bands / bands.sum(0, keepdim=True).clamp(min=1e-8)
    synthesis = bands / bands.sum(1, keepdim=True).clamp(min=1e-8)
    return analysis @ synthesis.T


def griffin_lim(
    spectrogram: torch.Tensor,
    lengths: np.ndarray,
    rng: np.random.Generator,
    top_hz: np.ndarray,
    exponent: np.ndarray,
    iterations: np.ndarray,
) -> torch.Tensor:
    """Wave [B, T] of a mel-spectrogram vocoder: the magnitude of `spectrogram` reduced to 80 mel
    bands up to `top_hz` and back, smoothed over 3 frames (an over-smoothing acoustic model),
    raised to `exponent` (sharper spectra; each frame keeps its energy), then `iterations` fast
    Griffin-Lim iterations from random phase."""
    smoothing = torch.stack([mel_smoothing(float(np.round(hz, -2))) for hz in top_hz])  # top_hz to 100 Hz
    magnitude = torch.bmm(power(spectrogram).sqrt(), smoothing)
    magnitude[:, 1:-1] = 0.5 * magnitude[:, 1:-1] + 0.25 * (magnitude[:, :-2] + magnitude[:, 2:])
    sharpened = magnitude.clamp(min=1e-10) ** torch.from_numpy(exponent).float()[:, None, None]
    frame_energy = magnitude.square().sum(2, keepdim=True) / sharpened.square().sum(2, keepdim=True)
    magnitude = sharpened * frame_energy.sqrt()
    wave = torch.zeros(magnitude.shape[0], (magnitude.shape[1] - 1) * HOP)
    rows = np.arange(len(iterations))  # the utterances still iterating
    phase = random_phasors(rng, magnitude.shape)
    previous = torch.zeros_like(phase)
    for iteration in range(1, int(iterations.max()) + 1):
        rebuilt = stft(to_wave(magnitude * phase, lengths[rows]))
        accelerated = rebuilt - 0.99 / 1.99 * previous  # momentum 0.99, as in torchaudio
        phase, previous = accelerated * (power(accelerated) + 1e-16).rsqrt(), rebuilt
        done = iterations[rows] == iteration
        if done.any():
            wave[rows[done]] = to_wave(magnitude[done] * phase[done], lengths[rows[done]])
        rows, magnitude, phase, previous = rows[~done], magnitude[~done], phase[~done], previous[~done]
    return wave


def harmonic_plus_noise(
    plan: Plan,
    rng: np.random.Generator,
    smoothing_s: np.ndarray,
    bandwidth_factor: np.ndarray,
    max_voiced_hz: np.ndarray,
    noise_db: np.ndarray,
) -> torch.Tensor:
    """Spectrogram [B, F, N_BINS] resynthesised from an over-smoothed plan: F0 and formant tracks
    smoothed over `smoothing_s` seconds, formant bandwidths times `bandwidth_factor`, no jitter,
    shimmer or aspiration; above `max_voiced_hz` the harmonics become noise (random phase) at
    `noise_db` relative to their level."""
    smoothed = replace(
        plan,
        f0_hz=smooth(plan.f0_hz, smoothing_s),
        formant_hz=smooth(plan.formant_hz, smoothing_s),
        bandwidth_hz=plan.bandwidth_hz * bandwidth_factor[:, None, None].astype(np.float32),
        jitter=np.zeros_like(plan.jitter),
        shimmer=np.zeros_like(plan.shimmer),
        breath=np.full_like(plan.breath, 0.02),
        breath_floor=np.ones_like(plan.breath_floor),
    )
    spectrogram = render(smoothed, rng)
    above = torch.from_numpy(BIN_HZ[None, :] >= max_voiced_hz[:, None])[:, None, :]
    noise = random_phasors(rng, spectrogram.shape) * torch.from_numpy(10 ** (noise_db / 20)).float()[:, None, None]
    return torch.where(above, spectrogram * noise, spectrogram)


def lpc_vocoder(
    plan: Plan,
    rng: np.random.Generator,
    hold_frames: np.ndarray,
    bandwidth_factor: np.ndarray,
    high_bandwidth_factor: np.ndarray,
) -> torch.Tensor:
    """Spectrogram [B, F, N_BINS] of a pulse/noise-excited all-pole vocoder: one fixed smooth
    glottal pulse for every voice in voiced frames and noise in the others (a hard voicing
    decision), no jitter, shimmer or aspiration, parameters held over `hold_frames` frames,
    formant bandwidths times `bandwidth_factor` (F5-F7, poorly modelled by a low order, also
    times `high_bandwidth_factor`)."""
    frame = np.arange(plan.f0_hz.shape[1])[None] // hold_frames[:, None] * hold_frames[:, None]  # [B, F]

    def held(track: np.ndarray) -> np.ndarray:
        index = frame.reshape(frame.shape + (1,) * (track.ndim - 2))
        return np.take_along_axis(track, np.broadcast_to(index, frame.shape + track.shape[2:]), 1)

    voiced = (held(plan.voicing) > 0.5).astype(np.float32)
    loudness = held(plan.voiced_gain + plan.fricative_gain)
    widening = np.ones((len(hold_frames), 1, plan.bandwidth_hz.shape[2]), np.float32)
    widening[:, :, 4:] = high_bandwidth_factor[:, None, None]
    vocoded = replace(
        plan,
        f0_hz=held(plan.f0_hz),
        formant_hz=held(plan.formant_hz),
        bandwidth_hz=held(plan.bandwidth_hz) * widening * bandwidth_factor[:, None, None].astype(np.float32),
        voicing=voiced,
        voiced_gain=loudness * voiced,
        fricative_gain=loudness * (1 - voiced),
        fricative_hz=held(plan.fricative_hz),
        open_phase=np.full_like(plan.open_phase, 0.5),
        close_phase=np.full_like(plan.close_phase, 0.35),
        jitter=np.zeros_like(plan.jitter),
        shimmer=np.zeros_like(plan.shimmer),
        breath=np.full_like(plan.breath, 0.02),
        breath_floor=np.ones_like(plan.breath_floor),
    )
    return render(vocoded, rng)


def codec(
    spectrogram: torch.Tensor, lengths: np.ndarray, bits: np.ndarray, cutoff_hz: np.ndarray, step_db: np.ndarray
) -> torch.Tensor:
    """Wave [B, T] through a lossy codec: `bits`-bit mu-law quantisation, then a band limit at
    `cutoff_hz` and STFT magnitudes quantised in steps of `step_db`."""
    wave = to_wave(spectrogram, lengths)
    peak = wave.abs().amax(1, keepdim=True).clamp(min=1e-7)
    mu = torch.from_numpy(2.0**bits - 1).float()[:, None]
    companded = torch.sign(wave) * torch.log1p(mu * wave.abs() / peak) / torch.log1p(mu)
    companded = torch.round(companded * (mu + 1) / 2) / ((mu + 1) / 2)
    spectrogram = stft(torch.sign(companded) * torch.expm1(companded.abs() * torch.log1p(mu)) / mu * peak)
    passband = torch.from_numpy(BIN_HZ[None, :] < cutoff_hz[:, None])[:, None, :]
    step = torch.from_numpy(step_db).float()[:, None, None]
    level_db = 10 * torch.log10(power(spectrogram) + 1e-12)
    gain = 10 ** ((torch.round(level_db / step) * step - level_db) / 20) * passband
    return to_wave(spectrogram * gain, lengths)


# ---- the recording channel, identical for bona fide and spoofed speech ----


def channel(wave: torch.Tensor, lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour, add a noise floor, set the level and quantise to 16 bits: [B, T] → int16 [B, T].

    Colouring: a first-order tilt x[n] - a x[n-1] (a in -0.15…0.3) then a three-tap low-pass
    (c/2, 1 - c, c/2) (c in 0…0.25). Noise floor: white, 60-70 dB below the speech RMS. Level:
    the mean of the RMS and peak levels (dBFS) is drawn from -18…-12, which hides differences of
    crest factor between kinds of speech in both the RMS and the peak level."""
    batch, samples = wave.shape
    a = rng.uniform(-0.15, 0.3, batch).astype(np.float32)
    c = rng.uniform(0, 0.25, batch).astype(np.float32)
    # the two filters as one 4-tap FIR h[-1..2], applied per row by a grouped convolution
    taps = np.stack([-a * c / 2, c / 2 - a * (1 - c), 1 - c - a * c / 2, c / 2], axis=1)  # h[2], h[1], h[0], h[-1]
    padded = torch.nn.functional.pad(wave, (2, 1))[None]
    wave = torch.nn.functional.conv1d(padded, torch.from_numpy(taps)[:, None], groups=batch)[0]
    count = torch.from_numpy(lengths)[:, None].float()
    rms = (zero_padding(wave, lengths).square().sum(1, keepdim=True) / count).sqrt()
    snr_db = torch.from_numpy(rng.uniform(60, 70, (batch, 1)).astype(np.float32))
    wave = zero_padding(wave + noise_rows(rng, batch, samples) * (rms * 10 ** (-snr_db / 20)), lengths)
    rms_db = 10 * torch.log10(wave.square().sum(1, keepdim=True) / count)
    peak_db = 20 * torch.log10(wave.abs().amax(1, keepdim=True))
    target_db = torch.from_numpy(rng.uniform(-18, -12, (batch, 1)).astype(np.float32))
    wave = wave * 10 ** ((target_db - (rms_db + peak_db) / 2) / 20)
    return torch.round(wave * 32768).clamp(-32768, 32767).to(torch.int16).numpy()
