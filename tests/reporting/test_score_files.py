"""Score files in the ASVspoof CM format and the challenges' submission formats."""
import numpy as np

from conventions import BONAFIDE, SPOOF
from reporting.score_files import write_scores, write_submission
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
