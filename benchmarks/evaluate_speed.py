"""Time evaluate.py on the size of ASVspoof 2021 DF: 611,829 trials, every condition table, 1,000 bootstrap draws.

Run: .venv/bin/python benchmarks/evaluate_speed.py

A key in the 2021 DF trial_metadata.txt layout (13 columns, three subsets) and a 2021 submission
(`utt_id score`) are written to a temporary folder; evaluate.evaluate_files then reads both, aligns them,
computes the pooled metrics, the tables per attack, codec, source and vocoder, and 1,000 bootstrap draws of
EER and minDCF. Baseline, measured in the same run: reading the two files line by line with str.split, the
least any evaluation of them has to do. The issue's target is 30 s in all on this 2-core machine.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# scripts run from benchmarks/: put the repository root on the path to import its modules
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluate import evaluate_files  # noqa: E402

N_TRIALS = 611_829
N_DRAWS = 1_000


def write_corpus(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """A DF-like key (about 1 trial in 27 bona fide, 100 attacks, 9 codecs, 3 sources, 3 subsets) and its scores."""
    rng = np.random.default_rng(seed)
    bonafide = rng.random(N_TRIALS) < 1 / 27
    attacks = np.where(bonafide, "bonafide", np.char.add("A", rng.integers(1, 101, N_TRIALS).astype(str)))
    codecs = np.array(["nocodec", "low_mp3", "high_mp3", "low_m4a", "high_m4a", "low_ogg", "high_ogg", "mp3m4a", "oggm4a"])
    sources = np.array(["asvspoof", "vcc2018", "vcc2020"])
    subsets = np.array(["eval", "progress", "hidden"])
    scores = np.round(np.where(bonafide, rng.normal(2, 1, N_TRIALS), rng.normal(-2, 1.5, N_TRIALS)), 3)
    key_lines, score_lines = [], []
    for index in range(N_TRIALS):
        utt_id = f"DF_E_{2000000 + index}"
        key = "bonafide" if bonafide[index] else "spoof"
        key_lines.append(f"LA_0001 {utt_id} {codecs[index % 9]} {sources[index % 3]} {attacks[index]} {key} notrim "
                         f"{subsets[(index // 7) % 3]} traditional_vocoder - - - -\n")
        score_lines.append(f"{utt_id} {scores[index]}\n")
    key_path, score_path = folder / "trial_metadata.txt", folder / "scores.txt"
    key_path.write_text("".join(key_lines))
    score_path.write_text("".join(score_lines))
    return key_path, score_path


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        key, scores = write_corpus(Path(temporary))
        start = time.perf_counter()
        for path in (key, scores):
            with open(path, encoding="utf-8") as file:
                rows = [line.split() for line in file]
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        plain = evaluate_files([str(scores)], str(key), subset="all")
        without_bootstrap = time.perf_counter() - start
        start = time.perf_counter()
        report = evaluate_files([str(scores)], str(key), subset="all", bootstrap=N_DRAWS)
        total = time.perf_counter() - start
    result = report["systems"][str(scores)]
    assert result["eer"] == plain["systems"][str(scores)]["eer"] and len(rows) == N_TRIALS
    groups = sum(len(groups) for groups in result["breakdown"].values())
    print(f"{N_TRIALS:,} trials (all subsets), {groups} groups in the attack, codec, source and vocoder tables")
    print(f"{'step':52}{'seconds':>9}{'x baseline':>12}")
    print(f"{'baseline: read key and scores with str.split':52}{baseline:9.2f}{1.0:12.2f}")
    print(f"{'evaluate_files, no bootstrap':52}{without_bootstrap:9.2f}{without_bootstrap / baseline:12.2f}")
    print(f"{f'evaluate_files, {N_DRAWS:,} bootstrap draws':52}{total:9.2f}{total / baseline:12.2f}")
    print(f"EER {100 * result['eer']:.3f} % [{100 * result['intervals']['eer']['lower']:.3f}, "
          f"{100 * result['intervals']['eer']['upper']:.3f}]; target: under 30 s in all ({total / 30:.2f} of it)")


if __name__ == "__main__":
    main()
