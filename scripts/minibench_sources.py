"""Bona fide sources of the mini-benchmark: recorded speech shipped in Debian packages (docs/minibench.md).

Every source is read where its package puts it (or under an extracted .deb root, for the two asterisk prompt
sets that conflict with the core sound packages) and becomes one or more voice sets: recordings of one
person, or of a few people that cannot be told apart from the package (one language of a KDE game, say).
Each voice set belongs to a split unit and each split unit to exactly one split (UNIT_SPLITS), so the splits
are speaker disjoint by construction:

* the community recordings (tuxpaint-stamps-default, ktuberling-data, klettres-data) form one unit per
  language family, since a translator may have recorded the same language for more than one of them;
* every professional or game voice is its own unit (Allison's en_US and es_MX sets are one unit: one person);
* fillets-ng is one unit per language (the actors of a dub voice several characters); hedgewars (all packs and
  languages: actors may be shared) and gcin-voice are one unit each.

A clip is one recording (or, for the festvox-ru database, one phrase cut at the recording's own pause labels)
with the text spoken in it when the package says it. Where a package gives no text in its language (most of
ktuberling, some hedgewars packs), `text` is empty and the TTS systems speak a text of the same language from
`text_pool` instead. Nothing here decodes audio; minibench.py assembles the clips into utterances.
"""
from __future__ import annotations

import glob
import gzip
import hashlib

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Clip:
    path: str
    text: str  # what is said, in the set's language; "" when the package does not say
    start: float = 0.0  # seconds into the file (festvox-ru phrases); end 0: to the end
    end: float = 0.0


@dataclass
class VoiceSet:
    name: str  # unique id, also the manifest's `set`
    speaker: str  # the protocol's speaker id (one person, or the people of a set that cannot be told apart)
    unit: str  # the split unit: all sets of a unit go to the same split
    language: str  # language code used to pick TTS voices (en, en_GB, es, pt_BR, ...)
    source: str  # Debian package(s)
    clips: list[Clip] = field(default_factory=list)


# ----- split units -> splits -----
# Community recordings: one unit per language family. Chosen so that every split has many speakers and
# languages and the sizes come out near 2:1:1.5 (train:dev:eval), with English, Russian and French, whose
# professional speakers and TTS voices are the richest, spread over the splits.
COMMUNITY_SPLITS = {
    "train": ("ru", "es", "bg", "be", "uk", "de", "hu", "sl", "gl", "pt", "sr", "ar", "wa", "ga", "sv"),
    "dev": ("el", "da", "lt", "ca", "cs", "nds", "tn", "it"),
    "eval": ("fr", "ro", "en", "ml", "no", "fi", "he", "nl"),
}
UNIT_SPLITS = {f"community_{family}": split for split, families in COMMUNITY_SPLITS.items() for family in families}
UNIT_SPLITS.update({
    "asterisk_Allison": "train",  # en_US and es_MX: one person
    "fillets_cs": "train",
    "hedgewars": "train",
    "asterisk_Menardi": "dev",
    "asterisk_esco": "dev",
    "saytime": "dev",
    "asterisk_June": "eval",
    "asterisk_Carlo": "eval",
    "asterisk_IvrvoiceRU": "eval",
    "asterisk_Armelle": "eval",
    "festvox_nsh": "eval",  # the speaker of festival's Russian unit-selection voice (attack A05, eval only)
    "fillets_nl": "eval",
    "gcin": "eval",
})


def family(language: str) -> str:
    """Language family of a community recording: the unit key (nb and nn are Norwegian, pt_BR is pt, ...)."""
    base = language.split("_")[0].split("@")[0].lower()
    return {"nb": "no", "nn": "no"}.get(base, base)


def md5(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.md5(file.read()).hexdigest()


def clean_text(text: str) -> str:
    text = re.sub(r"[“”„«»\"‘’‚<>\[\]{}|_*#~]", " ", text).replace("...", " ").replace("…", " ")
    return " ".join(text.split()).strip()


# ----- tuxpaint-stamps-default: spoken stamp descriptions, one narrator per language -----

TUXPAINT = Path("/usr/share/tuxpaint/stamps")


def tuxpaint_texts(txt: Path) -> dict[str, str]:
    """language -> description from a stamp's .txt (first line English, then `xx.utf8=...` lines)."""
    texts = {}
    try:
        lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return texts
    if lines and "=" not in lines[0]:
        texts["en"] = lines[0]
    for line in lines[1:]:
        match = re.match(r"([A-Za-z_@]+)\.utf8=(.*)", line.strip())
        if match:
            texts[match.group(1)] = match.group(2)
    return {language: clean_text(text) for language, text in texts.items() if clean_text(text)}


def tuxpaint_sets(root: Path = TUXPAINT) -> list[VoiceSet]:
    by_language: dict[str, list[Clip]] = {}
    seen: set[str] = set()
    for path in sorted(glob.glob(str(root / "**" / "*_desc*.ogg"), recursive=True)):
        stem, _, suffix = Path(path).name[:-4].rpartition("_desc")
        language = suffix.lstrip("_") or "en"
        if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", language):
            continue
        digest = md5(path)  # some descriptions are byte-identical copies (coins, letters)
        if digest in seen:
            continue
        seen.add(digest)
        text = tuxpaint_texts(Path(path).parent / f"{stem}.txt").get(language, "")
        by_language.setdefault(language, []).append(Clip(path, text))
    return [VoiceSet(f"tuxpaint_{language}", f"tuxpaint_{language}", f"community_{family(language)}", language,
                     "tuxpaint-stamps-default", clips) for language, clips in sorted(by_language.items())]


def proxy_pool(root: Path = TUXPAINT) -> dict[str, list[str]]:
    """Texts per language (the stamp descriptions' translations), for TTS of clips without a text."""
    pool: dict[str, list[str]] = {}
    for txt in sorted(glob.glob(str(root / "**" / "*.txt"), recursive=True)):
        for language, text in tuxpaint_texts(Path(txt)).items():
            if len(text.split()) >= 2:
                pool.setdefault(language, []).append(text)
    return pool


# ----- ktuberling-data: spoken words (a few people per language) -----

KTUBERLING = Path("/usr/share/ktuberling/sounds")
THEME_PREFIX = re.compile(r"^(egypt|moon|lune|pizzeria|pizza|tv|xmas|robot|butterflies|patate|potato)_")


def ktuberling_sets(root: Path = KTUBERLING) -> list[VoiceSet]:
    sets = []
    seen: set[str] = set()
    for theme in sorted(root.glob("*.soundtheme")):
        language = theme.stem
        if "@" in language:  # sr@latin etc. are byte copies of sr
            continue
        try:
            tree = ElementTree.parse(theme)
        except ElementTree.ParseError:
            continue
        clips = []
        for sound in tree.iter("sound"):
            path = root / sound.get("file", "")
            if not path.is_file() or path.suffix not in (".ogg", ".wav", ".opus", ".flac"):
                continue
            digest = md5(str(path))
            if digest in seen:
                continue
            seen.add(digest)
            key = THEME_PREFIX.sub("", sound.get("name", "")).replace("_", " ").replace("-", " ")
            word = THEME_PREFIX.sub("", path.stem).replace("_", " ").replace("-", " ")
            # the file is named after the word itself in some languages, after the English key in others
            native = language == "en" or word.lower() != key.lower()
            clips.append(Clip(str(path), word if native else ""))
        if clips:
            sets.append(VoiceSet(f"ktuberling_{language}", f"ktuberling_{language}", f"community_{family(language)}",
                                 language, "ktuberling-data", clips))
    return sets


# ----- klettres-data: letters and syllables -----

KLETTRES = Path("/usr/share/klettres")


def klettres_sets(root: Path = KLETTRES) -> list[VoiceSet]:
    sets = []
    for xml in sorted(root.glob("*/sounds.xml")):
        language = xml.parent.name
        try:
            tree = ElementTree.parse(xml)
        except ElementTree.ParseError:
            continue
        clips = []
        for sound in tree.iter("sound"):
            path = root / sound.get("file", "")
            name = sound.get("name", "").strip()
            if path.is_file() and name:
                clips.append(Clip(str(path), name if len(name) == 1 else name.lower()))
        if clips:
            sets.append(VoiceSet(f"klettres_{language}", f"klettres_{language}", f"community_{family(language)}",
                                 language, "klettres-data", clips))
    return sets


# ----- fillets-ng-data(-cs, -nl): acted game dialogue, with the script's text and character -----

FILLETS = Path("/usr/share/games/fillets-ng")
FILLETS_VOICES = {"font_small": "small", "font_big": "big"}  # the two fish; every other character is "minor"


def fillets_sets(root: Path = FILLETS) -> list[VoiceSet]:
    sets = []
    for language in ("cs", "nl"):  # sound/*/en: language-independent lines (mock German and Russian, noises)
        lines: dict[str, tuple[str, str]] = {}  # dialog id -> (character, text)
        for lua in sorted(glob.glob(str(root / "script" / "*" / f"dialogs_{language}.lua"))):
            content = Path(lua).read_text(encoding="utf-8", errors="replace")
            for match in re.finditer(r'dialogId\("([^"]+)",\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)"\)\s*'
                                     r'(?:dialogStr\("((?:[^"\\]|\\.)*)"\))?', content):
                dialog, font, english, translated = match.groups()
                lines[dialog] = (font, translated if translated is not None else english)
        by_voice: dict[str, list[Clip]] = {}
        for path in sorted(glob.glob(str(root / "sound" / "*" / language / "*.ogg"))):
            dialog = Path(path).stem
            if dialog not in lines:
                continue
            font, text = lines[dialog]
            text = clean_text(text.replace("\\n", " "))
            if not re.search(r"[^\W\d_]{2,}", text) or re.search(r"[0-9A-F]{12}", text):
                continue  # noises (no text) and the virus's hexadecimal lines are not speech
            voice = FILLETS_VOICES.get(font, "minor")
            by_voice.setdefault(voice, []).append(Clip(path, text))
        package = f"fillets-ng-data-{language} fillets-ng-data"
        for voice, clips in sorted(by_voice.items()):
            name = f"fillets_{language}_{voice}"
            sets.append(VoiceSet(name, name, f"fillets_{language}", language, package, clips))
    return sets


# ----- festvox-ru: the recorded database behind festival's Russian voice (speaker nsh) -----

FESTVOX_RU = Path("/usr/share/festival/voices/russian/msu_ru_nsh_clunits")


def festvox_ru_sets(root: Path = FESTVOX_RU) -> list[VoiceSet]:
    """Sentences are 6-14 s: each is cut into its comma-separated phrases at the pause labels (lab/*.lab),
    where the number of inner pauses equals the number of commas; consecutive phrases are merged up to 3.5 s."""
    texts = {}
    data = root / "etc" / "txt.done.data"
    if not data.is_file():
        return []
    for match in re.finditer(r'\(\s*(\S+)\s+"(.*)"\s*\)', data.read_text(encoding="utf-8", errors="replace")):
        texts[match.group(1)] = match.group(2).replace("+", "")
    clips = []
    for name, text in sorted(texts.items()):
        wav, lab = root / "wav" / f"{name}.wav", root / "lab" / f"{name}.lab"
        if not wav.is_file() or not lab.is_file():
            continue
        ends, labels = [], []
        for line in lab.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3:
                ends.append(float(parts[0]))
                labels.append(parts[2])
        # inner pauses: (start, end) of each pau label that is neither the first nor the last segment
        pauses = [(ends[i - 1], ends[i]) for i in range(1, len(labels) - 1) if labels[i] == "pau"]
        phrases = [p.strip(" ,") for p in re.split(r",\s*(?:-\s*)?", text.strip().rstrip(".!?")) if p.strip(" ,-")]
        if len(phrases) != len(pauses) + 1 or not labels or labels[0] != "pau":
            continue
        bounds = [ends[0]] + [b for pause in pauses for b in pause] + [ends[-2] if labels[-1] == "pau" else ends[-1]]
        spans = [(bounds[2 * i], bounds[2 * i + 1], phrases[i]) for i in range(len(phrases))]
        start, end, words = spans[0]
        for span in spans[1:] + [None]:
            if span is not None and span[1] - start <= 3.5:
                end, words = span[1], f"{words}, {span[2]}"
                continue
            clips.append(Clip(str(wav), words + ".", max(0.0, start - 0.05), end + 0.05))
            if span is not None:
                start, end, words = span
    if not clips:
        return []
    return [VoiceSet("festvox_ru_nsh", "festvox_ru_nsh", "festvox_nsh", "ru", "festvox-ru", clips)]


# ----- asterisk prompt recordings -----

ASTERISK = Path("/usr/share/asterisk/sounds")
DOCS = Path("/usr/share/doc")


def read_prompt_texts(package: str, docs: Path | None = None) -> dict[str, str]:
    """prompt name -> text from the package's core-sounds-XX.txt(.gz): `name: text` lines, `;` comments.
    Prompts whose text is a [description] (tones, beeps) are left out; (asides) and ellipses are removed."""
    folder = (docs or DOCS) / package
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


# (set, speaker/unit, folder under sounds/, language, texts package, audio package, extension)
ASTERISK_SETS = (
    ("en_US_Allison", "Allison", "en_US_f_Allison", "en", "asterisk-core-sounds-en", "asterisk-core-sounds-en-wav", "wav"),
    ("es_MX_Allison", "Allison", "es_MX_f_Allison", "es", "asterisk-core-sounds-es", "asterisk-core-sounds-es-wav", "wav"),
    ("fr_CA_June", "June", "fr_CA_f_June", "fr", "asterisk-core-sounds-fr", "asterisk-core-sounds-fr-wav", "wav"),
    ("it_IT_Menardi", "Menardi", "it_IT_f_Menardi", "it", "asterisk-core-sounds-it", "asterisk-prompt-it-menardi-wav", "wav"),
    ("it_IT_Carlo", "Carlo", "it_IT_m_Carlo", "it", "asterisk-core-sounds-it", "asterisk-core-sounds-it-wav", "wav"),
    ("ru_RU_IvrvoiceRU", "IvrvoiceRU", "ru_RU_f_IvrvoiceRU", "ru", "asterisk-core-sounds-ru", "asterisk-core-sounds-ru-wav", "wav"),
    # GSM 06.10 only; they conflict with asterisk-core-sounds-fr/-es, so the build extracts their .debs
    ("fr_FR_Armelle", "Armelle", "fr", "fr", "asterisk-core-sounds-fr", "asterisk-prompt-fr-armelle", "gsm"),
    ("es_CO_esco", "esco", "es", "es", "asterisk-core-sounds-es", "asterisk-prompt-es-co", "gsm"),
)


def asterisk_sets(extracted: Path | None = None) -> list[VoiceSet]:
    sets = []
    for name, speaker, folder, language, texts_package, package, extension in ASTERISK_SETS:
        texts = read_prompt_texts(texts_package)
        base = (extracted / "usr/share/asterisk/sounds" if extension == "gsm" and extracted else ASTERISK) / folder
        if not texts or not base.is_dir() or base.is_symlink():
            continue
        clips = []
        for prompt, text in sorted(texts.items()):
            path = base / f"{prompt}.{extension}"
            if path.is_file() and len(text.split()) >= 2:
                clips.append(Clip(str(path), text))
        if clips:
            sets.append(VoiceSet(f"asterisk_{name}", f"asterisk_{speaker}", f"asterisk_{speaker}", language,
                                 f"{package} {texts_package}", clips))
    return sets


# ----- small sources: saytime (a talking clock), hedgewars voice packs, gcin-voice (Mandarin syllables) -----

SAYTIME = Path("/usr/share/saytime")
SAYTIME_WORDS = {"the_time_is": "the time is", "oclock": "o'clock", "am": "a m", "pm": "p m", "oh": "oh",
                 "and": "and", "exactly": "exactly", "hour": "hour", "hours": "hours", "minute": "minute",
                 "minutes": "minutes", "second": "second", "seconds": "seconds"}
NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
           "seventeen eighteen nineteen twenty").split()
TENS = {"30": "thirty", "40": "forty", "50": "fifty"}


def saytime_sets(root: Path = SAYTIME) -> list[VoiceSet]:
    clips = []
    for path in sorted(root.glob("*.au")):
        stem = path.stem
        text = SAYTIME_WORDS.get(stem) or TENS.get(stem) or (NUMBERS[int(stem)] if stem.isdigit() and int(stem) <= 20 else "")
        if text:
            clips.append(Clip(str(path), text))
    return [VoiceSet("saytime", "saytime", "saytime", "en", "saytime", clips)] if clips else []


HEDGEWARS = Path("/usr/share/games/hedgewars/Data/Sounds/voices")
HEDGEWARS_PHRASES = {
    "Amazing": "Amazing!", "Boring": "Boring!", "Brilliant": "Brilliant!", "Bugger": "Bugger!", "Byebye": "Bye bye!",
    "Comeonthen": "Come on then!", "Coward": "Coward!", "Cutitout": "Cut it out!", "Drat": "Drat!",
    "Enemydown": "Enemy down!", "Excellent": "Excellent!", "Fire": "Fire!", "Firstblood": "First blood!",
    "Flawless": "Flawless!", "Flyaway": "Fly away!", "Gonnagetyou": "Gonna get you!", "Grenade": "Grenade!",
    "Hello": "Hello!", "Hurry": "Hurry!", "Illgetyou": "I'll get you!", "Incoming": "Incoming!",
    "Justyouwait": "Just you wait!", "Kamikaze": "Kamikaze!", "Leavemealone": "Leave me alone!", "Melon": "Melon!",
    "Missed": "Missed!", "Nutter": "Nutter!", "Ohdear": "Oh dear!", "Oops": "Oops!", "Revenge": "Revenge!",
    "Runaway": "Run away!", "Sameteam": "Same team!", "Solong": "So long!", "Stupid": "Stupid!",
    "Takecover": "Take cover!", "Thisoneismine": "This one is mine!", "Traitor": "Traitor!", "Victory": "Victory!",
    "Watchit": "Watch it!", "Watchthis": "Watch this!", "Whatthe": "What the...", "Yessir": "Yes sir!",
    "Youllregretthat": "You'll regret that!",
}  # grunts, laughs, coughs and the numbered shouts are left out
# pack -> language; Robot is effect-processed (not a natural voice) and left out
HEDGEWARS_PACKS = {"British": "en_GB", "Classic": "en", "Default": "en", "HillBilly": "en", "Mobster": "en",
                   "Pirate": "en", "Singer": "en", "Surfer": "en", "Default_es": "es", "Default_pl": "pl",
                   "Default_ru": "ru", "Default_uk": "uk", "Russian": "ru", "Russian_pl": "pl"}


def hedgewars_sets(root: Path = HEDGEWARS) -> list[VoiceSet]:
    sets = []
    for pack, language in sorted(HEDGEWARS_PACKS.items()):
        clips = []
        for path in sorted((root / pack).glob("*.ogg")):
            if path.stem in HEDGEWARS_PHRASES:
                clips.append(Clip(str(path), HEDGEWARS_PHRASES[path.stem] if language.startswith("en") else ""))
        if clips:
            sets.append(VoiceSet(f"hedgewars_{pack}", f"hedgewars_{pack}", "hedgewars", language, "hedgewars-data", clips))
    return sets


GCIN = Path("/usr/share/gcin-voice/ogg")
ZHUYIN_INITIALS = dict(zip("ㄅㄆㄇㄈㄉㄊㄋㄌㄍㄎㄏㄐㄑㄒㄓㄔㄕㄖㄗㄘㄙ",
                           "b p m f d t n l g k h j q x zh ch sh r z c s".split()))
ZHUYIN_FINALS = {
    "ㄚ": "a", "ㄛ": "o", "ㄜ": "e", "ㄝ": "ê", "ㄞ": "ai", "ㄟ": "ei", "ㄠ": "ao", "ㄡ": "ou", "ㄢ": "an", "ㄣ": "en",
    "ㄤ": "ang", "ㄥ": "eng", "ㄦ": "er", "ㄧ": "i", "ㄨ": "u", "ㄩ": "ü", "ㄧㄚ": "ia", "ㄧㄛ": "io", "ㄧㄝ": "ie",
    "ㄧㄞ": "iai", "ㄧㄠ": "iao", "ㄧㄡ": "iu", "ㄧㄢ": "ian", "ㄧㄣ": "in", "ㄧㄤ": "iang", "ㄧㄥ": "ing",
    "ㄨㄚ": "ua", "ㄨㄛ": "uo", "ㄨㄞ": "uai", "ㄨㄟ": "ui", "ㄨㄢ": "uan", "ㄨㄣ": "un", "ㄨㄤ": "uang",
    "ㄨㄥ": "ong", "ㄩㄝ": "üe", "ㄩㄢ": "üan", "ㄩㄣ": "ün", "ㄩㄥ": "iong",
}


def zhuyin_to_pinyin(syllable: str) -> str:
    """One zhuyin syllable (tone digit 1-4 or none, the neutral/first tone) -> numbered pinyin ('' if unknown)."""
    tone = syllable[-1] if syllable[-1:].isdigit() else "1"
    body = syllable.rstrip("0123456789")
    initial = ZHUYIN_INITIALS.get(body[:1], "")
    rest = body[1:] if initial else body
    if not rest:  # zhi chi shi ri zi ci si
        return f"{initial}i{tone}" if initial in ("zh", "ch", "sh", "r", "z", "c", "s") else ""
    final = ZHUYIN_FINALS.get(rest)
    if final is None:
        return ""
    if not initial:  # y/w spellings
        if final in ("ong", "iong"):
            final = {"ong": "weng", "iong": "yong"}[final]
        elif final.startswith("i"):
            final = {"i": "yi", "in": "yin", "ing": "ying", "iu": "you"}.get(final, "y" + final[1:])
        elif final.startswith("u"):
            final = {"u": "wu", "ui": "wei", "un": "wen", "ong": "weng"}.get(final, "w" + final[1:])
        elif final.startswith("ü"):
            final = "yu" + final[1:]
    elif initial in ("j", "q", "x"):
        final = final.replace("ü", "u")
    return f"{initial}{final.replace('ê', 'e')}{tone}".replace("ü", "v")


def gcin_sets(root: Path = GCIN) -> list[VoiceSet]:
    by_voice: dict[str, list[Clip]] = {}
    for folder in sorted(root.glob("*")):
        pinyin = zhuyin_to_pinyin(folder.name)
        if not pinyin:
            continue
        for path in sorted(folder.glob("*.ogg")):
            by_voice.setdefault(path.stem, []).append(Clip(str(path), pinyin))
    return [VoiceSet(f"gcin_{voice}", f"gcin_{voice}", "gcin", "zh", "gcin-voice", clips)
            for voice, clips in sorted(by_voice.items())]


def all_sets(extracted: Path | None = None, log=print) -> list[VoiceSet]:
    """Every voice set whose package is installed (a missing package gives no set, with a message)."""
    sets: list[VoiceSet] = []
    for name, finder in (("tuxpaint-stamps-default", tuxpaint_sets), ("ktuberling-data", ktuberling_sets),
                         ("klettres-data", klettres_sets), ("fillets-ng-data", fillets_sets),
                         ("festvox-ru", festvox_ru_sets), ("asterisk", lambda: asterisk_sets(extracted)),
                         ("saytime", saytime_sets), ("hedgewars-data", hedgewars_sets), ("gcin-voice", gcin_sets)):
        found = finder()
        if not found:
            log(f"minibench: no recordings from {name}; left out")
        sets.extend(found)
    kept = []
    for voice_set in sets:
        if voice_set.unit not in UNIT_SPLITS:
            log(f"minibench: {voice_set.name}: unit {voice_set.unit} has no split; left out")
            continue
        kept.append(voice_set)
    return kept


if __name__ == "__main__":  # a quick inventory
    import sys

    for voice_set in all_sets(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        with_text = sum(bool(clip.text) for clip in voice_set.clips)
        print(f"{voice_set.name:28} {voice_set.language:6} {voice_set.unit:24} {UNIT_SPLITS[voice_set.unit]:5} "
              f"{len(voice_set.clips):5} clips, {with_text:5} with text; e.g. {voice_set.clips[0].text[:50]!r}")

