"""Every pooling processor trains and evaluates through the CLI entry point, on LFCC (L = 1) and on a
tiny random WavLM (L = 3) loaded with --extractor_path (in-process, to save start-up); the reference
models' back-ends run in test_reference_models.py, at tiny sizes."""
import json

import pytest

from common import PROCESSORS, REFERENCE_MODELS
from train_and_eval import main

SHORT_RUN = ["--limit", "40", "-ep", "1", "--batch_size", "20"]
REFERENCE_BACK_ENDS = {model.processor for model in REFERENCE_MODELS.values()} - {"AASIST"}


@pytest.mark.parametrize("extractor", ["LFCC", "WavLM_base"])
@pytest.mark.parametrize("processor", [name for name in PROCESSORS if name not in REFERENCE_BACK_ENDS])
def test_processor_trains_and_evaluates(processor, extractor, tiny_ssl_models, data_root, tmp_path, capsys):
    weights = ["--extractor_path", str(tiny_ssl_models[extractor])] if extractor in tiny_ssl_models else []
    output_dir = tmp_path / "run"
    code = main(
        ["--extractor", extractor, *weights, "--processor", processor, *SHORT_RUN, "--data_root", str(data_root),
         "--output_dir", str(output_dir), "--results_csv", str(tmp_path / "results.csv")]
    )
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert 0 <= metrics["eval"]["eer"] <= 1
    assert (output_dir / "scores" / "eval.txt").read_text().count("\n") == 40
