"""TTS systems of the mini-benchmark: which attack speaks which language with which voice, and the Debian
(system) engines. The neural engines run in the separate TTS venv (scripts/minibench_neural.py); this module
only writes their job list and starts that venv's python.

Every TTS utterance mirrors a bona fide utterance of its target voice set: the same pieces (clips) with the
same texts (or, where the package gives no text, a text of the same language), each piece duration matched to
the speech duration of the recording it mirrors, joined later with the same pauses. Duration matching of
the system engines: every piece is synthesised at its rate, measured after the chain's band-pass and trimming,
and synthesised again with its rate scaled by (target / own duration), clamped to [0.5, 2], when it is more
than 8 % off (espeak `-s`, flite `duration_stretch`, festival `Duration_Stretch`).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

STRETCH = (0.5, 2.0)
TOLERANCE = math.log(1.08)

# language of a voice set -> espeak-ng voice (the same names work for piper's bundled espeak-ng). Languages
# without an espeak-ng voice get the nearest one: Galician -> Portuguese, Low German -> Dutch,
# Walloon -> French.
ESPEAK_NG = {
    "en": "en-us", "en_GB": "en", "es": "es", "fr": "fr", "it": "it", "ru": "ru", "be": "be", "bg": "bg",
    "ca": "ca", "cs": "cs", "da": "da", "de": "de", "el": "el", "fi": "fi", "ga": "ga", "he": "he", "hu": "hu",
    "lt": "lt", "ml": "ml", "nl": "nl", "ro": "ro", "sl": "sl", "sr": "sr", "sv": "sv", "uk": "uk", "ar": "ar",
    "tn": "tn", "pl": "pl", "pt": "pt", "pt_BR": "pt-br", "nb": "nb", "nn": "nb", "gl": "pt", "nds": "nl",
    "wa": "fr", "zh": "cmn-latn-pinyin",
}
ESPEAK_NG_VARIANTS = ("", "+m3", "+f2", "+f4")
# espeak 1.48 (the older engine, a separate system): its own voice names; no be, uk, he, ar, tn, sl, gl, zh
ESPEAK_OLD = {
    "en": "en-us", "en_GB": "en", "es": "es", "fr": "fr-fr", "it": "it", "ru": "ru", "bg": "bg", "ca": "ca",
    "cs": "cs", "da": "da", "de": "de", "el": "el", "fi": "fi", "ga": "ga", "hu": "hu", "lt": "lt", "ml": "ml",
    "nl": "nl", "ro": "ro", "sr": "sr", "sv": "sv", "pl": "pl", "pt": "pt-pt", "pt_BR": "pt-br", "nb": "no",
    "nn": "no", "nds": "nl", "wa": "fr-fr",
}
ESPEAK_OLD_VARIANTS = ("+m1", "+f1", "+m4", "+f4")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
# attack -> language -> ((festival voice, input encoding), ...)
FESTIVAL_VOICES = {
    "A03": {"en": (("kal_diphone", "utf-8"), ("ked_diphone", "utf-8")),
            "it": (("lp_diphone", "latin-1"), ("pc_diphone", "latin-1")),
            "cs": (("czech_dita", "iso-8859-2"), ("czech_machac", "iso-8859-2"), ("czech_ph", "iso-8859-2"),
                   ("czech_krb", "iso-8859-2")),
            "fi": (("suo_fi_lj_diphone", "latin-1"), ("hy_fi_mv_diphone", "latin-1"))},
    "A04": {"en": (("cmu_us_slt_arctic_hts", "utf-8"),), "ca": (("upc_ca_ona_hts", "latin-1"),)},
    "A05": {"ru": (("msu_ru_nsh_clunits", "utf-8"),)},
}
KOKORO_STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
NEURAL = {"A08": "piper", "A09": "kokoro", "A14": "hibari"}
NEURAL_COST = {"piper": 1.0, "kokoro": 4.0, "hibari": 0.5}  # rough CPU time per piece, relative


def base(language: str) -> str:
    return language.split("_")[0]


def tool(name: str) -> bool:
    return shutil.which(name) is not None


@lru_cache(maxsize=None)
def espeak_voices(program: str) -> frozenset[str]:
    if not tool(program):
        return frozenset()
    listing = subprocess.run([program, "--voices"], capture_output=True, text=True).stdout.splitlines()[1:]
    names = set()
    for line in listing:
        parts = line.split()
        if len(parts) >= 5:
            names.add(parts[1].lower())
            names.add(parts[4].split("/")[-1].lower())
    return frozenset(names)


@lru_cache(maxsize=None)
def festival_voices() -> frozenset[str]:
    if not tool("festival"):
        return frozenset()
    out = subprocess.run(["festival", "--pipe"], input=b"(print (voice.list))\n", capture_output=True).stdout
    return frozenset(out.decode(errors="replace").strip("()\n ").split())


def supports(attack: str, language: str, neural_python: str | None = None) -> bool:
    """Whether the attack can speak the language here (its engine installed, a voice for the language)."""
    if attack == "A01":
        return ESPEAK_NG.get(language, "-").lower() in espeak_voices("espeak-ng")
    if attack == "A13":
        return ESPEAK_OLD.get(language, "-").lower() in espeak_voices("espeak")
    if attack == "A02":
        return base(language) == "en" and tool("flite")
    if attack in FESTIVAL_VOICES:
        voices = FESTIVAL_VOICES[attack].get(base(language), ())
        return any(voice in festival_voices() for voice, _ in voices)
    if attack in NEURAL:
        return bool(neural_python) and language in ESPEAK_NG
    return False  # A06 (mbrola) and A07 (pico) are not in Debian main


def voice_for(attack: str, language: str, turn: int) -> str:
    if attack == "A01":
        return ESPEAK_NG[language] + ESPEAK_NG_VARIANTS[turn % len(ESPEAK_NG_VARIANTS)]
    if attack == "A13":
        return ESPEAK_OLD[language] + ESPEAK_OLD_VARIANTS[turn % len(ESPEAK_OLD_VARIANTS)]
    if attack == "A02":
        return FLITE_VOICES[turn % len(FLITE_VOICES)]
    if attack in FESTIVAL_VOICES:
        voices = [v for v in FESTIVAL_VOICES[attack][base(language)] if v[0] in festival_voices()]
        return voices[turn % len(voices)][0]
    if attack == "A09":
        return KOKORO_STYLES[turn % len(KOKORO_STYLES)]
    return {"A08": "joe", "A14": "heart"}[attack]


# ----- system engines: one piece at a stretch -----


def festival_script(items: list[tuple[str, float, Path]], voice: str) -> str:
    lines = [f"(voice_{voice})"]
    for text, stretch, path in items:
        quoted = text.replace("\\", " ").replace('"', " ")
        lines.append(f"(Parameter.set 'Duration_Stretch {stretch:.3f})")
        lines.append(f"(unwind-protect (utt.save.wave (SynthText \"{quoted}\") \"{path}\" 'riff) (print \"failed\"))")
    return "\n".join(lines) + "\n"


def run_system(attack: str, voice: str, items: list[tuple[str, float, Path]]) -> None:
    """Synthesise (text, stretch, path) items with one voice; a failed item leaves no file."""
    if attack in FESTIVAL_VOICES:
        encoding = dict(v for by_language in FESTIVAL_VOICES.values() for voices in by_language.values() for v in voices)[voice]
        for start in range(0, len(items), 200):
            script = festival_script(items[start:start + 200], voice)
            subprocess.run(["festival", "--pipe"], input=script.encode(encoding, errors="replace"), capture_output=True,
                           timeout=1200)
        return
    for text, stretch, path in items:
        if attack in ("A01", "A13"):
            rate = str(int(min(450, max(80, 175 / stretch))))
            command = ["espeak-ng" if attack == "A01" else "espeak", "-v", voice, "-s", rate, "-w", str(path), text]
        elif attack == "A02":
            command = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}", "-t", text, "-o", str(path)]
        else:
            raise ValueError(attack)
        try:
            subprocess.run(command, capture_output=True, timeout=60, check=True)
        except (subprocess.SubprocessError, OSError):
            Path(path).unlink(missing_ok=True)


def synthesise_system(attack: str, jobs: list[dict], measure, log=print) -> None:
    """jobs: {"voice", "folder", "pieces": [{"text", "seconds"}]}; writes FOLDER/<i>.wav for every piece and
    FOLDER/done. `measure(path)` -> speech seconds after the chain's band-pass and trim (None if no audio)."""
    pending = [job for job in jobs if not (Path(job["folder"]) / "done").is_file()]
    by_voice: dict[str, list[dict]] = {}
    for job in pending:
        Path(job["folder"]).mkdir(parents=True, exist_ok=True)
        by_voice.setdefault(job["voice"], []).append(job)
    for voice, voice_jobs in sorted(by_voice.items()):
        pieces = [(job, i, piece) for job in voice_jobs for i, piece in enumerate(job["pieces"])]
        run_system(attack, voice, [(piece["text"], 1.0, Path(job["folder"]) / f"{i}.wav") for job, i, piece in pieces])
        again = []
        for job, i, piece in pieces:
            path = Path(job["folder"]) / f"{i}.wav"
            seconds = measure(path) if path.is_file() and path.stat().st_size > 100 else None
            if seconds:
                stretch = min(STRETCH[1], max(STRETCH[0], piece["seconds"] / seconds))
                if abs(math.log(piece["seconds"] / seconds)) > TOLERANCE:
                    again.append((piece["text"], stretch, path))
        run_system(attack, voice, again)
        for job in voice_jobs:
            folder = Path(job["folder"])
            if all((folder / f"{i}.wav").is_file() and (folder / f"{i}.wav").stat().st_size > 100
                   for i in range(len(job["pieces"]))):
                (folder / "done").write_text("")
            else:
                log(f"minibench: {attack} ({voice}) failed on {folder.parent.name}/{folder.name}")


# ----- neural engines: a job list for the TTS venv's worker -----


def neural_jobs(attack: str, jobs: list[dict], language_of: dict[str, str]) -> list[dict]:
    engine = NEURAL[attack]
    out = []
    for job in jobs:
        language = language_of[job["set"]]
        out.append({"engine": engine, "voice": job["voice"], "espeak": ESPEAK_NG[language],
                    "native": base(language) == "en", "seed": job["seed"], "folder": job["folder"],
                    "pieces": job["pieces"]})
    return out


def start_neural(python: str, jobs: list[dict], jobs_file: Path, log_path: Path, kokoro_cache: Path) -> subprocess.Popen | None:
    """Start the TTS venv's worker on the jobs not done yet (None when there are none)."""
    pending = [job for job in jobs if not (Path(job["folder"]) / "done").is_file()]
    if not pending:
        return None
    jobs_file.parent.mkdir(parents=True, exist_ok=True)
    jobs_file.write_text("".join(json.dumps(job, ensure_ascii=False) + "\n" for job in pending), encoding="utf-8")
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "KOKORO_JA_CACHE": str(kokoro_cache),
                   "HIBARI_HOME": str(kokoro_cache / "hibari")}
    environment.pop("PYTHONPATH", None)
    worker = Path(__file__).resolve().parent / "minibench_neural.py"
    log_file = open(log_path, "a", encoding="utf-8")
    return subprocess.Popen(["nice", "-n", "10", python, str(worker), str(jobs_file)], stdout=log_file,
                            stderr=subprocess.STDOUT, env=environment, cwd=tempfile.gettempdir())
