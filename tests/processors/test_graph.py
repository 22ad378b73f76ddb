import pytest
import torch

from processors.aasist import AASIST
from processors.sls import SLS

DIM = 12


pytestmark = pytest.mark.usefixtures("one_thread")


def stack(n_layers: int, n_frames: int, batch: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, n_layers, n_frames, DIM, generator=torch.Generator().manual_seed(seed))


def pad_with(hidden: torch.Tensor, n_frames: int, value: float) -> torch.Tensor:
    """hidden [B, L, T', D] extended to T' + n_frames frames holding `value`."""
    return torch.cat([hidden, hidden.new_full((*hidden.shape[:2], n_frames, hidden.shape[3]), value)], dim=2)


@pytest.mark.parametrize("processor_class, out_dim", [(AASIST, 160), (SLS, 1024)])
@pytest.mark.parametrize("n_layers", [1, 13])
def test_output_shape_is_batch_by_out_dim(processor_class, out_dim, n_layers):
    torch.manual_seed(0)
    processor = processor_class(n_layers=n_layers, dim=DIM)
    output = processor(stack(n_layers, 30), torch.tensor([30, 21]))
    assert processor.out_dim == out_dim
    assert output.shape == (2, out_dim)
    assert torch.isfinite(output).all()


def test_sls_out_dim_is_the_embedding_dim():
    processor = SLS(n_layers=3, dim=DIM, embedding_dim=7)
    assert processor.out_dim == 7
    assert processor(stack(3, 20), torch.tensor([20, 9])).shape == (2, 7)


@pytest.mark.parametrize(
    "processor_class, hyper_parameters",
    [(AASIST, {}), (AASIST, {"layer_mix": True}), (SLS, {"embedding_dim": 8})],
    ids=["aasist", "aasist-layer-mix", "sls"],
)
def test_gradients_reach_every_parameter(processor_class, hyper_parameters):
    torch.manual_seed(0)
    processor = processor_class(n_layers=13, dim=DIM, **hyper_parameters).train()
    processor(stack(13, 24), torch.tensor([24, 17])).square().sum().backward()
    parameters = processor.named_parameters()
    without_gradient = [name for name, p in parameters if p.grad is None or not p.grad.abs().sum() > 0]
    assert without_gradient == []


@pytest.mark.parametrize("processor_class", [AASIST, SLS])
@pytest.mark.parametrize("n_frames", [1, 2, 3, 4, 5])
def test_short_utterances_work_in_training_and_eval_mode(processor_class, n_frames):
    torch.manual_seed(0)
    processor = processor_class(n_layers=2, dim=DIM)
    for train in (True, False):
        processor.train(train)
        output = processor(stack(2, n_frames, batch=1), torch.tensor([n_frames]))
        assert output.shape == (1, processor.out_dim)
        assert torch.isfinite(output).all()


def test_sls_layer_weights_are_the_sigmoid_of_a_linear_map_of_each_layers_masked_time_mean():
    torch.manual_seed(0)
    processor = SLS(n_layers=4, dim=DIM)
    frame_lengths = torch.tensor([25, 11])
    hidden = stack(4, 25)
    hidden[1, :, 11:] = 0.0  # the precondition of layer_weights: zero padding
    weights = processor.layer_weights(hidden, frame_lengths)
    linear = processor.layer_score
    expected = torch.tensor(
        [
            [torch.sigmoid(hidden[b, l, :n].mean(dim=0) @ linear.weight[0] + linear.bias[0]).item() for l in range(4)]
            for b, n in enumerate(frame_lengths.tolist())
        ]
    )
    assert weights.shape == (2, 4)
    torch.testing.assert_close(weights, expected)


def test_sls_layer_weights_scale_the_summed_layers():
    """With the Linear's weight zeroed every layer weight is sigmoid(bias): raising the bias from 0 to 2
    is the same as scaling the input by sigmoid(2) / sigmoid(0)."""
    torch.manual_seed(0)
    processor = SLS(n_layers=3, dim=DIM).eval()
    hidden, frame_lengths = stack(3, 20), torch.tensor([20, 14])
    with torch.no_grad():
        processor.layer_score.weight.zero_()
        processor.layer_score.bias.zero_()
        torch.testing.assert_close(processor.layer_weights(hidden, frame_lengths), torch.full((2, 3), 0.5))
        scaled = processor(hidden * torch.sigmoid(torch.tensor(2.0)) / 0.5, frame_lengths)
        processor.layer_score.bias.fill_(2.0)
        torch.testing.assert_close(processor(hidden, frame_lengths), scaled)
        assert not torch.allclose(processor(hidden, frame_lengths), processor(hidden * 0.5, frame_lengths))


def test_sls_eval_output_is_exactly_padding_invariant():
    torch.manual_seed(0)
    processor = SLS(n_layers=5, dim=DIM, embedding_dim=16).eval()
    hidden, frame_lengths = stack(5, 22), torch.tensor([22, 13])
    with torch.no_grad():
        reference = processor(hidden, frame_lengths)
        garbage = hidden.clone()
        garbage[1, :, 13:] = float("inf")
        padded = processor(pad_with(garbage, 9, float("inf")), frame_lengths)
        alone = processor(hidden[1:, :, :13], frame_lengths[1:])
    torch.testing.assert_close(padded, reference, rtol=0, atol=1e-6)
    torch.testing.assert_close(alone[0], reference[1], rtol=0, atol=1e-6)


def test_aasist_layer_mix_adds_layer_weights_and_reads_every_layer():
    torch.manual_seed(0)
    last_only, mixed = AASIST(n_layers=13, dim=DIM).eval(), AASIST(n_layers=13, dim=DIM, layer_mix=True).eval()
    assert "layer_mix.logits" in dict(mixed.named_parameters())
    assert not any(name.startswith("layer_mix") for name, _ in last_only.named_parameters())
    assert sum(p.numel() for p in mixed.parameters()) == sum(p.numel() for p in last_only.parameters()) + 13
    hidden, frame_lengths = stack(13, 30), torch.tensor([30, 25])
    changed = hidden.clone()
    changed[:, 0] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(last_only(changed, frame_lengths), last_only(hidden, frame_lengths))
        assert not torch.allclose(mixed(changed, frame_lengths), mixed(hidden, frame_lengths))


def test_aasist_padding_content_does_not_matter():
    torch.manual_seed(0)
    processor = AASIST(n_layers=13, dim=DIM, layer_mix=True).eval()
    frame_lengths = torch.tensor([30, 19])
    zeros = pad_with(stack(13, 30), 6, 0.0)
    zeros[1, :, 19:] = 0.0
    garbage = zeros.clone()
    garbage[1, :, 19:] = float("inf")
    garbage[:, :, 30:] = float("-inf")
    with torch.no_grad():
        reference = processor(zeros, frame_lengths)
        torch.testing.assert_close(processor(garbage, frame_lengths), reference)
        assert not torch.allclose(processor(zeros, torch.tensor([30, 25])), reference)


def test_aasist_padding_content_gets_no_gradient_and_no_nan():
    torch.manual_seed(0)
    processor = AASIST(n_layers=2, dim=DIM, layer_mix=True).train()
    hidden = pad_with(stack(2, 20), 5, float("nan")).requires_grad_()
    processor(hidden, torch.tensor([20, 20])).sum().backward()
    assert torch.isfinite(hidden.grad).all()
    assert hidden.grad[:, :, 20:].abs().sum() == 0
    assert all(torch.isfinite(p.grad).all() for p in processor.parameters())


def test_aasist_is_deterministic_in_eval_mode_and_uses_dropout_in_training():
    torch.manual_seed(0)
    processor = AASIST(n_layers=1, dim=DIM)
    hidden, frame_lengths = stack(1, 40), torch.tensor([40, 33])
    with torch.no_grad():
        processor.eval()
        torch.testing.assert_close(processor(hidden, frame_lengths), processor(hidden, frame_lengths), rtol=0, atol=0)
        processor.train()
        assert not torch.equal(processor(hidden, frame_lengths), processor(hidden, frame_lengths))


def test_aasist_state_dict_keeps_the_names_and_shapes_of_existing_checkpoints():
    """The SSL form shares its layers with RawAASIST (processors/aasist_layers.py); its checkpoints must still load."""
    processor = AASIST(n_layers=3, dim=DIM)
    state = processor.state_dict()
    assert len(state) == 235
    assert sum(p.numel() for p in processor.parameters()) == 317_384
    expected = {
        "project.weight": (128, DIM),
        "encoder.0.body.0.weight": (32, 1, 2, 3),
        "encoder.0.shortcut.weight": (32, 1, 1, 3),
        "encoder.1.pre.0.running_var": (32,),
        "encoder.2.body.3.weight": (64, 64, 2, 3),
        "encoder_bn.weight": (64,),
        "attention.3.weight": (64, 128, 1, 1),
        "spectral_position": (1, 42, 64),
        "gat_spectral.attention.att_weight": (1, 64),
        "gat_temporal.bn.running_mean": (64,),
        "pool_temporal.proj.weight": (1, 64),
        "branches.1.master": (1, 1, 64),
        "branches.0.first.proj_temporal.weight": (64, 64),
        "branches.0.first.graph.attention.att_weight": (3, 32),
        "branches.0.first.master_attention.proj_without_att.weight": (32, 64),
        "branches.1.pool_spectral.proj.weight": (1, 32),
        "branches.1.second.graph.bn.weight": (32,),
    }
    assert {name: tuple(state[name].shape) for name in expected} == expected
