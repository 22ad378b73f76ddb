"""datasets/keys.py: every key format told from its first line, rows with labels, attacks,
conditions and 2021 subsets, and one UsageError naming file and line for a bad key."""
from __future__ import annotations

import pytest

from conventions import BONAFIDE, SPOOF, UsageError
from datasets.keys import read_key
from tests.datasets.test_corpora import ASV5, ITW, KEYS_DF, KEYS_LA, LA2019, write_lines


def rows_of(key):
    return [(row.utt_id, row.label, row.attack) for row in key.rows]


def test_asvspoof2019_la_protocol(tmp_path):
    key = read_key(write_lines(tmp_path / "eval.trl.txt", LA2019["eval"]))
    assert key.format == "2019LA" and key.condition_names == ()
    assert rows_of(key) == [("LA_E_2834763", SPOOF, "A11"), ("LA_E_5849185", BONAFIDE, None), ("LA_E_1000002", SPOOF, "A19")]
    assert [row.speaker for row in key.rows] == ["LA_0039", "LA_0030", "LA_0030"]


def test_asvspoof2021_la_keys_carry_codec_transmission_and_subset(tmp_path):
    key = read_key(write_lines(tmp_path / "trial_metadata.txt", KEYS_LA))
    assert key.format == "2021LA" and key.condition_names == ("codec", "transmission")
    assert [row.subset for row in key.rows] == ["eval", "eval", "progress", "eval", "hidden"]
    assert key.rows[0].conditions == {"codec": "alaw", "transmission": "ita_tx"}
    assert key.rows[3].conditions == {"codec": "none", "transmission": None}
    assert rows_of(key)[1] == ("LA_E_7294490", BONAFIDE, None)


def test_asvspoof2021_df_keys_carry_compression_source_and_vocoder(tmp_path):
    key = read_key(write_lines(tmp_path / "trial_metadata.txt", KEYS_DF))
    assert key.format == "2021DF" and key.condition_names == ("codec", "source") and key.spoof_factors == ("vocoder",)
    assert key.rows[0].conditions == {"codec": "mp3m4a", "source": "asvspoof", "vocoder": "traditional_vocoder"}
    assert rows_of(key)[2] == ("DF_E_2000031", BONAFIDE, None) and key.rows[2].conditions["vocoder"] is None
    # a DF key whose first line has the 8 columns of an LA key is still DF: its trials are DF_E_*
    short_first = [" ".join(KEYS_DF[1].split()[:8]).replace("DF_E_2000011", "DF_E_2000099"), *KEYS_DF]
    assert read_key(write_lines(tmp_path / "short.txt", short_first)).format == "2021DF"


def test_asvspoof5_protocol_and_package_key(tmp_path):
    key = read_key(write_lines(tmp_path / "ASVspoof5.eval.track_1.tsv", ASV5["eval"]))
    assert key.format == "ASVspoof5"
    assert rows_of(key) == [("E_0009538969", SPOOF, "A26"), ("E_0000000001", BONAFIDE, None)]
    assert [row.conditions["codec"] for row in key.rows] == ["C05", None]
    package = read_key(write_lines(tmp_path / "key.tsv", ["filename\tcm-label\tattack\tcodec", "E_1\tbonafide\tbonafide\tC01",
                                                          "E_2\tspoof\tA17\t-"]))
    assert package.format == "ASVspoof5-key"
    assert rows_of(package) == [("E_1", BONAFIDE, None), ("E_2", SPOOF, "A17")]
    assert [row.conditions["codec"] for row in package.rows] == ["C01", None]


def test_in_the_wild_meta_and_a_labelled_score_file(tmp_path):
    key = read_key(write_lines(tmp_path / "meta.csv", ITW))
    assert key.format == "InTheWild"
    assert rows_of(key) == [("0", SPOOF, "spoof"), ("1", BONAFIDE, None), ("2", SPOOF, "spoof")]
    scores = read_key(write_lines(tmp_path / "eval.txt", ["LA_E_1 - bonafide 1.5", "LA_E_2 A07 spoof -0.5"]))
    assert scores.format == "scores" and rows_of(scores) == [("LA_E_1", BONAFIDE, None), ("LA_E_2", SPOOF, "A07")]


@pytest.mark.parametrize("lines, named", [
    (["just three words"], "is not one of the key formats"),
    (["LA_0039 LA_E_1 - A11 spoof", "LA_0039 LA_E_2 - A11 fake"], "line 2"),
    (["LA_0039 LA_E_1 - A11 spoof", "LA_0039 LA_E_1 - A11 spoof"], r"line 2: trial LA_E_1 is listed again \(first on line 1\)"),
    (["LA_0039 LA_E_1 - - spoof"], "has no attack id"),
    (["LA_0039 LA_E_1 - A11 spoof", "LA_0039 LA_E_2 - A11"], "line 2"),
])
def test_a_bad_key_is_a_usage_error_naming_file_and_line(tmp_path, lines, named):
    with pytest.raises(UsageError, match=named):
        read_key(write_lines(tmp_path / "key.txt", lines))


def test_a_missing_key_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_key(tmp_path / "absent.txt")
