"""Score files in the ASVspoof CM format and the challenges' submission formats, written and read back."""
import numpy as np
import pytest

from conventions import BONAFIDE, SPOOF, UsageError
from reporting.score_files import read_score_file, write_scores, write_submission
from training.scoring import ScoreTable


def test_score_file_lines(tmp_path):
    table = ScoreTable(["u1", "u2"], [None, "A01"], np.array([BONAFIDE, SPOOF]), np.array([0.5, -1.0 / 3]))
    write_scores(tmp_path / "scores.txt", table)
    lines = (tmp_path / "scores.txt").read_text().splitlines()
    assert lines[0] == "u1 - bonafide 0.5"
    utt_id, attack, label, score = lines[1].split()
    assert (utt_id, attack, label) == ("u2", "A01", "spoof") and float(score) == -1.0 / 3
    np.testing.assert_array_equal(table.bonafide_scores, [0.5])
    np.testing.assert_array_equal(table.spoof_scores, [-1.0 / 3])


def test_submission_formats(tmp_path):
    table = ScoreTable(["E_1", "E_2"], [None, "A07"], np.array([BONAFIDE, SPOOF]), np.array([1.5, -0.25]))
    write_submission(tmp_path / "la21.txt", table, "2021")
    assert (tmp_path / "la21.txt").read_text() == "E_1 1.5\nE_2 -0.25\n"
    write_submission(tmp_path / "asv5.tsv", table, "asvspoof5")
    assert (tmp_path / "asv5.tsv").read_text() == "filename\tcm-score\nE_1\t1.5\nE_2\t-0.25\n"


@pytest.mark.parametrize("text, layout, labelled", [
    ("u1 - bonafide 0.5\nu2 A01 spoof -1.25\n", "labelled", True),
    ("S1 u1 0.5 bonafide\nS2 u2 -1.25 spoof\n", "asvspoof5-labelled", True),
    ("filename\tcm-score\nu1\t0.5\nu2\t-1.25\n", "asvspoof5", False),
    ("u1 0.5\nu2 -1.25\n", "plain", False),
    ("u1\t0.5\nu2\t-1.25\n", "plain", False),
])
def test_every_score_file_layout_reads_back(tmp_path, text, layout, labelled):
    path = tmp_path / "scores.txt"
    path.write_text(text)
    scores = read_score_file(path)
    assert scores.format == layout and scores.utt_ids == ["u1", "u2"]
    np.testing.assert_array_equal(scores.scores, [0.5, -1.25])
    if labelled:
        assert scores.labels.tolist() == [BONAFIDE, SPOOF]
    else:
        assert scores.labels is None and scores.attacks is None


def test_what_write_scores_writes_reads_back_exactly(tmp_path):
    table = ScoreTable(["u1", "u2"], [None, "A01"], np.array([BONAFIDE, SPOOF]), np.array([0.1, -1.0 / 3]))
    write_scores(tmp_path / "scores.txt", table)
    scores = read_score_file(tmp_path / "scores.txt")
    np.testing.assert_array_equal(scores.scores, table.scores)
    assert scores.attacks == [None, "A01"] and scores.labels.tolist() == [BONAFIDE, SPOOF]


def test_a_path_with_spaces_reads_from_tab_separated_folder_scores(tmp_path):
    (tmp_path / "scores.txt").write_text("my recordings/a b.wav\t2.5\n")
    assert read_score_file(tmp_path / "scores.txt").utt_ids == ["my recordings/a b.wav"]


@pytest.mark.parametrize("text, named", [
    ("u1 - bonafide nan\n", "line 1: score 'nan' is not a finite number"),
    ("u1 0.5\nu2 0.5 extra\n", "line 2: 3 fields"),
    ("u1 - bonafide 0.5\nu2 - maybe 0.5\n", "line 2: label 'maybe'"),
    ("one two three\n", "is not a score file line"),
    ("\n", "holds no scores"),
    ("spk\tfilename\tcm-score\tasv-score\tsasv-score\n", "SASV score file"),
])
def test_a_bad_score_file_is_a_usage_error_naming_the_line(tmp_path, text, named):
    (tmp_path / "scores.txt").write_text(text)
    with pytest.raises(UsageError, match=named):
        read_score_file(tmp_path / "scores.txt")
