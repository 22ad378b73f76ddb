"""The mini-benchmark v2 builder (scripts/minibench*.py) on synthetic waves: no apt package, no TTS venv, no network.

Bona fide "recordings": a noisy harmonic voice with a wide band (energy up to 8 kHz) at 16 kHz, level around
-20 dBFS, with leading silence; TTS: a clean, quieter, narrower voice at 22.05 kHz without leading silence. So every
cue the chain must remove (bandwidth, rate, level, silence) differs between the classes before the chain.
"""
from __future__ import annotations

import gzip

import numpy as np
import pytest
import soundfile

from conventions import BONAFIDE, SPOOF
from datasets.asvspoof import ASVspoof2019LADataset_single, asvspoof2019_la_paths
from scripts import minibench, minibench_neural, minibench_sources, minibench_tts
from scripts.minibench_sources import Clip, VoiceSet

# speaker -> (split unit, split, language); two speakers share the train unit (say, one package and language)
SPEAKERS = {"spk_train_a": ("unit_train", "train", "en"), "spk_train_b": ("unit_train", "train", "es"),
            "spk_dev": ("unit_dev", "dev", "fr"), "spk_eval": ("unit_eval", "eval", "ru")}
# attacks per split, as ATTACKS allows them: TTS and vocoders
TTS = {"train": ("A01", "A08"), "dev": ("A01", "A13"), "eval": ("A09", "A14")}
VOCODERS = {"train": ("A10",), "dev": ("A10",), "eval": ("A11",)}
CODECS = {"spk_train_a": "vorbis", "spk_train_b": "pcm", "spk_dev": "gsm", "spk_eval": "mulaw"}
N_PROMPTS = 3


def voice(rate: int, seconds: float, f0: float, rng, top_hz: float, noise: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(top_hz // f0)))
    wave = wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + noise * rng.standard_normal(len(t))
    return (wave / np.abs(wave).max()).astype(np.float32)


def write_raw(folder, speakers=SPEAKERS, tts=TTS, vocoders=VOCODERS):
    rng = np.random.default_rng(0)
    rows = []
    for speaker, (unit, split, language) in speakers.items():
        common = {"speaker": speaker, "set": f"{speaker}_set", "unit": unit, "language": language, "source": "synthetic",
                  "codec": CODECS.get(speaker, "pcm"), "text": "some prompt text."}
        for prompt in range(N_PROMPTS):
            path = folder / f"{speaker}_{prompt}.wav"
            wave = 0.3 * voice(16000, 1.6 + 0.2 * prompt, 140 + 20 * prompt, rng, 7900, 0.05)
            # a recording in its set's source codec (as read from the package), which build gives its spoofs
            wave, rate = minibench.codec_round_trip(np.concatenate([np.zeros(8000, np.float32), wave]), 16000,
                                                    common["codec"])
            soundfile.write(path, wave, rate)
            rows.append({**common, "key": "bonafide", "prompt": f"p{prompt}", "attack": "-", "path": str(path)})
            for attack in tts[split]:
                tts_path = folder / f"{speaker}_{prompt}_{attack}.wav"
                soundfile.write(tts_path, 0.05 * voice(22050, 1.7 + 0.2 * prompt, 110, rng, 3900, 0.0), 22050)
                rows.append({**common, "key": "spoof", "prompt": f"p{prompt}", "attack": attack, "path": str(tts_path)})
            for attack in vocoders[split]:
                if prompt < 2:  # vocoded from the bona fide wave
                    rows.append({**common, "key": "spoof", "prompt": f"p{prompt}", "attack": attack, "path": str(path)})
    minibench.write_table(folder / "manifest.tsv", rows, minibench.MANIFEST_COLUMNS)
    minibench.write_table(folder / "splits.tsv", [{"speaker": s, "split": v[1]} for s, v in speakers.items()],
                          ("speaker", "split"))
    return rows


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    write_raw(folder)
    return folder


@pytest.fixture(scope="module")
def built(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("minibench")
    report = minibench.build(raw, out, log=lambda *_: None)
    return out, report


def protocol_rows(out, split):
    protocol, _ = asvspoof2019_la_paths(split, out)
    return [line.split() for line in protocol.read_text().splitlines()]


def test_raw_inputs_differ_in_the_cues_the_chain_removes(raw):
    """The premise of the chain test below: before the chain, bandwidth, level and rate give the label away."""
    bona, bona_rate = minibench.read_mono(raw / "spk_train_a_0.wav")
    tts, tts_rate = minibench.read_mono(raw / "spk_train_a_0_A01.wav")
    assert (bona_rate, tts_rate) == (16000, 22050)
    assert minibench.cues(bona, bona_rate)["hf_db"] > -20 > minibench.cues(tts, tts_rate)["hf_db"] - 10
    assert minibench.cues(bona, bona_rate)["rms_db"] - minibench.cues(tts, tts_rate)["rms_db"] > 10
    assert minibench.cues(bona, bona_rate)["lead_silence_s"] >= 0.4 > minibench.cues(tts, tts_rate)["lead_silence_s"]


@pytest.mark.parametrize("split", ["train", "dev", "eval"])
def test_layout_loads_with_the_asvspoof_2019_la_reader(built, split):
    out, _ = built
    dataset = ASVspoof2019LADataset_single(split, out)
    rows = protocol_rows(out, split)
    assert len(dataset) == len(rows) > 0
    for utterance in dataset.utterances:
        wave = dataset.read_wave(utterance)
        assert wave.ndim == 1 and wave.dtype == np.float32 and len(wave) > 16000
    assert {u.label for u in dataset.utterances} == {BONAFIDE, SPOOF}


@pytest.mark.parametrize("split", ["train", "dev", "eval"])
def test_protocol_lines_are_well_formed(built, split):
    out, _ = built
    letter = {"train": "T", "dev": "D", "eval": "E"}[split]
    ids = set()
    rows = protocol_rows(out, split)
    for speaker, utt_id, dash, attack, key in rows:
        assert SPEAKERS[speaker][1] == split and dash == "-"
        assert utt_id.startswith(f"LA_{letter}_") and utt_id not in ids
        ids.add(utt_id)
        assert key in ("bonafide", "spoof")
        assert (attack == "-") if key == "bonafide" else (split in minibench.ATTACKS[attack].splits)
    speakers = [s for s, v in SPEAKERS.items() if v[1] == split]
    keys = [row[4] for row in rows]
    assert keys.count("bonafide") == N_PROMPTS * len(speakers)
    assert keys.count("spoof") == len(speakers) * (N_PROMPTS * len(TTS[split]) + 2 * len(VOCODERS[split]))


def test_speakers_and_units_are_disjoint_across_splits(built):
    out, report = built
    speakers = {split: {row[0] for row in protocol_rows(out, split)} for split in ("train", "dev", "eval")}
    assert speakers == {split: {s for s, v in SPEAKERS.items() if v[1] == split} for split in speakers}
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["eval"] or speakers["dev"] & speakers["eval"])
    units = {split: set(report["composition"][split]["units"]) for split in speakers}
    assert units == {"train": {"unit_train"}, "dev": {"unit_dev"}, "eval": {"unit_eval"}}
    assert "speaker ids in more than one split: none" in report["text"]


def test_build_refuses_a_unit_in_two_splits_and_an_unsplit_speaker(tmp_path):
    leaky = dict(SPEAKERS, spk_dev=("unit_train", "dev", "fr"))  # a unit (say, a person) in train and dev
    write_raw(tmp_path, leaky)
    with pytest.raises(SystemExit, match="unit_train has speakers in dev, train"):
        minibench.build(tmp_path, tmp_path / "out", log=lambda *_: None)
    write_raw(tmp_path)
    minibench.write_table(tmp_path / "splits.tsv", [{"speaker": "spk_dev", "split": "dev"}], ("speaker", "split"))
    with pytest.raises(SystemExit, match="no split for speaker"):
        minibench.build(tmp_path, tmp_path / "out", log=lambda *_: None)


def test_build_refuses_an_attack_outside_its_splits(tmp_path):
    write_raw(tmp_path, tts=dict(TTS, train=("A01", "A09")))  # Kokoro is an eval-only attack
    with pytest.raises(SystemExit, match="A09 is meant for eval, not for train"):
        minibench.build(tmp_path, tmp_path / "out", log=lambda *_: None)


def test_attack_table_holds_eval_attacks_out_of_training():
    """Every eval attack is unseen in train; some are unseen in dev too; neural TTS on both sides."""
    splits = {split: {a for a, attack in minibench.ATTACKS.items() if split in attack.splits} for split in minibench.SPLITS}
    assert not splits["eval"] & splits["train"]
    assert splits["eval"] - splits["dev"] >= {"A05", "A09", "A11", "A14"}
    assert {"A08"} <= splits["train"] and {"A09", "A14"} <= splits["eval"]  # neural: Piper in train, Kokoro, hibari in eval
    assert splits["dev"] - splits["train"] == {"A04", "A13"}
    for split in minibench.SPLITS:  # every split has a vocoder and TTS
        assert {minibench.ATTACKS[a].kind for a in splits[split]} == {"tts", "vocoder"}


def test_report_names_unseen_attacks(built):
    out, report = built
    attacks = {split: {row[3] for row in protocol_rows(out, split) if row[4] == "spoof"} for split in ("train", "dev", "eval")}
    assert attacks["eval"] == {"A09", "A11", "A14"} and not attacks["eval"] & (attacks["train"] | attacks["dev"])
    assert report["unseen_eval_attacks"] == ["A09", "A11", "A14"]
    assert report["unseen_train_eval_attacks"] == ["A09", "A11", "A14"]


def test_all_audio_is_16k_mono_flac(built):
    out, _ = built
    files = sorted((out / "LA").glob("ASVspoof2019_LA_*/flac/*.flac"))
    assert len(files) == sum(len(protocol_rows(out, split)) for split in ("train", "dev", "eval"))
    for path in files:
        info = soundfile.info(str(path))
        assert (info.format, info.samplerate, info.channels, info.subtype) == ("FLAC", 16000, 1, "PCM_16")


def test_the_same_channel_chain_is_applied_to_both_classes(built):
    """After the chain both classes have no energy above the 4 kHz cut-off, the same level, the same leading
    silence (the padding), whatever they had before (test_raw_inputs_differ_...)."""
    out, _ = built
    measured = {BONAFIDE: [], SPOOF: []}
    for split in ("train", "dev", "eval"):
        dataset = ASVspoof2019LADataset_single(split, out)
        for utterance in dataset.utterances:
            measured[utterance.label].append(minibench.cues(dataset.read_wave(utterance)))
    for label, values in measured.items():
        assert len(values) >= 12, label
        for cue in values:
            assert cue["hf_db"] < -40  # energy above 4.1 kHz: only resampler leakage and 16-bit dither
            assert abs(cue["rms_db"] - minibench.TARGET_RMS_DB) < 1.5
            assert abs(cue["lead_silence_s"] - minibench.PAD_S) <= 0.06


def test_cue_report_is_near_chance_and_complete(raw, built):
    """Level, bandwidth, silence, language, codec and speaker alone cannot separate the classes after the chain;
    on the raw inputs the level alone separates them perfectly."""
    out, report = built
    for split, eers in report["cue_eers"].items():
        assert set(eers) == {*minibench.CUES, *minibench.CATEGORICAL_CUES, "logistic", "logistic2"}
        for cue in ("hf_db", "rms_db", "lead_silence_s"):
            assert eers[cue] > 20, (split, cue, eers[cue])
        for cue in minibench.CATEGORICAL_CUES:  # every speaker (set) has the same spoof : bona fide ratio
            assert eers[cue] == 50.0
        assert set(report["per_attack"][split]) == {*TTS[split], *VOCODERS[split]}
    text = (out / "minibench_report.txt").read_text()
    assert "logistic" in text and "per attack" in text and "languages (bona fide/spoof): en 3/" in text
    meta = minibench.read_table(out / "minibench_meta.tsv")
    assert set(meta[0]) == set(minibench.META_COLUMNS) and len({row["language"] for row in meta}) == 4
    rms = {"bonafide": [], "spoof": []}
    for row in minibench.read_table(raw / "manifest.tsv"):
        if row["attack"] not in minibench.VOCODER_IDS:
            rms[row["key"]].append(minibench.cues(*minibench.read_mono(row["path"]))["rms_db"])
    assert minibench.single_cue_eer(np.array(rms["bonafide"]), np.array(rms["spoof"])) == 0.0


def test_categorical_cue_finds_a_language_mismatch():
    labels = np.array([1, 1, 0, 0, 0, 0], float)
    assert minibench.categorical_eer(["en", "en", "fr", "fr", "fr", "fr"], labels) == 0.0
    assert minibench.categorical_eer(["en", "fr", "en", "en", "fr", "fr"], labels) == 0.5  # one ratio everywhere


def test_channel_removes_band_level_and_silence_differences():
    rng = np.random.default_rng(1)
    loud_wide = np.concatenate([np.zeros(16000, np.float32), 0.5 * voice(16000, 1.5, 150, rng, 7900, 0.1)])
    quiet_narrow = 0.01 * voice(44100, 1.5, 120, rng, 2000, 0.0)
    a = minibench.cues(minibench.channel(loud_wide, 16000, 0))
    b = minibench.cues(minibench.channel(quiet_narrow, 44100, 1))
    assert a["hf_db"] < -40 and b["hf_db"] < -40
    assert abs(a["rms_db"] - b["rms_db"]) < 1.0
    assert a["lead_silence_s"] == pytest.approx(b["lead_silence_s"], abs=0.04)
    assert abs(a["duration_s"] - b["duration_s"]) < 0.1  # leading second of silence trimmed


def test_codecs_keep_the_signal():
    rng = np.random.default_rng(3)
    wave = 0.3 * voice(16000, 1.0, 130, rng, 3500, 0.02)
    assert np.array_equal(minibench.codec_round_trip(wave, 16000, "pcm")[0], wave)
    for codec in ("gsm", "mulaw", "vorbis", "opus"):
        out, rate = minibench.codec_round_trip(wave, 16000, codec)
        assert rate == (8000 if codec in ("gsm", "mulaw") else 16000)
        assert abs(len(out) / rate - 1.0) < 0.02 and np.isfinite(out).all()
        reference = minibench.resample(wave, 16000, rate)[: len(out)]
        assert np.corrcoef(reference[: len(out)], out[: len(reference)])[0, 1] > 0.5, codec  # lossy, not lost
    narrow = minibench.resample(wave, 16000, 8000)
    assert len(minibench.gsm_round_trip(narrow)) == len(narrow)


def test_build_is_idempotent_and_parallel_builds_agree(raw, built, tmp_path):
    out, _ = built
    first = {p.name: soundfile.read(str(p))[0] for p in (out / "LA").glob("ASVspoof2019_LA_dev/flac/*.flac")}
    again = tmp_path / "again"
    minibench.build(raw, again, log=lambda *_: None)
    minibench.build(raw, again, jobs=2, log=lambda *_: None)
    second = {p.name: soundfile.read(str(p))[0] for p in (again / "LA").glob("ASVspoof2019_LA_dev/flac/*.flac")}
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[name], second[name]) for name in first)
    assert (out / "minibench_meta.tsv").read_text() == (again / "minibench_meta.tsv").read_text()


def test_vocoders_keep_the_length_and_change_the_wave():
    rng = np.random.default_rng(2)
    wave = 0.3 * voice(8000, 1.0, 130, rng, 3500, 0.02)
    for attack in ("A10", "A11"):
        out, rate = minibench.vocode(attack, wave, 8000, 0)
        assert rate == 8000 and abs(len(out) - len(wave)) <= 1
        assert np.isfinite(out).all() and np.std(out) > 0.01
        assert not np.allclose(out, wave, atol=1e-3)


# ----- prepare's pure parts: clips -> utterances -> spoof plan -----


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three voice sets of short clips (0.3-1.2 s of speech between silences) in two units."""
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(4)
    sets = []
    for name, unit, language in (("set_a", "unit_a", "en"), ("set_b", "unit_a", "es"), ("set_c", "unit_c", "fr")):
        clip_list = []
        for i in range(14):
            speech = 0.3 * voice(22050, 0.3 + 0.07 * i, 120 + 7 * i, rng, 4000, 0.02)
            wave = np.concatenate([np.zeros(4000, np.float32), speech, np.zeros(3000, np.float32)])
            path = folder / f"{name}_{i}.ogg"
            soundfile.write(path, wave, 22050, format="OGG", subtype="VORBIS")
            clip_list.append(Clip(str(path), f"word{i}" if i % 3 else ""))
        sets.append(VoiceSet(name, name, unit, language, "synthetic", clip_list))
    return folder, sets


def test_clips_are_joined_into_utterances_of_two_to_four_seconds(clips):
    folder, sets = clips
    utterances = minibench.assemble_set(sets[0], 4, folder / "out_a")
    assert 2 <= len(utterances) <= 4
    used = [piece["path"] for u in utterances for piece in u["pieces"]]
    assert len(used) == len(set(used))  # a clip is used once
    for utterance in utterances:
        wave, rate = minibench.read_mono(folder / "out_a" / f"{utterance['prompt']}.flac")
        assert rate == minibench.STORE_RATE and utterance["codec"] == "vorbis"
        assert minibench.UTTERANCE_SECONDS[0] - 0.05 <= len(wave) / rate <= minibench.UTTERANCE_SECONDS[1] + 0.05
        assert len(utterance["gaps"]) == len(utterance["pieces"]) - 1
        speech = sum(piece["seconds"] for piece in utterance["pieces"])
        assert len(wave) / rate == pytest.approx(speech + sum(utterance["gaps"]), abs=0.01)
        assert abs(wave[0]) < 1e-3  # faded in
    assert minibench.assemble_set(sets[0], 4, folder / "out_a") == utterances  # reused on a rerun


def test_spoofs_match_each_set_and_speak_its_language(clips):
    folder, sets = clips
    utterances = {s.name: minibench.assemble_set(s, 4, folder / f"out_{s.name}") for s in sets}
    available = {"A01": {"en", "es", "fr"}, "A02": {"en"}, "A08": {"en", "es", "fr"}, "A10": {"en", "es", "fr"},
                 "A09": {"en", "es", "fr"}, "A11": {"en", "es", "fr"}}
    plans = minibench.plan_spoofs(sets, utterances, available, 1.25, 0, {"es": ["una rana verde"]},
                                  {"unit_a": "train", "unit_c": "eval"})
    for voice_set in sets:
        mine = [p for p in plans if p["set"] == voice_set.name]
        assert len(mine) == round(1.25 * len(utterances[voice_set.name]))  # the same ratio in every set
        split = "train" if voice_set.unit == "unit_a" else "eval"
        assert {p["attack"] for p in mine} <= {a for a in available if split in minibench.ATTACKS[a].splits
                                               and voice_set.language in available[a]}
        prompts = {u["prompt"]: u for u in utterances[voice_set.name]}
        for plan in mine:  # the pieces, durations and pauses of the bona fide utterance it mirrors
            mirrored = prompts[plan["prompt"]]
            assert plan["gaps"] == mirrored["gaps"] and plan["codec"] == mirrored["codec"]
            assert [p["seconds"] for p in plan["pieces"]] == [p["seconds"] for p in mirrored["pieces"]]
            assert all(p["text"] for p in plan["pieces"])  # clips without a text get one of the language
    assert "A02" not in {p["attack"] for p in plans if p["set"] == "set_b"}  # flite speaks only English
    assert {p["attack"] for p in plans if p["set"] == "set_c"} <= {"A09", "A11"}
    capped = minibench.plan_spoofs(sets, utterances, available, 1.25, 1, {}, {"unit_a": "train", "unit_c": "eval"})
    assert max(sum(p["set"] == s.name and p["attack"] == a for p in capped) for s in sets for a in available) == 1


def test_a_tts_piece_far_longer_than_its_recording_ends_at_a_pause():
    rate = minibench.STORE_RATE
    rng = np.random.default_rng(5)
    words = [0.3 * voice(rate, 0.5, 120, rng, 3000, 0.0) for _ in range(6)]
    piece = np.concatenate([np.concatenate([w, np.zeros(rate // 10, np.float32)]) for w in words])[: -rate // 10]
    assert minibench.fit_piece(piece, 3.0) is piece  # within 1.3 times: kept whole
    cut = minibench.fit_piece(piece, 1.5)
    assert 0.9 * 1.5 <= len(cut) / rate <= 1.3 * 1.5
    assert abs(len(cut) / rate - 1.7) <= 0.04  # in the pause after the third word (1.7-1.8 s)
    assert abs(cut[-1]) < 1e-3


def test_texts_far_too_short_for_their_recording_are_replaced():
    assert minibench.fits("A", 0.8) and minibench.fits("ba1", 0.35) and minibench.fits("Une grenouille.", 1.2)
    assert not minibench.fits("ا", 2.6) and not minibench.fits("", 1.0)


def test_proxy_text_takes_words_of_the_language():
    rng = np.random.default_rng(0)
    text = minibench.proxy_text(["— (x) Une grenouille verte sur une feuille."], 1.0, rng)
    assert 1 <= len(text.split()) <= 3 and all(any(c.isalpha() for c in w) for w in text.split())


# ----- sources and engines -----


def test_prompt_texts_parse(tmp_path):
    folder = tmp_path / "asterisk-core-sounds-xx"
    folder.mkdir()
    with gzip.open(folder / "core-sounds-xx.txt.gz", "wt", encoding="utf-8") as file:
        file.write("; comment\n\nagent-pass: Please enter your password...\nbeep: [this is a beep]\n"
                   "muted: Voce disattivata. (You are now muted.)\n")
    assert minibench_sources.read_prompt_texts("asterisk-core-sounds-xx", tmp_path) == {
        "agent-pass": "Please enter your password.", "muted": "Voce disattivata."}


def test_units_keep_people_in_one_split():
    splits = minibench_sources.UNIT_SPLITS
    assert set(splits.values()) == {"train", "dev", "eval"}
    assert minibench_sources.family("nb") == minibench_sources.family("nn") == "no"
    assert minibench_sources.family("pt_BR") == "pt" and minibench_sources.family("en_GB") == "en"
    families = [f for fs in minibench_sources.COMMUNITY_SPLITS.values() for f in fs]
    assert len(families) == len(set(families))  # a language family of the community packages in one split
    allison = [s for s in minibench_sources.ASTERISK_SETS if s[1] == "Allison"]
    assert len(allison) == 2  # en_US and es_MX: one speaker, one unit


def test_tuxpaint_fillets_and_festvox_sources(tmp_path):
    stamps = tmp_path / "stamps" / "animals"
    stamps.mkdir(parents=True)
    soundfile.write(stamps / "frog_desc_fr.ogg", np.zeros(8000, np.float32) + 0.1, 16000, format="OGG", subtype="VORBIS")
    (stamps / "frog.txt").write_text("A frog.\nfr.utf8=Une « grenouille ».\nes.utf8=Una rana.\n", encoding="utf-8")
    sets = minibench_sources.tuxpaint_sets(tmp_path / "stamps")
    assert [(s.name, s.unit, s.clips[0].text) for s in sets] == [("tuxpaint_fr", "community_fr", "Une grenouille .")]
    assert minibench_sources.proxy_pool(tmp_path / "stamps")["es"] == ["Una rana."]

    fillets = tmp_path / "fillets"
    (fillets / "script" / "barrel").mkdir(parents=True)
    (fillets / "sound" / "barrel" / "cs").mkdir(parents=True)
    (fillets / "script" / "barrel" / "dialogs_cs.lua").write_text(
        'dialogId("bar-v-co", "font_big", "What now?")\ndialogStr("Co teď?")\n\n'
        'dialogId("bar-x-hs", "font_statue", "Calm.")\ndialogStr("Klid.")\n\n'
        'dialogId("bar-x-gr0", "", "")\n\ndialogId("disk-x-vir1", "font_green", "033455D394F938E624A68")\n'
        'dialogStr("033455D394F938E624A68")\n', encoding="utf-8")
    for dialog in ("bar-v-co", "bar-x-hs", "bar-x-gr0", "disk-x-vir1"):  # a growl and hexadecimal: not speech
        soundfile.write(fillets / "sound" / "barrel" / "cs" / f"{dialog}.ogg", np.zeros(800, np.float32), 8000,
                        format="OGG", subtype="VORBIS")
    sets = minibench_sources.fillets_sets(fillets)
    assert [(s.name, s.unit, [c.text for c in s.clips]) for s in sets] == [
        ("fillets_cs_big", "fillets_cs", ["Co teď?"]), ("fillets_cs_minor", "fillets_cs", ["Klid."])]

    voice_dir = tmp_path / "nsh"
    for sub in ("etc", "wav", "lab"):
        (voice_dir / sub).mkdir(parents=True)
    (voice_dir / "etc" / "txt.done.data").write_text('( ru_0001 "Раз, два, тр+и." )\n', encoding="utf-8")
    soundfile.write(voice_dir / "wav" / "ru_0001.wav", np.zeros(16000 * 5, np.float32), 16000)
    (voice_dir / "lab" / "ru_0001.lab").write_text(
        "#\n0.40 125 pau\n1.0 125 r\n2.0 125 a\n2.3 125 pau\n3.5 125 d\n3.7 125 pau\n4.2 125 t\n4.6 125 pau\n",
        encoding="utf-8")
    (nsh,) = minibench_sources.festvox_ru_sets(voice_dir)
    assert [(c.text, round(c.start, 2), round(c.end, 2)) for c in nsh.clips] == [
        ("Раз, два.", 0.35, 3.55), ("три.", 3.65, 4.25)]  # phrases cut at the pauses, merged up to 3.5 s


def test_zhuyin_to_pinyin():
    convert = minibench_sources.zhuyin_to_pinyin
    assert [convert(s) for s in ("ㄅㄚ1", "ㄓ", "ㄐㄩ3", "ㄧㄢ2", "ㄨㄥ", "ㄌㄩ4", "ㄒㄩㄝ2")] == [
        "ba1", "zhi1", "ju3", "yan2", "weng1", "lv4", "xue2"]


def test_tts_tables_and_the_neural_worker_helpers():
    for attack in ("A03", "A04", "A05"):
        for voices in minibench_tts.FESTIVAL_VOICES[attack].values():
            for voice_name, encoding in voices:
                "é".encode(encoding, errors="replace")
    assert minibench_tts.voice_for("A09", "fr", 7) in minibench_tts.KOKORO_STYLES
    assert set(minibench_tts.NEURAL) == {a for a, attack in minibench.ATTACKS.items() if "TTS venv" in attack.package}
    rate = 24000
    audio = np.concatenate([np.zeros(rate // 2), 0.3 * np.sin(np.arange(rate) / 10), np.zeros(rate // 4)])
    assert minibench_neural.speech_seconds(audio, rate) == pytest.approx(1.0, abs=0.03)
    assert minibench_neural.misaki("ɹɚ", True) == "ɹəɹ" and minibench_neural.misaki("ru", False) == "ru"
    script = minibench_tts.festival_script([('say "this"', 1.25, "/tmp/x.wav")], "kal_diphone")
    assert "(voice_kal_diphone)" in script and "Duration_Stretch 1.250" in script and '"this"' not in script
