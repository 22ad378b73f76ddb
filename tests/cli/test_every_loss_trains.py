"""Every registered loss trains a countermeasure through the CLI entry point to a clearly
better-than-chance eval EER on the Synthetic corpus, in a short run (in-process, to save start-up)."""
import json

import pytest

from common import LOSSES
from train_and_eval import main

# PML documents these as regularisers, to be added to another loss
REGULARISERS = {"IntraPairVariance", "ThresholdConsistentMargin"}
SHORT_RUN = ["--classifier", "EmbeddingFF", "--limit", "300", "-ep", "3", "--lr", "3e-3"]
# N-pairs keeps one positive pair per class and batch: with two classes, two pairs per batch
SLOW_LEARNERS = {"NPairs": ["-ep", "8"]}


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_trains_to_better_than_chance(name, data_root, tmp_path, capsys):
    loss = f"Contrastive+{name}" if name in REGULARISERS else name
    output_dir = tmp_path / "run"
    arguments = ["--loss", loss, *SHORT_RUN, *SLOW_LEARNERS.get(name, []), "--data_root", str(data_root)]
    code = main([*arguments, "--output_dir", str(output_dir), "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["eval"]["eer"] < 0.30, metrics["eval"]
