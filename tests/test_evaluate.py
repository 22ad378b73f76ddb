"""evaluate.py end to end on score and key files written by the tests: alignment refused exactly,
the 2021 subsets, every number against metrics.py on the trials selected in the test, calibration,
fusion, bootstrap, paired tests, warnings and the JSON/CSV outputs."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from calibration import LinearCalibration
from confidence import bootstrap_eer_min_dcf
from conventions import BONAFIDE, SPOOF
from evaluate import main
from metrics import (
    compute_act_dcf,
    compute_cllr,
    compute_eer,
    compute_min_dcf,
    compute_min_tdcf,
    compute_min_tdcf_at_asv_rates,
    read_asv_scores,
)

CODECS, TRANSMISSIONS, ATTACKS, SUBSETS = ("alaw", "gsm", "none"), ("ita_tx", "loc_tx"), ("A07", "A10", "A19"), ("eval", "progress", "hidden")


def la2021(n: int, seed: int) -> list[dict]:
    """Trials of a 2021 LA-like key with two systems' scores: a good one and a noisier one."""
    rng = np.random.default_rng(seed)
    trials = []
    for index in range(n):
        bonafide = rng.random() < 0.35
        mean = 1.5 if bonafide else -1.0
        trials.append({
            "utt_id": f"LA_E_{index:07d}", "label": BONAFIDE if bonafide else SPOOF,
            "attack": None if bonafide else ATTACKS[rng.integers(3)], "codec": CODECS[rng.integers(3)],
            "transmission": TRANSMISSIONS[rng.integers(2)], "subset": SUBSETS[rng.integers(3)],
            "a": round(mean + rng.normal(), 6), "b": round(0.5 * mean + rng.normal(), 6),
        })
    return trials


def key_line(trial: dict) -> str:
    key = "bonafide" if trial["label"] == BONAFIDE else "spoof"
    return (f"LA_0001 {trial['utt_id']} {trial['codec']} {trial['transmission']} {trial['attack'] or 'bonafide'} {key} "
            f"notrim {trial['subset']}")


def write(path, lines: list[str]) -> str:
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


@pytest.fixture
def files(tmp_path):
    trials, dev = la2021(300, 0), la2021(200, 1)
    paths = {
        "key": write(tmp_path / "trial_metadata.txt", [key_line(trial) for trial in trials]),
        "a": write(tmp_path / "a.txt", [f"{trial['utt_id']} {trial['a']}" for trial in trials]),
        "b": write(tmp_path / "b.txt", [f"{trial['utt_id']} {trial['b']}" for trial in trials]),
        "dev_key": write(tmp_path / "dev.trl.txt", [f"LA_0001 {t['utt_id']} - {t['attack'] or '-'} "
                                                   f"{'bonafide' if t['label'] == BONAFIDE else 'spoof'}" for t in dev]),
        "a_dev": write(tmp_path / "a_dev.txt", [f"{trial['utt_id']} {trial['a']}" for trial in dev]),
        "b_dev": write(tmp_path / "b_dev.txt", [f"{trial['utt_id']} {trial['b']}" for trial in dev]),
    }
    return trials, dev, paths


def classes(trials: list[dict], system: str) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array([trial[system] for trial in trials])
    labels = np.array([trial["label"] for trial in trials])
    return scores[labels == BONAFIDE], scores[labels == SPOOF]


def run(argv: list[str], tmp_path) -> dict:
    assert main([*argv, "--json", str(tmp_path / "out.json")]) == 0
    return json.loads((tmp_path / "out.json").read_text())


def test_the_eval_subset_by_default_every_number_as_metrics_py_gives_it(files, tmp_path):
    trials, _, paths = files
    report = run([paths["a"], "--key", paths["key"]], tmp_path)
    result = report["systems"][paths["a"]]
    selected = [trial for trial in trials if trial["subset"] == "eval"]
    bonafide, spoof = classes(selected, "a")
    assert (result["n_bonafide"], result["n_spoof"]) == (bonafide.size, spoof.size)
    assert result["eer"] == compute_eer(bonafide, spoof)[0]
    assert result["min_dcf"] == compute_min_dcf(bonafide, spoof)[0]
    assert result["act_dcf"] == compute_act_dcf(bonafide, spoof)[0]
    assert result["cllr"] == pytest.approx(compute_cllr(bonafide, spoof), abs=1e-12)
    for attack in ATTACKS:
        attacked = [trial["a"] for trial in selected if trial["attack"] == attack]
        assert result["breakdown"]["attack"][attack]["eer"] == compute_eer(bonafide, attacked)[0]
    for condition, values in (("codec", CODECS), ("transmission", TRANSMISSIONS)):
        for value in values:
            group = classes([trial for trial in selected if trial[condition] == value], "a")
            assert result["breakdown"][condition][value]["eer"] == compute_eer(*group)[0]
            assert result["breakdown"][condition][value]["min_dcf"] == compute_min_dcf(*group)[0]
    everything = run([paths["a"], "--key", paths["key"], "--subset", "all"], tmp_path)["systems"][paths["a"]]
    assert everything["eer"] == compute_eer(*classes(trials, "a"))[0]
    progress = run([paths["a"], "--key", paths["key"], "--subset", "progress"], tmp_path)["systems"][paths["a"]]
    assert progress["n_bonafide"] + progress["n_spoof"] == sum(trial["subset"] == "progress" for trial in trials)


@pytest.mark.parametrize("change, named", [
    (lambda lines: lines[:-2], "2 trials of the key without a score"),
    (lambda lines: lines + lines[:3], "3 trials scored more than once (first: {0}, {1}, {2})"),
    (lambda lines: lines + ["LA_E_9999999 0.5"], "1 scored trials that the key does not list (first: LA_E_9999999)"),
])
def test_misaligned_score_files_are_refused_with_counts_and_first_ids(files, tmp_path, capsys, change, named):
    trials, _, paths = files
    lines = [f"{trial['utt_id']} {trial['a']}" for trial in trials if trial["subset"] == "eval"]
    broken = write(tmp_path / "broken.txt", change(lines))
    assert main([broken, "--key", paths["key"]]) == 2
    error = capsys.readouterr().err
    ids = [line.split()[0] for line in lines]
    assert error.count("\n") == 1 and error.startswith("evaluate.py: error: ") and named.format(*ids) in error


def test_labels_that_disagree_with_the_key_are_refused(files, tmp_path, capsys):
    trials, _, paths = files
    flipped = trials[0]
    lines = [f"{t['utt_id']} {t['attack'] or '-'} {'bonafide' if (t['label'] == BONAFIDE) != (t is flipped) else 'spoof'} {t['a']}"
             for t in trials]
    assert main([write(tmp_path / "labelled.txt", lines), "--key", paths["key"], "--subset", "all"]) == 2
    assert f"1 labels that disagree with the key (first: {flipped['utt_id']}" in capsys.readouterr().err


def test_a_score_file_with_labels_needs_no_key_and_one_without_does(files, tmp_path, capsys):
    trials, _, paths = files
    lines = [f"{t['utt_id']} {t['attack'] or '-'} {'bonafide' if t['label'] == BONAFIDE else 'spoof'} {t['a']}" for t in trials]
    result = run([write(tmp_path / "labelled.txt", lines)], tmp_path)["systems"][str(tmp_path / "labelled.txt")]
    assert result["eer"] == compute_eer(*classes(trials, "a"))[0]
    assert main([paths["a"]]) == 2
    assert "carries no labels; give the key of its trials with --key" in capsys.readouterr().err


def test_min_tdcf_of_both_variants_with_the_organisers_asv_scores(files, tmp_path):
    trials, _, paths = files
    rng = np.random.default_rng(5)
    asv = write(tmp_path / "asv.txt", [f"{source} {key} {rng.normal(mean, 1):.5f}" for source, key, mean in
                                       [("bonafide", "target", 3.0)] * 40 + [("bonafide", "nontarget", -3.0)] * 40 + [("A07", "spoof", 1.0)] * 40])
    result = run([paths["a"], "--key", paths["key"], "--asv_scores", asv], tmp_path)["systems"][paths["a"]]
    bonafide, spoof = classes([trial for trial in trials if trial["subset"] == "eval"], "a")
    for variant in ("2019", "2021"):
        assert result[f"min_tdcf_{variant}"] == compute_min_tdcf(bonafide, spoof, *read_asv_scores(asv), variant)[0]


def test_calibration_fitted_on_dev_lowers_the_cllr_of_badly_scaled_scores(files, tmp_path):
    trials, dev, paths = files
    scaled = write(tmp_path / "scaled.txt", [f"{trial['utt_id']} {10 * trial['a'] + 4}" for trial in trials])
    scaled_dev = write(tmp_path / "scaled_dev.txt", [f"{trial['utt_id']} {10 * trial['a'] + 4}" for trial in dev])
    report = run([scaled, "--key", paths["key"], "--dev_scores", scaled_dev, "--dev_key", paths["dev_key"], "--calibrate",
                  "--calibrated_scores", str(tmp_path / "calibrated")], tmp_path)
    result = report["systems"][scaled]
    calibration = LinearCalibration.from_dict(result["calibrated"]["calibration"])
    bonafide, spoof = classes([trial for trial in trials if trial["subset"] == "eval"], "a")
    bonafide, spoof = 10 * bonafide + 4, 10 * spoof + 4
    assert result["calibrated"]["cllr"] == pytest.approx(compute_cllr(calibration.apply(bonafide), calibration.apply(spoof)))
    assert result["calibrated"]["cllr"] < 0.8 * result["cllr"]
    written = [line.split() for line in (tmp_path / "calibrated" / "1_scaled.txt").read_text().splitlines()]
    selected = [trial for trial in trials if trial["subset"] == "eval"]
    assert [fields[0] for fields in written] == [trial["utt_id"] for trial in selected]
    np.testing.assert_allclose([float(fields[3]) for fields in written],
                               calibration.apply(np.array([10 * trial["a"] + 4 for trial in selected])), rtol=1e-12)


def test_fusion_fits_on_dev_writes_the_fused_scores_and_beats_both_systems(files, tmp_path):
    trials, _, paths = files
    report = run([paths["a"], paths["b"], "--key", paths["key"], "--dev_scores", paths["a_dev"], paths["b_dev"],
                  "--dev_key", paths["dev_key"], "--fuse", "--fused_scores", str(tmp_path / "fused.txt")], tmp_path)
    fusion = LinearCalibration.from_dict(report["systems"]["fused"]["fusion"])
    selected = [trial for trial in trials if trial["subset"] == "eval"]
    expected = fusion.apply(np.array([[trial["a"], trial["b"]] for trial in selected]))
    lines = (tmp_path / "fused.txt").read_text().splitlines()
    assert [line.split()[0] for line in lines] == [trial["utt_id"] for trial in selected]
    np.testing.assert_allclose([float(line.split()[3]) for line in lines], expected, rtol=1e-12)
    assert fusion.weights[0] > fusion.weights[1] > 0
    assert report["systems"]["fused"]["cllr"] < min(report["systems"][paths[name]]["cllr"] for name in "ab")


def test_bootstrap_intervals_and_paired_comparison(files, tmp_path):
    trials, _, paths = files
    report = run([paths["a"], paths["b"], "--key", paths["key"], "--bootstrap", "50", "--seed", "3", "--compare"], tmp_path)
    bonafide, spoof = classes([trial for trial in trials if trial["subset"] == "eval"], "a")
    expected = bootstrap_eer_min_dcf(bonafide, spoof, 50, 0.95, 3)
    assert report["systems"][paths["a"]]["intervals"]["eer"]["lower"] == expected["eer"].lower
    assert report["systems"][paths["a"]]["intervals"]["min_dcf"]["upper"] == expected["min_dcf"].upper
    (comparison,) = report["comparisons"]
    assert comparison["systems"] == [paths["a"], paths["b"]]
    assert comparison["paired_bootstrap"]["difference"] == pytest.approx(
        report["systems"][paths["a"]]["eer"] - report["systems"][paths["b"]]["eer"])
    assert 0 < comparison["paired_bootstrap"]["p_value"] <= 1 and 0 < comparison["mcnemar"]["p_value"] <= 1


def test_warnings_for_reversed_scores_hard_decisions_and_probabilities(files, tmp_path, capsys):
    trials, _, paths = files
    reversed_scores = write(tmp_path / "reversed.txt", [f"{trial['utt_id']} {-trial['a']}" for trial in trials])
    decisions = write(tmp_path / "decisions.txt", [f"{trial['utt_id']} {int(trial['a'] > 0)}" for trial in trials])
    probabilities = write(tmp_path / "probabilities.txt", [f"{trial['utt_id']} {1 / (1 + np.exp(-trial['a']))}" for trial in trials])
    report = run([reversed_scores, decisions, probabilities, "--key", paths["key"]], tmp_path)
    warnings = " ".join(report["warnings"])
    assert "the scores look reversed" in warnings and "hard decisions" in warnings and "like probabilities" in warnings
    assert "warning:" in capsys.readouterr().out


def test_the_csv_holds_the_numbers_of_the_json(files, tmp_path):
    _, _, paths = files
    report = run([paths["a"], "--key", paths["key"], "--csv", str(tmp_path / "out.csv")], tmp_path)
    with open(tmp_path / "out.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    value = {(row["breakdown"], row["group"], row["metric"]): float(row["value"]) for row in rows}
    result = report["systems"][paths["a"]]
    assert value[("pooled", "all", "eer")] == result["eer"]
    assert value[("codec", "gsm", "min_dcf")] == result["breakdown"]["codec"]["gsm"]["min_dcf"]


@pytest.mark.parametrize("extra, named", [
    (["--fuse"], "--dev_scores"),
    (["--subset", "eval", "--key", "{dev_key}"], "has no trial subsets"),
    (["--calibrated_scores", "{tmp}/c"], "add --calibrate"),
    (["--key", "{tmp}/absent.txt"], "does not exist"),
    (["--dev_scores", "{a_dev}", "{b_dev}", "--calibrate", "--key", "{key}"], "2 --dev_scores files for 1 systems"),
    (["--compare", "--key", "{key}"], "at least two systems"),
    (["--key", "{key}", "--seed=-1"], "--seed: -1 must be at least 0"),
    (["--key", "{key}", "--dev_scores", "{a_dev}"], "--dev_scores is used only with --calibrate or --fuse"),
    (["--key", "{key}", "--asv_key", "{key}"], "--asv_key is used only with --asv_scores"),
    (["--key", "{key}", "--json", "{tmp}"], "--json {tmp} is a folder; give a file path"),
    (["--key", "{tmp}"], "{tmp} is a folder; give the file"),
    (["--key", "{key}", "--dev_scores", "{bonafide_dev}", "--calibrate"], "the dev trials of {bonafide_dev} hold no spoof trial"),
])
def test_usage_errors_are_one_line_with_exit_status_2(files, tmp_path, capsys, extra, named):
    trials, dev, paths = files
    paths["bonafide_dev"] = write(tmp_path / "bonafide_dev.txt", [f"{t['utt_id']} - bonafide {t['a']}" for t in dev if t["label"] == BONAFIDE])
    argv = [paths["a"], *(item.format(tmp=tmp_path, **paths) for item in extra)]
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own checks
        code = exit.code
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and named.format(tmp=tmp_path, **paths) in error, error
    assert not (tmp_path / "c").exists() and not (tmp_path / "out.json").exists()


def sasv_files(tmp_path, n: int = 60, seed: int = 2):
    """A SASV key and score file of target, nontarget and spoof trials, rows shuffled in the score file."""
    rng = np.random.default_rng(seed)
    key, rows = ["spk\tfilename\tcm-label\tasv-label"], []
    for index in range(3 * n):
        label = ("target", "nontarget", "spoof")[index % 3]
        cm = rng.normal(2 if label != "spoof" else -1, 1)
        asv = rng.normal({"target": 3, "nontarget": -2, "spoof": 1.5}[label], 1)
        trial = (f"E_{index % 7:04d}", f"E_{index:010d}")
        key.append(f"{trial[0]}\t{trial[1]}\t{'spoof' if label == 'spoof' else 'bonafide'}\t{label}")
        rows.append((trial, label, round(cm, 5), round(asv, 5), round(cm + asv, 5)))
    order = rng.permutation(len(rows))
    scores = ["spk\tfilename\tcm-score\tasv-score\tsasv-score"] + [
        f"{rows[i][0][0]}\t{rows[i][0][1]}\t{rows[i][2]}\t{rows[i][3]}\t{rows[i][4]}" for i in order]
    return write(tmp_path / "sasv_key.tsv", key), write(tmp_path / "sasv_scores.tsv", scores), rows


def test_sasv_scores_give_a_dcf_t_eer_and_t_dcf_as_their_functions_do(tmp_path):
    from sasv_metrics import compute_min_a_dcf, compute_t_eer

    key, scores, rows = sasv_files(tmp_path)
    result = run([scores, "--key", key], tmp_path)["systems"][scores]

    def column(position: int, label: str) -> np.ndarray:
        return np.array([row[position] for row in rows if row[1] == label])

    cm, asv, sasv = ({label: column(position, label) for label in ("target", "nontarget", "spoof")} for position in (2, 3, 4))
    assert result["min_a_dcf"] == compute_min_a_dcf(sasv["target"], sasv["nontarget"], sasv["spoof"])[0]
    assert result["t_eer"] == compute_t_eer(*cm.values(), *asv.values())[0]
    bonafide_cm = np.concatenate((cm["target"], cm["nontarget"]))
    assert result["cm_eer"] == compute_eer(bonafide_cm, cm["spoof"])[0]
    # the ASVspoof 5 evaluation's min t-DCF: 2021 form, the organisers' pooled ASV error rates
    assert result["min_tdcf"] == compute_min_tdcf_at_asv_rates(bonafide_cm, cm["spoof"], 0.01881016557566423,
                                                               0.01880141010575793, 0.4607082907604729, "2021")[0]
    assert (result["n_target"], result["n_nontarget"], result["n_spoof"]) == (60, 60, 60)


def test_a_sasv_score_file_missing_a_trial_or_mixed_with_cm_files_is_refused(tmp_path, files, capsys):
    key, scores, _ = sasv_files(tmp_path)
    lines = (tmp_path / "sasv_scores.tsv").read_text().splitlines()
    short = write(tmp_path / "short.tsv", lines[:-1])
    assert main([short, "--key", key]) == 2
    assert "1 trials of the key without a score (first: E_" in capsys.readouterr().err
    assert main([scores, files[2]["a"], "--key", key]) == 2
    assert "evaluated only together and against a SASV key" in capsys.readouterr().err


def test_labelled_files_compared_without_a_key_must_agree_on_trials_and_labels(files, tmp_path, capsys):
    trials, _, _ = files

    def labelled(name: str, flip: bool = False, drop: int = 0) -> str:
        lines = [f"{t['utt_id']} {t['attack'] or '-'} {'bonafide' if (t['label'] == BONAFIDE) != (flip and i == 0) else 'spoof'} {t['a']}"
                 for i, t in enumerate(trials[drop:])]
        return write(tmp_path / name, lines[::-1] if name == "reversed.txt" else lines)

    report = run([labelled("a.txt"), labelled("reversed.txt"), "--compare"], tmp_path)
    assert report["comparisons"][0]["paired_bootstrap"]["difference"] == 0.0
    assert main([labelled("a.txt"), labelled("flipped.txt", flip=True), "--compare"]) == 2
    assert "label some trials differently; give --key" in capsys.readouterr().err
    assert main([labelled("a.txt"), labelled("short.txt", drop=1), "--compare"]) == 2
    assert "do not score the same trials" in capsys.readouterr().err


def test_a_df_key_tables_the_vocoders_like_attacks_and_leaves_out_breakdowns_of_one_group(tmp_path):
    rng = np.random.default_rng(4)
    key, scores, expected = [], [], {"bonafide": [], "traditional_vocoder": [], "neural_autoregressive": []}
    for index in range(240):
        vocoder = ("bonafide", "traditional_vocoder", "neural_autoregressive")[index % 3]
        label = "bonafide" if vocoder == "bonafide" else "spoof"
        score = round(rng.normal(1.0 if label == "bonafide" else (-1.0 if index % 2 else 0.5), 1), 5)
        key.append(f"LA_0001 DF_E_{index:07d} nocodec vcc2020 {'bonafide' if label == 'bonafide' else 'A1' + str(index % 2)} "
                   f"{label} notrim eval {vocoder} - - - -")
        scores.append(f"DF_E_{index:07d} {score}")
        expected[vocoder].append(score)
    result = run([write(tmp_path / "df.txt", scores), "--key", write(tmp_path / "df_key.txt", key)],
                 tmp_path)["systems"][str(tmp_path / "df.txt")]
    for vocoder in ("traditional_vocoder", "neural_autoregressive"):
        assert result["breakdown"]["vocoder"][vocoder]["eer"] == compute_eer(expected["bonafide"], expected[vocoder])[0]
    assert set(result["breakdown"]) == {"attack", "vocoder"}  # one codec and one source: no table of them


def test_outputs_go_into_new_folders_and_nan_is_null_in_the_json_and_the_csv_holds_intervals_and_comparisons(files, tmp_path):
    _, _, paths = files
    json_path, csv_path = tmp_path / "new" / "deep" / "out.json", tmp_path / "new" / "out.csv"
    assert main([paths["a"], paths["b"], "--key", paths["key"], "--bootstrap", "1", "--compare",
                 "--json", str(json_path), "--csv", str(csv_path)]) == 0
    report = json.loads(json_path.read_text())
    assert report["systems"][paths["a"]]["intervals"]["eer"]["standard_error"] is None  # one draw: NaN
    with open(csv_path, newline="") as file:
        rows = list(csv.DictReader(file))
    metrics = {(row["system"], row["breakdown"], row["metric"]) for row in rows}
    assert (paths["a"], "pooled", "intervals.eer.lower") in metrics
    assert (f"{paths['a']} vs {paths['b']}", "comparison", "mcnemar.p_value") in metrics


def test_score_py_paths_align_with_a_key_by_their_stem(files, tmp_path, capsys):
    trials, _, paths = files
    folder_scores = write(tmp_path / "folder.txt", [f"audio/{t['utt_id']}.flac\t{t['a']}" for t in trials])
    result = run([folder_scores, "--key", paths["key"]], tmp_path)["systems"][folder_scores]
    assert result["eer"] == run([paths["a"], "--key", paths["key"]], tmp_path)["systems"][paths["a"]]["eer"]
    clash = write(tmp_path / "clash.txt", [f"audio/{t['utt_id']}.flac\t{t['a']}" for t in trials]
                  + [f"other/{trials[0]['utt_id']}.wav\t0.5"])
    assert main([clash, "--key", paths["key"], "--subset", "all"]) == 2
    assert f"1 trials scored more than once (first: {trials[0]['utt_id']})" in capsys.readouterr().err


def test_a_sasv_column_of_dashes_counts_as_absent(tmp_path):
    key, _, rows = sasv_files(tmp_path)
    lines = ["spk\tfilename\tcm-score\tasv-score\tsasv-score"] + [f"{r[0][0]}\t{r[0][1]}\t-\t-\t{r[4]}" for r in rows]
    result = run([write(tmp_path / "sasv_only.tsv", lines), "--key", key], tmp_path)["systems"][str(tmp_path / "sasv_only.tsv")]
    assert "min_a_dcf" in result and "t_eer" not in result and "cm_eer" not in result
