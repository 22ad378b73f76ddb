"""scripts/minibench.py build: raw waves -> the ASVspoof 2019 LA layout, one channel chain for both classes.

No apt package, no network: the "recordings" and the "TTS" waves are synthesised here. Bona fide: a noisy
harmonic voice with a wide band (energy up to 8 kHz) at 16 kHz, level around -20 dBFS, with leading silence;
TTS: a clean, quieter, narrower voice at 22.05 kHz without leading silence. So every cue the chain must remove
(bandwidth, rate, level, silence) differs between the classes before the chain.
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from conventions import BONAFIDE, SPOOF
from datasets.asvspoof import ASVspoof2019LADataset_single, asvspoof2019_la_paths
from scripts import minibench

SPEAKERS = {"spk_train": "train", "spk_dev": "dev", "spk_eval": "eval"}
# TTS attack per split: A01 everywhere, A05 only in eval (the held-out TTS system)
TTS = {"train": ("A01",), "dev": ("A01",), "eval": ("A01", "A05")}
N_PROMPTS = 4


def voice(rate: int, seconds: float, f0: float, rng, top_hz: float, noise: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(top_hz // f0)))
    wave = wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + noise * rng.standard_normal(len(t))
    return (wave / np.abs(wave).max()).astype(np.float32)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    rng = np.random.default_rng(0)
    rows = []
    for speaker, split in SPEAKERS.items():
        for prompt in range(N_PROMPTS):
            path = folder / f"{speaker}_{prompt}.wav"
            wave = 0.3 * voice(16000, 1.2 + 0.1 * prompt, 140 + 20 * prompt, rng, 7900, 0.05)
            soundfile.write(path, np.concatenate([np.zeros(8000, np.float32), wave]), 16000)
            rows.append({"key": "bonafide", "speaker": speaker, "set": f"{speaker}_set", "prompt": f"p{prompt}",
                         "attack": "-", "path": str(path), "text": "some prompt text."})
            for attack in TTS[split]:
                path = folder / f"{speaker}_{prompt}_{attack}.wav"
                soundfile.write(path, 0.05 * voice(22050, 1.3, 110, rng, 3000, 0.0), 22050)
                rows.append({"key": "spoof", "speaker": speaker, "set": f"{speaker}_set", "prompt": f"p{prompt}",
                             "attack": attack, "path": str(path), "text": "some prompt text."})
    minibench.write_table(folder / "manifest.tsv", rows, minibench.MANIFEST_COLUMNS)
    minibench.write_table(folder / "splits.tsv", [{"speaker": s, "split": p} for s, p in SPEAKERS.items()],
                          ("speaker", "split"))
    return folder


@pytest.fixture(scope="module")
def built(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("minibench")
    # Griffin-Lim everywhere, the LPC vocoder only in eval (ATTACKS); 2 vocoded utterances per speaker and vocoder
    report = minibench.build(raw, out, per_attack=2, vocoders=("A10", "A11"), log=lambda *_: None)
    return out, report


def protocol_rows(out, split):
    protocol, _ = asvspoof2019_la_paths(split, out)
    return [line.split() for line in protocol.read_text().splitlines()]


def test_raw_inputs_differ_in_the_cues_the_chain_removes(raw):
    """The premise of the chain test below: before the chain, bandwidth, level and rate give the label away."""
    bona, bona_rate = minibench.read_mono(raw / "spk_train_0.wav")
    tts, tts_rate = minibench.read_mono(raw / "spk_train_0_A01.wav")
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
    for speaker, utt_id, dash, attack, key in protocol_rows(out, split):
        assert speaker in SPEAKERS and dash == "-"
        assert utt_id.startswith(f"LA_{letter}_") and utt_id not in ids
        ids.add(utt_id)
        assert key in ("bonafide", "spoof")
        assert (attack == "-") if key == "bonafide" else (attack in minibench.ATTACKS)
    # per speaker: every prompt once as bona fide, TTS once per attack, 2 per vocoder of the split
    keys = [row[4] for row in protocol_rows(out, split)]
    vocoders = [a for a in ("A10", "A11") if split in minibench.ATTACKS[a].splits]
    assert keys.count("bonafide") == N_PROMPTS
    assert keys.count("spoof") == N_PROMPTS * len(TTS[split]) + 2 * len(vocoders)


def test_speakers_are_disjoint_across_splits(built):
    out, _ = built
    speakers = {split: {row[0] for row in protocol_rows(out, split)} for split in ("train", "dev", "eval")}
    assert speakers == {split: {s for s, p in SPEAKERS.items() if p == split} for split in speakers}
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["eval"] or speakers["dev"] & speakers["eval"])


def test_eval_has_attacks_unseen_in_train_and_dev(built):
    out, report = built
    attacks = {split: {row[3] for row in protocol_rows(out, split) if row[4] == "spoof"} for split in ("train", "dev", "eval")}
    unseen = attacks["eval"] - attacks["train"] - attacks["dev"]
    assert unseen == {"A05", "A11"}  # the held-out TTS system and the held-out vocoder
    assert attacks["train"] == {"A01", "A10"}
    assert report["unseen_eval_attacks"] == ["A05", "A11"]


def test_all_audio_is_16k_mono_flac(built):
    out, _ = built
    files = sorted((out / "LA").glob("ASVspoof2019_LA_*/flac/*.flac"))
    n_lines = sum(len(protocol_rows(out, split)) for split in ("train", "dev", "eval"))
    assert len(files) == n_lines
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


def test_trivial_cue_classifier_is_near_chance(raw, built):
    """Level, bandwidth and leading silence alone cannot separate the classes (EER far from 0) after the chain;
    on the raw inputs the same cues separate them perfectly."""
    _, report = built
    for split, eers in report["cue_eers"].items():
        for cue in ("hf_db", "rms_db", "lead_silence_s"):
            assert eers[cue] > 20, (split, cue, eers[cue])
    rms = {"bonafide": [], "spoof": []}
    for row in minibench.read_table(raw / "manifest.tsv"):
        rms[row["key"]].append(minibench.cues(*minibench.read_mono(row["path"]))["rms_db"])
    assert minibench.single_cue_eer(np.array(rms["bonafide"]), np.array(rms["spoof"])) == 0.0


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


def test_build_is_idempotent(raw, built, tmp_path):
    out, _ = built
    first = {p.name: soundfile.read(str(p))[0] for p in (out / "LA").glob("ASVspoof2019_LA_dev/flac/*.flac")}
    again = tmp_path / "again"
    minibench.build(raw, again, per_attack=2, vocoders=("A10", "A11"), log=lambda *_: None)
    minibench.build(raw, again, per_attack=2, vocoders=("A10", "A11"), log=lambda *_: None)
    second = {p.name: soundfile.read(str(p))[0] for p in (again / "LA").glob("ASVspoof2019_LA_dev/flac/*.flac")}
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[name], second[name]) for name in first)


def test_vocoders_keep_the_length_and_change_the_wave():
    rng = np.random.default_rng(2)
    wave = 0.3 * voice(8000, 1.0, 130, rng, 3500, 0.02)
    for attack in ("A10", "A11"):
        out, rate = minibench.vocode(attack, wave, 8000, 0)
        assert rate == 8000 and abs(len(out) - len(wave)) <= 1
        assert np.isfinite(out).all() and np.std(out) > 0.01
        assert not np.allclose(out, wave, atol=1e-3)


def test_prompt_texts_parse(tmp_path, monkeypatch):
    import gzip

    folder = tmp_path / "asterisk-core-sounds-xx"
    folder.mkdir()
    with gzip.open(folder / "core-sounds-xx.txt.gz", "wt", encoding="utf-8") as file:
        file.write("; comment\n\nagent-pass: Please enter your password...\nbeep: [this is a beep]\n"
                   "muted: Voce disattivata. (You are now muted.)\n")
    monkeypatch.setattr(minibench, "DOCS", tmp_path)
    assert minibench.read_prompt_texts("asterisk-core-sounds-xx") == {
        "agent-pass": "Please enter your password.", "muted": "Voce disattivata."}
