"""SSL extractors against the bare transformers model, on tiny random models saved locally."""
import numpy as np
import pytest
import torch
import transformers

from classifiers.feedforward import FF
from common import EXTRACTORS, PROCESSORS
from conventions import UsageError
from losses.cross_entropy import CrossEntropyLoss
from model import Countermeasure

LENGTHS = [8000, 5003, 3200]


def waves(lengths: list[int]) -> list[np.ndarray]:
    generator = np.random.default_rng(0)
    return [(0.3 * generator.standard_normal(length) + 0.1).astype(np.float32) for length in lengths]


def padded(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    wave = torch.zeros(len(arrays), max(map(len, arrays)))
    for row, array in enumerate(arrays):
        wave[row, : len(array)] = torch.from_numpy(array)
    return wave, torch.tensor([len(array) for array in arrays])


def bare_hidden_states(bare, arrays: list[np.ndarray], layer_norm: bool) -> tuple[torch.Tensor, ...]:
    """transformers' hidden_states for `arrays` prepared by its own Wav2Vec2FeatureExtractor."""
    prepare = transformers.Wav2Vec2FeatureExtractor(do_normalize=layer_norm, return_attention_mask=layer_norm)
    with torch.no_grad():
        return bare(**prepare(arrays, sampling_rate=16000, padding=True, return_tensors="pt"), output_hidden_states=True).hidden_states


@pytest.mark.parametrize("name", ["WavLM_base", "HuBERT_base", "XLSR_300M"])
def test_layer_stack_equals_the_bare_model_fed_by_its_feature_extractor(name, tiny_ssl_models):
    """Layer-norm models: the padded batch with its attention mask; group-norm models: each
    utterance alone (the extractor's masked group norm makes the batch give the same)."""
    extractor = EXTRACTORS[name](path=str(tiny_ssl_models[name]))
    bare = transformers.AutoModel.from_pretrained(tiny_ssl_models[name]).eval()
    layer_norm = bare.config.feat_extract_norm == "layer"
    assert (extractor.normalize, extractor.use_attention_mask, extractor.group_norm) == (layer_norm, layer_norm, not layer_norm)
    arrays = waves(LENGTHS)
    if layer_norm:
        batch = bare_hidden_states(bare, arrays, layer_norm)
        references = [[layer[row] for layer in batch] for row in range(len(arrays))]
    else:
        references = [[layer[0] for layer in bare_hidden_states(bare, [array], layer_norm)] for array in arrays]
    hidden, frame_lengths = extractor(*padded(arrays))

    assert hidden.shape == (3, 3, frame_lengths.max(), 32) and (extractor.n_layers, extractor.dim) == (3, 32)
    assert frame_lengths.tolist() == bare._get_feat_extract_output_lengths(torch.tensor(LENGTHS)).tolist()
    for row, frames in enumerate(frame_lengths.tolist()):
        for layer in range(3):
            torch.testing.assert_close(hidden[row, layer, :frames], references[row][layer][:frames], atol=1e-5, rtol=1e-5)
        assert torch.count_nonzero(hidden[row, :, frames:]) == 0


@pytest.mark.parametrize("name", ["WavLM_base", "HuBERT_base", "XLSR_300M"])
def test_an_utterance_gives_the_same_layer_stack_alone_and_in_any_batch(name, tiny_ssl_models):
    extractor = EXTRACTORS[name](path=str(tiny_ssl_models[name]))
    alone, alone_frames = extractor(*padded(waves([3200])))
    batch, _ = extractor(*padded([waves([8000])[0], waves([3200])[0]]))
    torch.testing.assert_close(batch[1, :, : alone_frames.item()], alone[0], atol=1e-5, rtol=1e-5)


def test_frame_lengths_count_the_frames_of_each_utterance_alone(tiny_ssl_models):
    extractor = EXTRACTORS["WavLM_base"](path=str(tiny_ssl_models["WavLM_base"]))
    for length in (400, 401, 719, 720, 16000):
        hidden, frame_lengths = extractor(*padded(waves([length])))
        assert frame_lengths.item() == hidden.shape[2] == (length - 400) // 320 + 1


def test_utterances_shorter_than_the_receptive_field_give_no_valid_frame(tiny_ssl_models):
    extractor = EXTRACTORS["HuBERT_base"](path=str(tiny_ssl_models["HuBERT_base"]))
    hidden, frame_lengths = extractor(*padded(waves([300, 200])))
    assert frame_lengths.tolist() == [0, 0] and torch.count_nonzero(hidden) == 0


def test_frozen_extractor_stays_in_eval_mode_without_gradients(tiny_ssl_models):
    extractor = EXTRACTORS["WavLM_base"](path=str(tiny_ssl_models["WavLM_base"]))
    extractor.train()
    assert not extractor.model.training
    hidden, _ = extractor(*padded(waves([4000])))
    assert not hidden.requires_grad and not any(p.requires_grad for p in extractor.parameters())


def test_finetuned_extractor_trains_and_passes_gradients(tiny_ssl_models):
    extractor = EXTRACTORS["WavLM_base"](path=str(tiny_ssl_models["WavLM_base"]), finetune=True)
    extractor.train()
    assert extractor.model.training
    hidden, _ = extractor(*padded(waves([4000])))
    hidden.square().mean().backward()
    assert all(p.grad is not None for p in extractor.parameters() if p.requires_grad)


def test_masking_and_layer_drop_are_off_even_when_the_configuration_asks_for_them(tiny_ssl_models, tmp_path):
    config = transformers.AutoConfig.from_pretrained(tiny_ssl_models["HuBERT_base"])
    config.mask_time_prob, config.mask_time_length, config.layerdrop = 0.9, 2, 0.9
    for dropout in ("hidden_dropout", "attention_dropout", "activation_dropout", "feat_proj_dropout"):
        setattr(config, dropout, 0.0)
    transformers.AutoModel.from_config(config).save_pretrained(tmp_path)
    extractor = EXTRACTORS["HuBERT_base"](path=str(tmp_path), finetune=True)
    extractor.train()
    trained, _ = extractor(*padded(waves([8000])))
    extractor.eval()
    evaluated, _ = extractor(*padded(waves([8000])))
    torch.testing.assert_close(trained, evaluated)


def test_a_folder_without_config_is_refused(tmp_path):
    with pytest.raises(UsageError, match="config.json"):
        EXTRACTORS["WavLM_base"](path=str(tmp_path))


def test_a_model_of_another_family_is_refused(tiny_ssl_models):
    with pytest.raises(UsageError, match="expects a wavlm model"):
        EXTRACTORS["WavLM_base"](path=str(tiny_ssl_models["HuBERT_base"]))


@pytest.mark.parametrize("name", [name for name in EXTRACTORS if EXTRACTORS[name].pretrained])
def test_every_ssl_name_loads_a_model_of_its_family(name, tiny_ssl_models):
    family = {"wavlm": "WavLM_base", "hubert": "HuBERT_base", "wav2vec2": "XLSR_300M"}[EXTRACTORS[name].model_type]
    extractor = EXTRACTORS[name](path=str(tiny_ssl_models[family]))
    hidden, frame_lengths = extractor(*padded(waves([1600])))
    assert hidden.shape == (1, 3, 4, 32) and frame_lengths.tolist() == [4]
    assert EXTRACTORS[name].model_id.startswith(("microsoft/", "facebook/"))


def test_training_leaves_a_frozen_extractor_unchanged(tiny_ssl_models):
    extractor = EXTRACTORS["WavLM_base"](path=str(tiny_ssl_models["WavLM_base"]))
    model = Countermeasure(extractor, PROCESSORS["MHFA"](n_layers=3, dim=32), FF(in_dim=256, n_classes=2))
    before = {key: value.clone() for key, value in extractor.state_dict().items()}
    optimizer = torch.optim.Adam([*model.parameters()], lr=0.1)
    model.train()
    wave, lengths = padded(waves([8000, 5003]))
    for _ in range(3):
        optimizer.zero_grad()
        CrossEntropyLoss(embedding_dim=2, n_classes=2)(model(wave, lengths), torch.tensor([0, 1])).backward()
        optimizer.step()
    assert all(torch.equal(before[key], value) for key, value in extractor.state_dict().items())
    assert model.extractor_is_frozen and not extractor.model.training


@pytest.mark.parametrize("groups", [6, 2])
def test_masked_group_norm_is_the_group_norm_of_each_row_alone(groups):
    from extractors.ssl import masked_group_norm

    torch.manual_seed(0)
    norm = torch.nn.GroupNorm(groups, 6)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    x = torch.randn(3, 6, 20)
    frames = torch.tensor([20, 7, 13])
    x[1, :, 7:] = float("nan")  # padding, whatever it holds, stays out of the statistics
    out = masked_group_norm(x, frames, norm)
    for row, count in enumerate(frames.tolist()):
        torch.testing.assert_close(out[row, :, :count], norm(x[row : row + 1, :, :count])[0], atol=1e-6, rtol=1e-5)


def test_masked_group_norm_stays_finite_for_half_precision_inputs():
    from extractors.ssl import masked_group_norm

    norm = torch.nn.GroupNorm(4, 4)
    x = 300 * torch.randn(2, 4, 12800)  # squares of long float16 rows would overflow
    out = masked_group_norm(x.half(), torch.tensor([12800, 9000]), norm)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    torch.testing.assert_close(out[0], norm(x[:1].half().float())[0], atol=1e-4, rtol=1e-4)

