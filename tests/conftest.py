"""Fixtures shared by every test folder: offline settings, one Synthetic corpus per session (also in the
ASVspoof 2019 LA layout), tiny SSL models."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")

@pytest.fixture(scope="module")
def one_thread():
    """For modules of tiny tensors: with several intra-op threads on a busy machine, thread spinning
    makes them several times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """A data root shared by the session, so that the Synthetic corpus is generated once."""
    return tmp_path_factory.mktemp("data")


LA2019_PROTOCOLS = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}


@pytest.fixture(scope="session")
def la2019_root(data_root, tmp_path_factory) -> Path:
    """60 utterances per split of the Synthetic corpus in the ASVspoof 2019 LA layout."""
    import soundfile

    from conventions import SAMPLE_RATE
    from datasets.synthetic import SyntheticDataset

    root = tmp_path_factory.mktemp("la2019")
    for split, protocol_name in LA2019_PROTOCOLS.items():
        synthetic = SyntheticDataset(split, data_root)
        synthetic.limit(60, seed=0)
        audio = root / "LA" / f"ASVspoof2019_LA_{split}" / "flac"
        audio.mkdir(parents=True)
        lines = []
        for utterance in synthetic.utterances:
            soundfile.write(audio / f"{utterance.utt_id}.flac", synthetic.read_wave(utterance), SAMPLE_RATE)
            label = "bonafide" if utterance.attack is None else "spoof"
            lines.append(f"{utterance.speaker} {utterance.utt_id} - {utterance.attack or '-'} {label}\n")
        protocols = root / "LA" / "ASVspoof2019_LA_cm_protocols"
        protocols.mkdir(exist_ok=True)
        (protocols / f"ASVspoof2019.LA.cm.{protocol_name}.txt").write_text("".join(lines))
    return root


@pytest.fixture(scope="session")
def trained_on_files(la2019_root, tmp_path_factory):
    """A short run on the ASVspoof 2019 LA layout (flac files), with an embedding loss and an MHFA back-end."""
    from train_and_eval import main

    run_dir = tmp_path_factory.mktemp("inference") / "run"
    code = main([
        "--dataset", "ASVspoof2019LADataset_single", "--data_root", str(la2019_root), "--limit", "30", "-ep", "1",
        "--processor", "MHFA", "--classifier", "EmbeddingFF", "--loss", "AdditiveAngularMargin", "--eval_max_len", "0.8", "--calibrate",
        "--output_dir", str(run_dir), "--results_csv", str(run_dir.parent / "results.csv"),
    ])
    assert code == 0
    return run_dir


# Tiny randomly initialised SSL models with the real CNN strides (20 ms hop, 400-sample receptive
# field): a group-norm WavLM and HuBERT (base style, no attention mask) and a layer-norm wav2vec 2.0
# (large / XLS-R style, attention mask and input normalisation).
TINY_SSL = {
    "WavLM_base": ("WavLMConfig", {}),
    "HuBERT_base": ("HubertConfig", {}),
    "XLSR_300M": ("Wav2Vec2Config", {"feat_extract_norm": "layer", "do_stable_layer_norm": True}),
}
TINY_SSL_SIZE = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": (16,) * 7,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
}


@pytest.fixture(scope="session")
def tiny_ssl_models(tmp_path_factory) -> dict[str, Path]:
    """Extractor name -> a folder holding a tiny random model of its family, written by save_pretrained."""
    import torch
    import transformers

    folders = {}
    for name, (config_class, options) in TINY_SSL.items():
        torch.manual_seed(0)
        config = getattr(transformers, config_class)(**TINY_SSL_SIZE, **options)
        folders[name] = tmp_path_factory.mktemp(name)
        transformers.AutoModel.from_config(config).save_pretrained(folders[name])
    return folders
