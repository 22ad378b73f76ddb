"""The offline mini-benchmark: real prompt recordings vs TTS and vocoded speech, in the ASVspoof 2019 LA layout.

Two stages (scripts/build_minibench.sh runs both after installing the Debian packages):

    python scripts/minibench.py prepare RAW_DIR    # needs the apt packages: picks prompts, runs the TTS systems
    python scripts/minibench.py build RAW_DIR OUT_DIR   # pure Python: vocoders, channel chain, layout, cue report

`prepare` writes RAW_DIR/manifest.tsv (one raw wave per line: key speaker set prompt attack path text) and
RAW_DIR/splits.tsv (speaker split). `build` reads only those two files and the waves they name, so it runs
(and is tested) without any apt package. It adds the vocoded spoofs (Griffin-Lim, an LPC vocoder, WORLD when
pyworld is importable) from the bona fide waves, passes EVERY wave, bona fide and spoof, through the same
channel chain (`channel`), and writes

    OUT_DIR/LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    OUT_DIR/LA/ASVspoof2019_LA_{train,dev,eval}/flac/<utt_id>.flac     (16 kHz mono, PCM 16)
    OUT_DIR/minibench_meta.tsv      every utterance: utt_id split speaker set prompt key attack system cues
    OUT_DIR/minibench_report.txt    composition per split and the EERs of trivial classifiers on the cues
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
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

# ----- attacks: fixed ids, one per system / voice family -----


@dataclass(frozen=True)
class Attack:
    id: str
    system: str
    kind: str  # "tts" or "vocoder"
    splits: tuple[str, ...]  # the splits whose speakers get this attack
    package: str  # Debian package(s) or Python module it comes from


ATTACKS = {
    attack.id: attack
    for attack in (
        Attack("A01", "espeak-ng (formant synthesis; en-us, es-419, fr-fr, it, ru, several voice variants)", "tts", SPLITS, "espeak-ng"),
        Attack("A02", "flite (CMU voices kal, kal16, awb, rms, slt)", "tts", ("train",), "flite"),
        Attack("A03", "festival diphone voices (kal, ked; Italian lp, pc)", "tts", SPLITS,
               "festival festvox-kallpc16k festvox-kdlpc16k festvox-italp16k festvox-itapc16k festlex-ifd"),
        Attack("A04", "festival HTS (cmu_us_slt_arctic_hts)", "tts", ("train",), "festival festvox-us-slt-hts"),
        Attack("A05", "festival clunits unit selection (msu_ru_nsh, Russian)", "tts", ("eval",), "festival festvox-ru"),
        Attack("A06", "espeak-ng + mbrola diphones", "tts", ("train", "dev"), "espeak-ng mbrola mbrola-us1 ..."),
        Attack("A07", "SVOX pico (pico2wave)", "tts", ("train", "dev"), "libttspico-utils"),
        Attack("A10", "Griffin-Lim resynthesis (linear STFT magnitude, 32 iterations)", "vocoder", SPLITS, "torchaudio"),
        Attack("A11", "LPC vocoder (order-12 LPC, pulse/noise excitation from an autocorrelation F0 track)", "vocoder",
               ("eval",), "numpy"),
        Attack("A12", "WORLD analysis/synthesis (pyworld)", "vocoder", ("train", "dev"), "pyworld (pip, optional)"),
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


def band_pass(wave: np.ndarray, rate: int = NARROW_RATE) -> np.ndarray:
    sos = butter(6, BAND_HZ, btype="bandpass", fs=rate, output="sos")
    return sosfiltfilt(sos, wave).astype(np.float32)


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
    """Duration of the speech after the chain's band-pass and trimming (what `prepare` matches TTS to)."""
    narrow = band_pass(resample(wave, rate, NARROW_RATE))
    start, end = speech_bounds(narrow, NARROW_RATE)
    return (end - start) / NARROW_RATE


def mu_law_round_trip(wave: np.ndarray) -> np.ndarray:
    x = np.clip(wave, -1.0, 1.0)
    encoded = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    codes = np.round((encoded + 1) / 2 * MU)  # 256 levels
    decoded = codes / MU * 2 - 1
    return (np.sign(decoded) * ((1 + MU) ** np.abs(decoded) - 1) / MU).astype(np.float32)


def channel(wave: np.ndarray, rate: int, seed: int) -> np.ndarray:
    """The common chain: any rate -> 8 kHz -> 200-3400 Hz band-pass -> trim leading/trailing silence ->
    RMS to TARGET_RMS_DB -> PAD_S of padding each end -> common noise floor NOISE_SNR_DB below the speech,
    band-passed -> mu-law 8-bit round trip -> 16 kHz -> TPDF dither of one 16-bit step. float32 at OUT_RATE."""
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
    wide = resample(mu_law_round_trip(mixed.astype(np.float32)), NARROW_RATE, OUT_RATE)
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


def lpc_vocoder(wave: np.ndarray, rate: int, seed: int) -> np.ndarray:
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

CUES = ("hf_db", "rms_db", "duration_s", "lead_silence_s")


def cues(wave: np.ndarray, rate: int = OUT_RATE) -> dict[str, float]:
    """Energy above CUTOFF_HZ relative to the total (dB), RMS (dBFS), duration, leading silence (time to the
    first 20 ms frame within 30 dB of the loudest)."""
    spectrum = np.abs(np.fft.rfft(wave.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(wave), 1 / rate)
    high = spectrum[frequencies > CUTOFF_HZ + 100].sum()
    energies = frame_db(wave, rate)
    first = int(np.flatnonzero(energies > energies.max() - 30)[0])
    return {
        "hf_db": float(10 * np.log10(high / (spectrum.sum() + 1e-20) + 1e-20)),
        "rms_db": float(10 * np.log10(np.mean(wave.astype(np.float64) ** 2) + 1e-20)),
        "duration_s": len(wave) / rate,
        "lead_silence_s": first * FRAME_S,
    }


def single_cue_eer(bonafide: np.ndarray, spoof: np.ndarray) -> float:
    """EER of one cue used as the score, in whichever direction is better for it. A cue with many tied values
    (the leading silence, which the chain makes the same for all) can give both directions an EER above 50 %
    on the DET curve; its EER is then reported as 50 % (chance)."""
    eer = compute_eer(bonafide, spoof)[0]
    return min(eer, compute_eer(-bonafide, -spoof)[0], 0.5)


def logistic_eer(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    """EER on (test_x, test_y) of a logistic regression on the standardised cues fitted on the training rows
    (y = 1 for bona fide)."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-9
    a, b = (train_x - mean) / std, (test_x - mean) / std
    weights = np.zeros(a.shape[1] + 1)
    design = np.hstack([a, np.ones((len(a), 1))])
    balance = np.where(train_y == 1, 0.5 / max(1, train_y.sum()), 0.5 / max(1, (1 - train_y).sum()))
    for _ in range(2000):
        p = 1 / (1 + np.exp(-design @ weights))
        weights -= 0.5 * (design.T @ ((p - train_y) * balance) + 1e-3 * weights)
    scores = np.hstack([b, np.ones((len(b), 1))]) @ weights
    return compute_eer(scores[test_y == 1], scores[test_y == 0])[0]


# ----- build: raw manifest -> ASVspoof 2019 LA layout -----

MANIFEST_COLUMNS = ("key", "speaker", "set", "prompt", "attack", "path", "text")


def read_table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))


def write_table(path: Path, rows: list[dict], columns: tuple[str, ...] | list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, columns, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\",
                                extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def stable_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "little")


def sample(items: list, count: int, *seed: object) -> list:
    """`count` of `items` (all when fewer), the same for the same seed parts, in a stable order."""
    if len(items) <= count:
        return list(items)
    rng = np.random.default_rng(stable_seed(*seed))
    return [items[i] for i in sorted(rng.choice(len(items), size=count, replace=False))]


def plan_vocoded(bonafide: list[dict], splits: dict[str, str], per_attack: int, vocoders: tuple[str, ...]) -> list[dict]:
    """Spoof rows made by the vocoders from the bona fide rows of the speakers of their splits."""
    rows = []
    sets = sorted({(row["speaker"], row["set"]) for row in bonafide})
    for attack in vocoders:
        for speaker, voice_set in sets:
            if splits[speaker] not in ATTACKS[attack].splits:
                continue
            sources = [row for row in bonafide if row["speaker"] == speaker and row["set"] == voice_set]
            for row in sample(sources, per_attack, attack, speaker, voice_set):
                rows.append({**row, "key": "spoof", "attack": attack})
    return rows


def build(raw: Path, out: Path, per_attack: int = 24, vocoders: tuple[str, ...] | None = None, seed: int = 0,
          log=print) -> dict:
    """Write the layout under `out` from raw/manifest.tsv and raw/splits.tsv; returns the report's numbers."""
    torch.set_num_threads(1)
    raw, out = Path(raw), Path(out)
    manifest = read_table(raw / "manifest.tsv")
    splits = {row["speaker"]: row["split"] for row in read_table(raw / "splits.tsv")}
    for row in manifest:
        if row["speaker"] not in splits:
            raise SystemExit(f"{raw / 'splits.tsv'} gives no split for speaker {row['speaker']}")
        if splits[row["speaker"]] not in SPLITS:
            raise SystemExit(f"{raw / 'splits.tsv'}: split {splits[row['speaker']]!r} is not train, dev or eval")
    if vocoders is None:
        vocoders = tuple(a for a in VOCODER_IDS if a != "A12" or world_available())
        if "A12" not in vocoders:
            log("minibench: pyworld is not importable; the WORLD vocoder (A12) is left out")
    bonafide = [row for row in manifest if row["key"] == "bonafide"]
    rows = [row for row in manifest] + plan_vocoded(bonafide, splits, per_attack, vocoders)

    # utt ids: shuffled within each split, so that neither order nor number tells the label
    rng = np.random.default_rng(seed)
    by_split: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for row in rows:
        by_split[splits[row["speaker"]]].append(row)
    la = out / "LA"
    if la.exists():
        shutil.rmtree(la)  # idempotent: a rebuild replaces the corpus
    (la / "ASVspoof2019_LA_cm_protocols").mkdir(parents=True)
    meta = []
    for split in SPLITS:
        items = by_split[split]
        order = rng.permutation(len(items))
        folder = la / f"ASVspoof2019_LA_{split}" / "flac"
        folder.mkdir(parents=True)
        lines = []
        for number, index in enumerate(order, start=1):
            row = items[index]
            utt_id = f"LA_{SPLIT_LETTER[split]}_{number:07d}"
            wave, rate = read_mono(row["path"])
            if row["key"] == "spoof" and row["attack"] in VOCODER_IDS:
                wave, rate = vocode(row["attack"], wave, rate, stable_seed(utt_id, seed))
            processed = channel(wave, rate, stable_seed("channel", utt_id, seed))
            soundfile.write(str(folder / f"{utt_id}.flac"), processed, OUT_RATE, subtype="PCM_16", format="FLAC")
            attack = "-" if row["key"] == "bonafide" else row["attack"]
            lines.append(f"{row['speaker']} {utt_id} - {attack} {row['key']}\n")
            meta.append({"utt_id": utt_id, "split": split, "speaker": row["speaker"], "set": row["set"],
                         "prompt": row["prompt"], "key": row["key"], "attack": attack,
                         **{name: f"{value:.4f}" for name, value in cues(processed).items()}})
            if number % 200 == 0:
                log(f"minibench: {split}: {number}/{len(items)} utterances written")
        protocol = la / "ASVspoof2019_LA_cm_protocols" / f"ASVspoof2019.LA.cm.{PROTOCOL_NAMES[split]}.txt"
        protocol.write_text("".join(lines), encoding="utf-8")
    write_table(out / "minibench_meta.tsv", meta, ["utt_id", "split", "speaker", "set", "prompt", "key", "attack", *CUES])
    report = summarise(meta)
    (out / "minibench_report.txt").write_text(report["text"], encoding="utf-8")
    log(report["text"])
    return report


def summarise(meta: list[dict]) -> dict:
    """Composition per split, held-out attacks, and the EERs (%) of trivial classifiers on the cues."""
    lines = []
    composition = {}
    for split in SPLITS:
        rows = [row for row in meta if row["split"] == split]
        speakers = sorted({row["speaker"] for row in rows})
        attacks = {}
        for row in rows:
            if row["key"] == "spoof":
                attacks[row["attack"]] = attacks.get(row["attack"], 0) + 1
        n_bona = sum(row["key"] == "bonafide" for row in rows)
        composition[split] = {"speakers": speakers, "bonafide": n_bona, "spoof": len(rows) - n_bona, "attacks": attacks}
        lines.append(f"{split}: {len(rows)} utterances, {n_bona} bona fide, {len(rows) - n_bona} spoof; speakers "
                     f"{', '.join(speakers)}; attacks " + ", ".join(f"{a} x{n}" for a, n in sorted(attacks.items())))
    seen = set(composition["train"]["attacks"]) | set(composition["dev"]["attacks"])
    unseen = sorted(set(composition["eval"]["attacks"]) - seen)
    lines.append(f"eval attacks unseen in train/dev: {', '.join(unseen) or 'none'}")

    eers: dict[str, dict[str, float]] = {}
    features = {split: np.array([[float(row[c]) for c in CUES] for row in meta if row["split"] == split]).reshape(-1, len(CUES))
                for split in SPLITS}
    labels = {split: np.array([row["key"] == "bonafide" for row in meta if row["split"] == split], dtype=float)
              for split in SPLITS}
    lines.append("trivial-cue EERs (%), each cue alone in its better direction, and a logistic regression on all "
                 "four fitted on train:")
    lines.append("split  " + "  ".join(f"{c:>14}" for c in CUES) + "  logistic(train)")
    for split in SPLITS:
        x, y = features[split], labels[split]
        if not (y == 1).any() or not (y == 0).any():
            continue
        row = {c: 100 * single_cue_eer(x[y == 1, i], x[y == 0, i]) for i, c in enumerate(CUES)}
        if (labels["train"] == 1).any() and (labels["train"] == 0).any():
            row["logistic"] = 100 * logistic_eer(features["train"], labels["train"], x, y)
        eers[split] = row
        lines.append(f"{split:<6} " + "  ".join(f"{row[c]:>14.1f}" for c in CUES)
                     + (f"  {row['logistic']:>15.1f}" if "logistic" in row else ""))
    return {"composition": composition, "unseen_eval_attacks": unseen, "cue_eers": eers, "text": "\n".join(lines) + "\n"}


# ----- prepare: Debian packages -> raw waves (needs the apt packages) -----

SOUNDS = Path("/usr/share/asterisk/sounds")
DOCS = Path("/usr/share/doc")


@dataclass(frozen=True)
class VoiceSet:
    name: str  # the set (a package's folder of recordings)
    speaker: str  # the person: one speaker may record several sets
    folder: str  # under /usr/share/asterisk/sounds
    language: str  # en es fr it ru
    texts: str  # core-sounds-XX.txt.gz whose prompt texts it speaks
    package: str


VOICE_SETS = (
    VoiceSet("en_US_Allison", "Allison", "en_US_f_Allison", "en", "asterisk-core-sounds-en", "asterisk-core-sounds-en-wav"),
    VoiceSet("es_MX_Allison", "Allison", "es_MX_f_Allison", "es", "asterisk-core-sounds-es", "asterisk-core-sounds-es-wav"),
    VoiceSet("fr_CA_June", "June", "fr_CA_f_June", "fr", "asterisk-core-sounds-fr", "asterisk-core-sounds-fr-wav"),
    VoiceSet("it_IT_Menardi", "Menardi", "it_IT_f_Menardi", "it", "asterisk-core-sounds-it", "asterisk-prompt-it-menardi-wav"),
    VoiceSet("it_IT_Carlo", "Carlo", "it_IT_m_Carlo", "it", "asterisk-core-sounds-it", "asterisk-core-sounds-it-wav"),
    VoiceSet("ru_RU_IvrvoiceRU", "IvrvoiceRU", "ru_RU_f_IvrvoiceRU", "ru", "asterisk-core-sounds-ru", "asterisk-core-sounds-ru-wav"),
)
SPEAKER_SPLITS = {"Allison": "train", "June": "dev", "Menardi": "dev", "Carlo": "eval", "IvrvoiceRU": "eval"}

# per attack and language: the voices, used in turn
ESPEAK_VOICES = {"en": "en-us", "es": "es-419", "fr": "fr-fr", "it": "it", "ru": "ru"}
ESPEAK_VARIANTS = ("", "+m3", "+f2", "+f4")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = {
    "A03": {"en": ("kal_diphone", "ked_diphone"), "it": ("lp_diphone", "pc_diphone")},
    "A04": {"en": ("cmu_us_slt_arctic_hts",)},
    "A05": {"ru": ("msu_ru_nsh_clunits",)},
}
MBROLA_VOICES = {"en": ("mb-us1", "mb-us2", "mb-us3"), "es": ("mb-es1", "mb-es2"), "fr": ("mb-fr1", "mb-fr4"),
                 "it": ("mb-it3", "mb-it4")}
PICO_LANGUAGES = {"en": "en-US", "es": "es-ES", "fr": "fr-FR", "it": "it-IT"}


def read_prompt_texts(package: str) -> dict[str, str]:
    """prompt name -> text from the package's core-sounds-XX.txt(.gz): `name: text` lines, `;` comments.
    Prompts whose text is a [description] (tones, beeps) are left out; (asides) and ellipses are removed."""
    folder = DOCS / package
    files = sorted(folder.glob("core-sounds-*.txt*"))
    if not files:
        return {}
    opener = gzip.open if files[0].suffix == ".gz" else open
    texts = {}
    with opener(files[0], "rt", encoding="utf-8", errors="replace") as file:
        for line in file:
            if line.startswith(";") or ":" not in line:
                continue
            name, text = line.split(":", 1)
            text = re.sub(r"\([^)]*\)|\[[^]]*\]", " ", text).replace("...", " ").replace("…", " ")
            text = " ".join(text.split()).strip(" .")
            if text and not line.split(":", 1)[1].strip().startswith("["):
                texts[name.strip()] = text + "."
    return texts


def tool(name: str) -> bool:
    return shutil.which(name) is not None


def festival_say(voice: str, text: str, stretch: float, path: Path) -> None:
    quoted = text.replace("\\", " ").replace('"', " ")
    script = (f"(voice_{voice})\n(Parameter.set 'Duration_Stretch {stretch:.3f})\n"
              f"(utt.save.wave (SynthText \"{quoted}\") \"{path}\" 'riff)\n")
    # the Italian diphone voices read Latin-1 (their lexicon, festlex-ifd, is in Latin-1); the others UTF-8
    encoding = "latin-1" if voice in ("lp_diphone", "pc_diphone") else "utf-8"
    subprocess.run(["festival", "--pipe"], input=script.encode(encoding, errors="replace"), check=True,
                   capture_output=True, timeout=120)


def synthesise(attack: str, language: str, text: str, turn: int, stretch: float, path: Path) -> None:
    """One TTS wave at `path` (raises on failure); `stretch` > 1 speaks slower."""
    if attack == "A01":
        voice = ESPEAK_VOICES[language] + ESPEAK_VARIANTS[turn % len(ESPEAK_VARIANTS)]
        rate = int(np.clip(175 / stretch, 80, 450))
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text], check=True,
                       capture_output=True, timeout=60)
    elif attack == "A02":
        voice = FLITE_VOICES[turn % len(FLITE_VOICES)]
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}", "-t", text, "-o", str(path)],
                       check=True, capture_output=True, timeout=60)
    elif attack in FESTIVAL_VOICES:
        voices = FESTIVAL_VOICES[attack][language]
        festival_say(voices[turn % len(voices)], text, stretch, path)
    elif attack == "A06":
        voices = MBROLA_VOICES[language]
        rate = int(np.clip(175 / stretch, 80, 450))
        subprocess.run(["espeak-ng", "-v", voices[turn % len(voices)], "-s", str(rate), "-w", str(path), text],
                       check=True, capture_output=True, timeout=60)
    elif attack == "A07":
        speed = int(np.clip(100 / stretch, 20, 500))
        subprocess.run(["pico2wave", "-l", PICO_LANGUAGES[language], "-w", str(path),
                        f"<speed level='{speed}'>{text}</speed>"], check=True, capture_output=True, timeout=60)
    else:
        raise ValueError(attack)
    if not path.is_file() or path.stat().st_size < 1000:
        raise RuntimeError(f"{attack} wrote no audio for {text!r}")


def tts_languages() -> dict[str, tuple[str, ...]]:
    """The languages each installed TTS system can speak here (attacks that did not install are absent)."""
    available: dict[str, tuple[str, ...]] = {}
    if tool("espeak-ng"):
        available["A01"] = tuple(ESPEAK_VOICES)
        mbrola = subprocess.run(["espeak-ng", "--voices=mb"], capture_output=True, text=True).stdout if tool("mbrola") else ""
        languages = tuple(lang for lang, voices in MBROLA_VOICES.items()
                          if any(f" {voice} " in mbrola or voice.split("-", 1)[1] in mbrola for voice in voices)
                          and any(Path("/usr/share/mbrola", voice.split("-", 1)[1]).exists() for voice in voices))
        if languages:
            available["A06"] = languages
    if tool("flite"):
        available["A02"] = ("en",)
    if tool("festival"):
        for attack, by_language in FESTIVAL_VOICES.items():
            languages = tuple(lang for lang, voices in by_language.items()
                              if any(list(Path("/usr/share/festival/voices").glob(f"*/{voice}")) for voice in voices))
            if languages:
                available[attack] = languages
    if tool("pico2wave"):
        available["A07"] = tuple(PICO_LANGUAGES)
    return available


def prepare(raw: Path, bonafide_per_set: int = 60, per_attack: int = 24, log=print) -> None:
    """Pick prompts of every installed voice set, link their recordings, synthesise their texts with every
    installed TTS system (duration matched to the recording), and write raw/manifest.tsv and raw/splits.tsv."""
    torch.set_num_threads(1)
    raw = Path(raw)
    (raw / "tts").mkdir(parents=True, exist_ok=True)
    systems = tts_languages()
    for attack in ("A01", "A02", "A03", "A04", "A05", "A06", "A07"):
        if attack not in systems:
            log(f"minibench: {attack} ({ATTACKS[attack].system}) is not installed; left out")
    rows = []
    speakers = set()
    for voice_set in VOICE_SETS:
        folder = SOUNDS / voice_set.folder
        texts = read_prompt_texts(voice_set.texts)
        if not folder.is_dir() or not texts:
            log(f"minibench: voice set {voice_set.name} ({voice_set.package} / {voice_set.texts}) not installed; left out")
            continue
        candidates = []
        for name in sorted(texts):
            path = folder / f"{name}.wav"
            if not path.is_file() or len(texts[name].split()) < 3:
                continue
            wave, rate = read_mono(path)
            seconds = trimmed_seconds(wave, rate)
            if 1.0 <= seconds <= 8.0:
                candidates.append((name, path, seconds))
        chosen = sample(candidates, bonafide_per_set, "bonafide", voice_set.name)
        speakers.add(voice_set.speaker)
        split = SPEAKER_SPLITS[voice_set.speaker]
        log(f"minibench: {voice_set.name}: {len(chosen)} of {len(candidates)} usable prompts ({split})")
        for name, path, _ in chosen:
            rows.append({"key": "bonafide", "speaker": voice_set.speaker, "set": voice_set.name, "prompt": name,
                         "attack": "-", "path": str(path), "text": texts[name]})
        for attack, languages in sorted(systems.items()):
            if voice_set.language not in languages or split not in ATTACKS[attack].splits:
                continue
            made = 0
            for turn, (name, path, seconds) in enumerate(sample(chosen, per_attack, attack, voice_set.name)):
                target = raw / "tts" / attack / voice_set.name / f"{name}.wav"
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    if not target.is_file():  # idempotent: a rerun keeps what was synthesised
                        with tempfile.TemporaryDirectory() as scratch:
                            first = Path(scratch) / "first.wav"
                            synthesise(attack, voice_set.language, texts[name], turn, 1.0, first)
                            stretch = float(np.clip(seconds / max(trimmed_seconds(*read_mono(first)), 0.1), 0.5, 2.0))
                            synthesise(attack, voice_set.language, texts[name], turn, stretch, target)
                except Exception as error:  # one failing utterance (or a broken voice) is skipped, not fatal
                    log(f"minibench: {attack} failed on {voice_set.name}/{name}: {' '.join(str(error).split())[:200]}")
                    target.unlink(missing_ok=True)
                    continue
                rows.append({"key": "spoof", "speaker": voice_set.speaker, "set": voice_set.name, "prompt": name,
                             "attack": attack, "path": str(target), "text": texts[name]})
                made += 1
            log(f"minibench: {voice_set.name}: {made} utterances of {attack}")
    for row in rows:
        row["text"] = row["text"].replace("\t", " ")
    write_table(raw / "manifest.tsv", rows, MANIFEST_COLUMNS)
    write_table(raw / "splits.tsv", [{"speaker": s, "split": SPEAKER_SPLITS[s]} for s in sorted(speakers)], ("speaker", "split"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="raw waves from the installed Debian packages")
    p.add_argument("raw", type=Path)
    p.add_argument("--bonafide_per_set", type=int, default=60)
    p.add_argument("--per_attack", type=int, default=24, help="utterances per attack and voice set")
    b = commands.add_parser("build", help="the ASVspoof 2019 LA layout from RAW/manifest.tsv")
    b.add_argument("raw", type=Path)
    b.add_argument("out", type=Path)
    b.add_argument("--per_attack", type=int, default=24, help="vocoded utterances per vocoder and voice set")
    b.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    if arguments.command == "prepare":
        prepare(arguments.raw, arguments.bonafide_per_set, arguments.per_attack)
    else:
        build(arguments.raw, arguments.out, arguments.per_attack, seed=arguments.seed)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
