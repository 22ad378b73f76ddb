"""The corpus readers on tiny fake corpora written in each official layout: protocol parsing,
the 2021 eval-subset filter, UsageErrors naming missing paths and malformed lines, and reading."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from conventions import BONAFIDE, SAMPLE_RATE, SPOOF, UsageError
from datasets.base import collate_batch
from common import DATASETS as CORPUS_DATASETS

LA2019 = {
    "train": ["LA_0079 LA_T_1138215 - - bonafide", "LA_0079 LA_T_1271820 - A01 spoof", "LA_0080 LA_T_1000001 - A02 spoof"],
    "dev": ["LA_0069 LA_D_1047731 - - bonafide", "LA_0070 LA_D_1105538 - A03 spoof"],
    "eval": ["LA_0039 LA_E_2834763 - A11 spoof", "LA_0030 LA_E_5849185 - - bonafide", "LA_0030 LA_E_1000002 - A19 spoof"],
}
KEYS_LA = [
    "LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval",
    "LA_0020 LA_E_7294490 g722 loc_tx bonafide bonafide notrim eval",
    "LA_0009 LA_E_8589971 alaw loc_tx A07 spoof notrim progress",
    "LA_0011 LA_E_1000005 none - - bonafide notrim eval",
    "LA_0012 LA_E_1000006 gsm pstn A19 spoof notrim hidden",
]
KEYS_DF = [
    "LA_0043 DF_E_2000026 mp3m4a asvspoof A09 spoof notrim eval traditional_vocoder - - - -",
    "LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -",
    "VCC2TF1 DF_E_2000031 low_m4a vcc2020 bonafide bonafide notrim eval bonafide - - - -",
]
ASV5 = {
    "train": ["T_4850 T_0000000000 F - - - AC3 A05 spoof -", "T_3734 T_0000000011 F - - - - bonafide bonafide -"],
    "dev": ["D_0461 D_0000000190 M - - - - bonafide bonafide -", "D_4461 D_0000000169 F - - - AC1 A14 spoof -"],
    "eval": ["E_1607 E_0009538969 M C05 2 E_0009486171 AC1 A26 spoof -", "E_0001 E_0000000001 F - - - - bonafide bonafide -"],
}
ASV5_AUDIO = {"train": "flac_T", "dev": "flac_D", "eval": "flac_E_eval"}
ITW = ["file,speaker,label", "0.wav,Alec Guinness,spoof", "1.wav,Alec Guinness,bona-fide", "2.wav,Barack Obama,spoof"]


def write_audio(path: Path, seconds: float = 0.1, rate: int = SAMPLE_RATE, channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    soundfile.write(path, np.stack([wave] * channels, axis=1) if channels > 1 else wave, rate)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def la2019_protocol(root: Path, split: str) -> Path:
    name = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}[split]
    return root / "LA" / "ASVspoof2019_LA_cm_protocols" / f"ASVspoof2019.LA.cm.{name}.txt"


def make_la2019(root: Path) -> None:
    for split, lines in LA2019.items():
        write_lines(la2019_protocol(root, split), lines)
        for line in lines:
            write_audio(root / "LA" / f"ASVspoof2019_LA_{split}" / "flac" / f"{line.split()[1]}.flac")


def make_2021(root: Path) -> None:
    make_la2019(root)
    for track, lines in (("LA", KEYS_LA), ("DF", KEYS_DF)):
        write_lines(root / "keys" / track / "CM" / "trial_metadata.txt", lines)
        for line in lines:
            write_audio(root / f"ASVspoof2021_{track}_eval" / "flac" / f"{line.split()[1]}.flac")


def make_asv5(root: Path, in_protocols_folder: bool = True) -> None:
    names = {"train": "ASVspoof5.train.tsv", "dev": "ASVspoof5.dev.track_1.tsv", "eval": "ASVspoof5.eval.track_1.tsv"}
    for split, lines in ASV5.items():
        folder = root / "ASVspoof5" / ("ASVspoof5_protocols" if in_protocols_folder else "")
        write_lines(folder / names[split], lines)
        for line in lines:
            write_audio(root / "ASVspoof5" / ASV5_AUDIO[split] / f"{line.split()[1]}.flac")


def make_itw(root: Path) -> None:
    make_la2019(root)
    write_lines(root / "release_in_the_wild" / "meta.csv", ITW)
    for line in ITW[1:]:
        write_audio(root / "release_in_the_wild" / line.split(",")[0], seconds=0.2, rate=22050, channels=2)


def make_protocol(root: Path) -> None:
    write_lines(root / "protocol_train.csv", ["path,label,speaker,attack", "real/a.wav,bonafide,S1,", "fake/a.wav,spoof,S1,TTS1", "fake/b.wav,1,,-"])
    write_lines(root / "protocol_dev.txt", ["label path utt_id", "bona-fide real/a.wav dev_a", "0 real/b.wav dev_b", "spoof fake/b.wav dev_c"])
    write_lines(root / "protocol_eval.csv", ["utt_id,label,path", "e1,Spoof,fake/a.wav", f"e2,BONAFIDE,{root / 'real' / 'b.wav'}"])
    for name in ("real/a.wav", "real/b.wav", "fake/a.wav", "fake/b.wav"):
        write_audio(root / name, rate=22050 if name.startswith("fake") else SAMPLE_RATE)


def summary(dataset) -> list[tuple]:
    return [(u.utt_id, u.label, u.speaker, u.attack) for u in dataset.utterances]


# ----- parsing -----


@pytest.mark.parametrize("variant", ["single", "pair"])
def test_asvspoof2019_la(tmp_path, variant):
    make_la2019(tmp_path)
    cls = CORPUS_DATASETS[f"ASVspoof2019LADataset_{variant}"]
    train = cls("train", tmp_path)
    assert summary(train) == [
        ("LA_T_1138215", BONAFIDE, "LA_0079", None),
        ("LA_T_1271820", SPOOF, "LA_0079", "A01"),
        ("LA_T_1000001", SPOOF, "LA_0080", "A02"),
    ]
    assert train.utterances[0].source == str(tmp_path / "LA" / "ASVspoof2019_LA_train" / "flac" / "LA_T_1138215.flac")
    assert [u.utt_id for u in cls("eval", tmp_path).utterances] == ["LA_E_2834763", "LA_E_5849185", "LA_E_1000002"]
    item = train[1]
    assert item["wave"].shape == (int(0.1 * SAMPLE_RATE),) and item["label"] == SPOOF
    if variant == "pair":
        # LA_0080 has no bona fide; LA_T_1138215, the split's only bona fide utterance, is its own reference
        assert item["ref_utt_id"] == "LA_T_1138215" and train.pair_fallbacks == 2 and train.pair_self_references == 1


def test_asvspoof2021_la_keeps_the_eval_subset(tmp_path):
    make_2021(tmp_path)
    cls = CORPUS_DATASETS["ASVspoof2021LADataset_single"]
    evaluation = cls("eval", tmp_path)
    assert summary(evaluation) == [
        ("LA_E_9332881", SPOOF, "LA_0009", "A07"),
        ("LA_E_7294490", BONAFIDE, "LA_0020", None),
        ("LA_E_1000005", BONAFIDE, "LA_0011", None),
    ]
    assert [(u.codec, u.subset) for u in evaluation.utterances] == [("alaw", "eval"), ("g722", "eval"), ("none", "eval")]
    assert evaluation.utterances[0].source == str(tmp_path / "ASVspoof2021_LA_eval" / "flac" / "LA_E_9332881.flac")
    every = cls("eval", tmp_path, subsets=None)
    assert [u.subset for u in every.utterances] == ["eval", "eval", "progress", "eval", "hidden"]
    assert summary(cls("train", tmp_path)) == summary(CORPUS_DATASETS["ASVspoof2019LADataset_single"]("train", tmp_path))
    assert summary(cls("dev", tmp_path))[0] == ("LA_D_1047731", BONAFIDE, "LA_0069", None)


def test_asvspoof2021_df(tmp_path):
    make_2021(tmp_path)
    evaluation = CORPUS_DATASETS["ASVspoof2021DFDataset_pair"]("eval", tmp_path)
    assert summary(evaluation) == [("DF_E_2000026", SPOOF, "LA_0043", "A09"), ("DF_E_2000031", BONAFIDE, "VCC2TF1", None)]
    assert [u.codec for u in evaluation.utterances] == ["mp3m4a", "low_m4a"]
    assert evaluation.pair_fallbacks == 2 and evaluation.pair_self_references == 1 and evaluation[0]["ref_utt_id"] == "DF_E_2000031"
    assert CORPUS_DATASETS["ASVspoof2021DFDataset_single"]("train", tmp_path).utterances[0].utt_id == "LA_T_1138215"


@pytest.mark.parametrize("in_protocols_folder", [True, False])
def test_asvspoof5(tmp_path, in_protocols_folder):
    make_asv5(tmp_path, in_protocols_folder)
    cls = CORPUS_DATASETS["ASVspoof5Dataset_single"]
    assert summary(cls("train", tmp_path)) == [("T_0000000000", SPOOF, "T_4850", "A05"), ("T_0000000011", BONAFIDE, "T_3734", None)]
    assert summary(cls("dev", tmp_path))[1] == ("D_0000000169", SPOOF, "D_4461", "A14")
    evaluation = cls("eval", tmp_path)
    assert summary(evaluation) == [("E_0009538969", SPOOF, "E_1607", "A26"), ("E_0000000001", BONAFIDE, "E_0001", None)]
    assert [u.codec for u in evaluation.utterances] == ["C05", None]
    assert evaluation.utterances[0].source == str(tmp_path / "ASVspoof5" / "flac_E_eval" / "E_0009538969.flac")
    assert evaluation[0]["wave"].numel() == int(0.1 * SAMPLE_RATE)


def test_in_the_wild(tmp_path):
    make_itw(tmp_path)
    evaluation = CORPUS_DATASETS["InTheWildDataset_single"]("eval", tmp_path)
    assert summary(evaluation) == [("0", SPOOF, "Alec Guinness", "spoof"), ("1", BONAFIDE, "Alec Guinness", None), ("2", SPOOF, "Barack Obama", "spoof")]
    assert evaluation.utterances[2].source == str(tmp_path / "release_in_the_wild" / "2.wav")
    wave = evaluation[0]["wave"]  # 0.2 s of 22.05 kHz stereo
    assert wave.ndim == 1 and abs(wave.numel() - int(0.2 * SAMPLE_RATE)) <= 1
    assert CORPUS_DATASETS["InTheWildDataset_single"]("train", tmp_path).utterances[0].utt_id == "LA_T_1138215"
    pairs = CORPUS_DATASETS["InTheWildDataset_pair"]("eval", tmp_path)
    assert [r.utt_id for r in pairs.references] == ["1", "1", "1"] and pairs.pair_fallbacks == 2 == 2 * pairs.pair_self_references


def test_protocol_dataset(tmp_path):
    make_protocol(tmp_path)
    cls = CORPUS_DATASETS["ProtocolDataset_single"]
    train = cls("train", tmp_path)
    assert summary(train) == [("real/a", BONAFIDE, "S1", None), ("fake/a", SPOOF, "S1", "TTS1"), ("fake/b", SPOOF, None, None)]
    assert train.utterances[0].source == str(tmp_path / "real" / "a.wav")
    assert summary(cls("dev", tmp_path)) == [("dev_a", BONAFIDE, None, None), ("dev_b", BONAFIDE, None, None), ("dev_c", SPOOF, None, None)]
    evaluation = cls("eval", tmp_path)
    assert summary(evaluation) == [("e1", SPOOF, None, None), ("e2", BONAFIDE, None, None)]
    assert evaluation.utterances[1].source == str(tmp_path / "real" / "b.wav")  # absolute path kept
    assert abs(evaluation[0]["wave"].numel() - int(0.1 * SAMPLE_RATE)) <= 1  # resampled from 22.05 kHz
    batch = collate_batch([evaluation[0], evaluation[1]])
    assert batch.wave.shape[0] == 2 and batch.labels.tolist() == [SPOOF, BONAFIDE]
    pairs = CORPUS_DATASETS["ProtocolDataset_pair"]("train", tmp_path)
    assert [r.utt_id for r in pairs.references] == ["real/a", "real/a", "real/a"] and pairs.pair_fallbacks == 2 == 2 * pairs.pair_self_references


# ----- missing corpora -----

MISSING = [
    # (dataset, split, builder, path to remove, the path the message must name)
    ("ASVspoof2019LADataset_single", "dev", make_la2019, "LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.dev.trl.txt", None),
    ("ASVspoof2019LADataset_pair", "eval", make_la2019, "LA/ASVspoof2019_LA_eval/flac", None),
    ("ASVspoof2021LADataset_single", "eval", make_2021, "keys/LA/CM/trial_metadata.txt", None),
    ("ASVspoof2021DFDataset_single", "eval", make_2021, "ASVspoof2021_DF_eval/flac", None),
    ("ASVspoof2021LADataset_single", "train", make_2021, "LA/ASVspoof2019_LA_train/flac", None),
    ("ASVspoof5Dataset_single", "dev", make_asv5, "ASVspoof5/ASVspoof5_protocols/ASVspoof5.dev.track_1.tsv", None),
    ("ASVspoof5Dataset_single", "eval", make_asv5, "ASVspoof5/flac_E_eval", None),
    ("InTheWildDataset_single", "eval", make_itw, "release_in_the_wild/meta.csv", None),
    ("InTheWildDataset_pair", "dev", make_itw, "LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.dev.trl.txt", None),
    ("ProtocolDataset_single", "dev", make_protocol, "protocol_dev.txt", "protocol_dev.csv"),
    ("ProtocolDataset_single", "train", make_protocol, "fake", None),
]


def remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    else:
        path.unlink()


@pytest.mark.parametrize("name, split, build, missing, named", MISSING)
def test_a_missing_protocol_or_audio_folder_is_a_usage_error_naming_it(tmp_path, name, split, build, missing, named):
    build(tmp_path)
    CORPUS_DATASETS[name](split, tmp_path)  # complete, it loads
    remove(tmp_path / missing)
    with pytest.raises(UsageError) as caught:
        CORPUS_DATASETS[name](split, tmp_path)
    message = str(caught.value)
    assert str(tmp_path / missing) in message and "\n" not in message
    if named:
        assert str(tmp_path / named) in message


def test_an_empty_data_root_names_the_expected_protocol(tmp_path):
    with pytest.raises(UsageError, match="ASVspoof2019.LA.cm.train.trn.txt"):
        CORPUS_DATASETS["ASVspoof2019LADataset_single"]("train", tmp_path)


def test_unknown_splits_are_refused(tmp_path):
    make_la2019(tmp_path)
    with pytest.raises(ValueError, match="valid splits"):
        CORPUS_DATASETS["ASVspoof2019LADataset_single"]("test", tmp_path)


# ----- malformed protocols -----

MALFORMED = [
    # (dataset, split, builder, protocol, the line that replaces its 2nd line)
    ("ASVspoof2019LADataset_single", "train", make_la2019, "LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.train.trn.txt", "LA_0079 LA_T_1271820 A01 spoof"),
    ("ASVspoof2019LADataset_single", "train", make_la2019, "LA/ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.train.trn.txt", "LA_0079 LA_T_1271820 - A01 fake"),
    ("ASVspoof2021LADataset_single", "eval", make_2021, "keys/LA/CM/trial_metadata.txt", "LA_0020 LA_E_7294490 g722 loc_tx bonafide genuine notrim eval"),
    ("ASVspoof2021DFDataset_single", "eval", make_2021, "keys/DF/CM/trial_metadata.txt", "LA_0023 DF_E_2000011 nocodec"),
    ("ASVspoof5Dataset_single", "train", make_asv5, "ASVspoof5/ASVspoof5_protocols/ASVspoof5.train.tsv", "T_3734 T_0000000011 F - - - - bonafide"),
    ("InTheWildDataset_single", "eval", make_itw, "release_in_the_wild/meta.csv", "0.wav,Alec Guinness,deepfake"),
    ("ProtocolDataset_single", "train", make_protocol, "protocol_train.csv", "real/a.wav,bonafide"),
]


@pytest.mark.parametrize("name, split, build, protocol, line", MALFORMED)
def test_a_malformed_line_is_a_usage_error_naming_file_and_line(tmp_path, name, split, build, protocol, line):
    build(tmp_path)
    lines = (tmp_path / protocol).read_text().splitlines()
    lines[1] = line
    write_lines(tmp_path / protocol, lines)
    with pytest.raises(UsageError) as caught:
        CORPUS_DATASETS[name](split, tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / protocol}, line 2:")


def test_a_protocol_without_its_header_columns_is_a_usage_error(tmp_path):
    make_protocol(tmp_path)
    write_lines(tmp_path / "protocol_train.csv", ["file,label", "real/a.wav,bonafide"])
    with pytest.raises(UsageError, match=r"line 1: .*lacks the column\(s\) path"):
        CORPUS_DATASETS["ProtocolDataset_single"]("train", tmp_path)


def test_duplicate_utt_ids_are_a_usage_error(tmp_path):
    make_la2019(tmp_path)
    protocol = la2019_protocol(tmp_path, "dev")
    write_lines(protocol, LA2019["dev"] + [LA2019["dev"][0]])
    with pytest.raises(UsageError, match="LA_D_1047731.*listed twice"):
        CORPUS_DATASETS["ASVspoof2019LADataset_single"]("dev", tmp_path)


def test_every_dataset_has_a_one_line_docstring():
    for name, cls in CORPUS_DATASETS.items():
        assert cls.__doc__ and cls.__doc__.strip() and len(cls.__doc__.strip().splitlines()) == 1, name
    assert {"Synthetic_pair", "ASVspoof2019LADataset_single", "ASVspoof2019LADataset_pair", "ProtocolDataset_pair"} <= set(CORPUS_DATASETS)
