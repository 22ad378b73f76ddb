"""Every reference model trains and evaluates through the CLI entry point, in-process, at tiny sizes
(the SSL back-ends on a tiny random XLS-R-style wav2vec 2.0), with its Linear output layer and one
embedding loss each."""
import json

import pytest

from common import REFERENCE_MODELS
from train_and_eval import main

SHORT_RUN = ["--limit", "24", "-ep", "1", "--batch_size", "12", "--max_len", "1"]
TINY = {
    "RawAASIST": ["--early_channels", "4", "--late_channels", "4", "--gat_dim", "4", "--heterogeneous_dim", "4"],
    "RawNet2": [
        "--first_stage_channels", "4", "--second_stage_channels", "4", "--first_stage_blocks", "1",
        "--second_stage_blocks", "1", "--gru_size", "8", "--gru_layers", "1", "--embedding_dim", "8",
    ],
    "LCNN": ["--channels", "4"],
    "Nes2Net-X": ["--outer_scale", "4", "--inner_scale", "2"],
    "Conformer": ["--emb_size", "8", "--heads", "2", "--num_encoders", "1", "--kernel_size", "5", "--ff_mult", "2"],
}
TINY["RawAASIST-L"] = TINY["RawAASIST"]
TINY["TCM"] = TINY["Conformer"]
TINY["AASIST"] = []
LOSSES = {"Linear": ["--loss", "CrossEntropy"], "EmbeddingFF": ["--loss", "AdditiveAngularMargin", "--hidden_dim", "8"]}


@pytest.mark.parametrize("classifier", ["Linear", "EmbeddingFF"])
@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_reference_model_trains_and_evaluates(name, classifier, tiny_ssl_models, data_root, tmp_path, capsys):
    model = REFERENCE_MODELS[name]
    weights = ["--extractor_path", str(tiny_ssl_models[model.extractor])] if model.stack is not None else []
    output_dir = tmp_path / "run"
    code = main(
        ["--extractor", model.extractor, *weights, "--processor", model.processor, *TINY[model.processor],
         "--classifier", classifier, *LOSSES[classifier], *SHORT_RUN, "--data_root", str(data_root),
         "--output_dir", str(output_dir), "--results_csv", str(tmp_path / "results.csv")]
    )
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert 0 <= metrics["eval"]["eer"] <= 1
    assert (output_dir / "scores" / "eval.txt").read_text().count("\n") == 24


def test_learnable_sinc_filters_train_with_the_model_and_are_saved(data_root, tmp_path, capsys):
    import torch

    from extractors.sinc import SincRawNet2

    output_dir = tmp_path / "run"
    code = main(
        ["--extractor", "SincRawNet2", "--learnable_filters", "--processor", "RawNet2", *TINY["RawNet2"], "--classifier",
         "Linear", *SHORT_RUN, "--data_root", str(data_root), "--output_dir",
         str(output_dir), "--results_csv", str(tmp_path / "results.csv")]
    )
    assert code == 0, capsys.readouterr().err
    saved = torch.load(output_dir / "checkpoints" / "best.pt", weights_only=True)["model"]["extractor.log_width_scales"]
    assert not torch.allclose(saved, SincRawNet2(learnable_filters=True).log_width_scales)
