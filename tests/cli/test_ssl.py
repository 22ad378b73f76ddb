"""SSL extractors through the command line, with tiny random models loaded by --extractor_path."""
import json

import pytest
import torch
import transformers

from train_and_eval import main

SHORT_RUN = ["--limit", "40", "-ep", "1", "--batch_size", "20"]


def run_main(tmp_path, data_root, capsys, *arguments: str) -> torch.nn.Module:
    """Runs train_and_eval in-process; returns the best checkpoint."""
    output_dir = tmp_path / "run"
    code = main([*arguments, *SHORT_RUN, "--data_root", str(data_root), "--output_dir", str(output_dir), "--results_csv", str(tmp_path / "results.csv")])
    assert code == 0, capsys.readouterr().err
    assert json.loads((output_dir / "metrics.json").read_text())["eval"]["eer"] <= 1
    return torch.load(output_dir / "checkpoints" / "best.pt", weights_only=False)


@pytest.mark.parametrize("name", ["WavLM_base", "HuBERT_base", "XLSR_300M"])
def test_frozen_extractor_trains_and_keeps_its_weights_out_of_checkpoints(name, tiny_ssl_models, tmp_path, data_root, capsys):
    checkpoint = run_main(tmp_path, data_root, capsys, "--extractor", name, "--extractor_path", str(tiny_ssl_models[name]))
    assert checkpoint["model"] and not any(key.startswith("extractor.") for key in checkpoint["model"])
    assert "outputs are kept in memory" in (tmp_path / "run" / "train.log").read_text()


def test_finetune_changes_the_extractor_weights(tiny_ssl_models, tmp_path, data_root, capsys):
    folder = tiny_ssl_models["WavLM_base"]
    checkpoint = run_main(
        tmp_path, data_root, capsys, "--extractor", "WavLM_base", "--extractor_path", str(folder), "--finetune", "--extractor_lr", "1e-3"
    )
    pretrained = transformers.AutoModel.from_pretrained(folder).state_dict()
    tuned = {key.removeprefix("extractor.model."): value for key, value in checkpoint["model"].items() if key.startswith("extractor.")}
    assert tuned.keys() == pretrained.keys()
    changed = [key for key in tuned if not torch.equal(tuned[key], pretrained[key])]
    assert "encoder.layers.0.attention.q_proj.weight" in changed
    assert checkpoint["arguments"]["extractor_lr"] == 1e-3


def test_missing_weights_exit_2_naming_the_model_id(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_cache"))
    done = run_cli("--extractor", "XLSR_300M", "--output_dir", "run")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "facebook/wav2vec2-xls-r-300m" in done.stderr and "--extractor_path" in done.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "results.csv").exists()


def test_design_card_command_with_a_tiny_wavlm(run_cli, tmp_path, tiny_ssl_models):
    done = run_cli(
        "--local", "--extractor", "WavLM_base", "--extractor_path", str(tiny_ssl_models["WavLM_base"]),
        "--processor", "MHFA", "--classifier", "EmbeddingFF", "--loss", "AdditiveAngularMargin", "--margin", "0.3",
        *SHORT_RUN, "--output_dir", "run",
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["arguments"]["hyper_parameters"]["extractor"] == {"path": str(tiny_ssl_models["WavLM_base"]), "finetune": False}
    assert (tmp_path / "results.csv").read_text().count("\n") == 2


def test_a_frozen_stage_is_fine_tuned_from_its_checkpoint_with_init_from(tiny_ssl_models, tmp_path, data_root, capsys):
    """Two stages as WeDefense trains SSL models: the second starts from the first's model (its
    checkpoint holds no extractor weights: the pretrained ones are the start) and, at a vanishing
    learning rate, scores dev as the first did."""
    model = ["--extractor", "WavLM_base", "--extractor_path", str(tiny_ssl_models["WavLM_base"]), "--processor", "MHFA"]
    files = ["--data_root", str(data_root), "--results_csv", str(tmp_path / "results.csv"), *SHORT_RUN]
    assert main([*model, *files, "--output_dir", str(tmp_path / "frozen")]) == 0, capsys.readouterr().err
    stage_one = tmp_path / "frozen" / "checkpoints" / "best.pt"
    tuned = [*model, *files, "--finetune", "--init_from", str(stage_one), "--lr", "1e-12", "--extractor_lr", "1e-12"]
    assert main([*tuned, "--output_dir", str(tmp_path / "tuned")]) == 0, capsys.readouterr().err
    assert f"initialised from {stage_one} (the model and the loss's state)" in (tmp_path / "tuned" / "train.log").read_text()
    first, second = ((tmp_path / run / "scores" / "dev.txt").read_text().split() for run in ("frozen", "tuned"))
    assert first[0::4] == second[0::4]
    assert [float(score) for score in second[3::4]] == pytest.approx([float(score) for score in first[3::4]], rel=1e-5, abs=1e-6)

    capsys.readouterr()
    assert main([*files, "--init_from", str(stage_one), "--output_dir", str(tmp_path / "other")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "holds a model of --extractor WavLM_base --processor MHFA --classifier FF" in error
    assert not (tmp_path / "other").exists()
