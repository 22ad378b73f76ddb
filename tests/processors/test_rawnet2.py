import pytest
import torch
from torch import nn
from torch.nn import functional as F

from conventions import BONAFIDE, SPOOF
from processors.rawnet2 import RawNet2, ResidualBlock, from_reference_state_dict

pytestmark = pytest.mark.usefixtures("one_thread")

DIM = 4
TINY = {
    "first_stage_channels": 3,
    "second_stage_channels": 5,
    "first_stage_blocks": 1,
    "second_stage_blocks": 2,
    "gru_size": 6,
    "gru_layers": 2,
    "embedding_dim": 7,
}
TINY_MIN_FRAMES = 3 ** (1 + 1 + 2)  # one max-pool of 3 after the sinc layer and one per block


def tiny(n_layers: int = 1, **changes) -> RawNet2:
    """A tiny RawNet2 whose BatchNorms hold random affine parameters and running statistics."""
    torch.manual_seed(0)
    processor = RawNet2(n_layers=n_layers, dim=DIM, **{**TINY, **changes})
    with torch.no_grad():
        for module in processor.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.weight.normal_()
                module.bias.normal_()
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
    return processor


def filter_outputs(n_frames: int, batch: int = 2, n_layers: int = 1, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, n_layers, n_frames, DIM, generator=torch.Generator().manual_seed(seed))


def pad_with(hidden: torch.Tensor, n_frames: int, value: float) -> torch.Tensor:
    """hidden [B, L, T', D] extended to T' + n_frames frames holding `value`."""
    return torch.cat([hidden, hidden.new_full((*hidden.shape[:2], n_frames, hidden.shape[3]), value)], dim=2)


def block_parameters(in_channels: int, out_channels: int, first: bool) -> int:
    """Residual block: [BN(in)] Conv(in→out, 3) BN(out) Conv(out→out, 3) [Conv(in→out, 1)] FMS Linear(out→out)."""
    pre_bn = 0 if first else 2 * in_channels
    shortcut = 0 if in_channels == out_channels else in_channels * out_channels + out_channels
    conv1 = 3 * in_channels * out_channels + out_channels
    conv2 = 3 * out_channels * out_channels + out_channels
    return pre_bn + conv1 + 2 * out_channels + conv2 + shortcut + out_channels * out_channels + out_channels


def rawnet2_parameters(dim, c1, c2, n1, n2, gru_size, gru_layers, embedding_dim) -> int:
    """first BN(dim), the blocks, BN(c2), GRU (3 gates: input and hidden weights and both biases), fc1."""
    channels = [c1] * n1 + [c2] * n2
    blocks = sum(block_parameters(c_in, c_out, i == 0) for i, (c_in, c_out) in enumerate(zip([dim, *channels], channels)))
    gru = 3 * gru_size * (c2 + gru_size + 2) + (gru_layers - 1) * 3 * gru_size * (2 * gru_size + 2)
    return 2 * dim + blocks + 2 * c2 + gru + gru_size * embedding_dim + embedding_dim


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_of_the_asvspoof_2021_baseline():
    """At model_config_RawNet.yaml, the reference model.py has 17,621,410 parameters (its fc2_gru included)."""
    processor = RawNet2(n_layers=1, dim=20)
    expected = rawnet2_parameters(20, 20, 128, 2, 4, 1024, 3, 1024)
    assert count(processor) == expected == 17_619_360
    assert count(processor) + count(nn.Linear(processor.out_dim, 2)) == 17_621_410
    assert processor.out_dim == 1024


def test_parameter_count_of_the_icassp_2021_configuration_is_the_published_25_43_m():
    """128 sinc filters, filts [128, [128, 128], [128, 512], [512, 512]]: the RawNet2 of 25.43 M parameters."""
    processor = RawNet2(n_layers=1, dim=128, first_stage_channels=128, second_stage_channels=512)
    total = count(processor) + count(nn.Linear(processor.out_dim, 2))
    assert count(processor) == rawnet2_parameters(128, 128, 512, 2, 4, 1024, 3, 1024)
    assert total == 25_433_602
    assert f"{total / 1e6:.2f}" == "25.43"


def test_parameter_count_formula_holds_at_tiny_sizes():
    assert count(tiny()) == rawnet2_parameters(DIM, 3, 5, 1, 2, 6, 2, 7)


def reference_state_shapes(dim=20, c1=20, c2=128, gru_size=1024, gru_layers=3, fc=1024) -> dict[str, tuple]:
    """The state_dict of the authors' RawNet (model.py) at model_config_RawNet.yaml: names and shapes."""
    shapes = {}

    def batch_norm(prefix: str, channels: int) -> None:
        for name in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{name}"] = (channels,)
        shapes[f"{prefix}.num_batches_tracked"] = ()

    batch_norm("first_bn", dim)
    for i, (c_in, c_out) in enumerate([(dim, c1), (c1, c1), (c1, c2), (c2, c2), (c2, c2), (c2, c2)]):
        if i > 0:
            batch_norm(f"block{i}.0.bn1", c_in)
        shapes |= {f"block{i}.0.conv1.weight": (c_out, c_in, 3), f"block{i}.0.conv1.bias": (c_out,)}
        batch_norm(f"block{i}.0.bn2", c_out)
        shapes |= {f"block{i}.0.conv2.weight": (c_out, c_out, 3), f"block{i}.0.conv2.bias": (c_out,)}
        if c_in != c_out:
            shapes |= {f"block{i}.0.conv_downsample.weight": (c_out, c_in, 1), f"block{i}.0.conv_downsample.bias": (c_out,)}
        shapes |= {f"fc_attention{i}.0.weight": (c_out, c_out), f"fc_attention{i}.0.bias": (c_out,)}
    batch_norm("bn_before_gru", c2)
    for layer in range(gru_layers):
        shapes |= {
            f"gru.weight_ih_l{layer}": (3 * gru_size, c2 if layer == 0 else gru_size),
            f"gru.weight_hh_l{layer}": (3 * gru_size, gru_size),
            f"gru.bias_ih_l{layer}": (3 * gru_size,),
            f"gru.bias_hh_l{layer}": (3 * gru_size,),
        }
    shapes |= {"fc1_gru.weight": (fc, gru_size), "fc1_gru.bias": (fc,), "fc2_gru.weight": (2, fc), "fc2_gru.bias": (2,)}
    return shapes


def test_every_reference_tensor_maps_to_a_tensor_of_the_same_shape():
    torch.manual_seed(0)
    reference = {
        name: torch.randn(shape) if shape else torch.tensor(i)  # distinct values, batch counts included
        for i, (name, shape) in enumerate(reference_state_shapes().items())
    }
    processor_state, output_layer = from_reference_state_dict(reference)
    processor = RawNet2(n_layers=1, dim=20)
    processor.load_state_dict(processor_state, strict=True)  # every name present, every shape equal, nothing left
    loaded = processor.state_dict()
    assert len(processor_state) == len(reference) - 2
    for name, tensor in reference.items():
        if not name.startswith("fc2_gru."):
            assert sum(torch.equal(tensor, other) for other in loaded.values()) == 1, name
    assert torch.equal(loaded["blocks.3.fms.weight"], reference["fc_attention3.0.weight"])
    assert torch.equal(loaded["blocks.2.shortcut.weight"], reference["block2.0.conv_downsample.weight"])
    assert torch.equal(loaded["blocks.5.pre_bn.running_var"], reference["block5.0.bn1.running_var"])
    assert torch.equal(loaded["embedding.bias"], reference["fc1_gru.bias"])
    output = nn.Linear(1024, 2)
    output.load_state_dict(output_layer)
    # the reference's row 1 is bona fide, row 0 spoof
    assert torch.equal(output.weight[BONAFIDE], reference["fc2_gru.weight"][1])
    assert torch.equal(output.weight[SPOOF], reference["fc2_gru.weight"][0])
    assert torch.equal(output.bias[BONAFIDE], reference["fc2_gru.bias"][1])


@pytest.mark.parametrize("n_layers", [1, 3])
def test_output_shape_is_batch_by_embedding_dim(n_layers):
    processor = tiny(n_layers)
    output = processor(filter_outputs(300, n_layers=n_layers), torch.tensor([300, 200]))
    assert processor.out_dim == 7
    assert processor.min_frames == TINY_MIN_FRAMES
    assert output.shape == (2, 7)
    assert torch.isfinite(output).all()


def test_reads_the_last_layer_of_the_stack():
    processor = tiny(n_layers=3).eval()
    hidden, frame_lengths = filter_outputs(200, n_layers=3), torch.tensor([200, 150])
    earlier, last = hidden.clone(), hidden.clone()
    earlier[:, :2] += 1.0
    last[:, 2] += 1.0
    with torch.no_grad():
        reference = processor(hidden, frame_lengths)
        torch.testing.assert_close(processor(earlier, frame_lengths), reference, rtol=0, atol=0)
        assert not torch.allclose(processor(last, frame_lengths), reference)


def test_the_sign_of_the_filter_outputs_does_not_matter():
    """|x| comes first, as in the reference (max-pool of the rectified sinc outputs)."""
    processor = tiny().eval()
    hidden, frame_lengths = filter_outputs(200), torch.tensor([200, 170])
    with torch.no_grad():
        torch.testing.assert_close(processor(-hidden, frame_lengths), processor(hidden, frame_lengths))
        assert not torch.allclose(processor(hidden + 1.0, frame_lengths), processor(hidden, frame_lengths))


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_padding_content_and_amount_change_nothing(train):
    processor = tiny().train(train)
    hidden, frame_lengths = filter_outputs(300), torch.tensor([300, 200])
    garbage = hidden.clone()
    garbage[1, :, 200:] = float("nan")
    garbage = pad_with(garbage, 40, float("inf"))
    with torch.no_grad():
        reference = processor(hidden, frame_lengths)
        torch.testing.assert_close(processor(garbage, frame_lengths), reference)
        assert not torch.allclose(processor(hidden, torch.tensor([300, 250])), reference)


def test_an_utterance_alone_gives_what_it_gives_in_a_batch_in_eval_mode():
    processor = tiny().eval()
    hidden, frame_lengths = filter_outputs(300), torch.tensor([300, 199])
    with torch.no_grad():
        in_batch = processor(hidden, frame_lengths)
        alone = processor(hidden[1:, :, :199], frame_lengths[1:])
    torch.testing.assert_close(alone[0], in_batch[1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_frames", [0, 1, 2, 5, TINY_MIN_FRAMES - 1])
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_short_utterances_act_as_if_followed_by_silence_up_to_min_frames(n_frames, train):
    processor = tiny().train(train)
    hidden = filter_outputs(n_frames, batch=1)
    silence_after = pad_with(hidden, TINY_MIN_FRAMES - n_frames, 0.0)
    with torch.no_grad():
        output = processor(hidden, torch.tensor([n_frames]))
        torch.testing.assert_close(output, processor(silence_after, torch.tensor([TINY_MIN_FRAMES])))
    assert output.shape == (1, 7)
    assert torch.isfinite(output).all()


def test_gradients_reach_every_parameter_but_the_unused_pre_activation_batch_norms():
    processor = tiny().train()
    processor(filter_outputs(300), torch.tensor([300, 220])).square().sum().backward()
    without_gradient = {name for name, p in processor.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0}
    assert without_gradient == {f"blocks.{i}.pre_bn.{name}" for i in (1, 2) for name in ("weight", "bias")}


def test_with_pre_activation_gradients_reach_every_parameter():
    processor = tiny(pre_activation=True).train()
    processor(filter_outputs(300), torch.tensor([300, 220])).square().sum().backward()
    assert [name for name, p in processor.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0] == []


def test_pre_activation_batch_norms_act_only_with_pre_activation():
    hidden, frame_lengths = filter_outputs(250), torch.tensor([250, 180])
    for pre_activation in (False, True):
        processor = tiny(pre_activation=pre_activation).eval()
        with torch.no_grad():
            reference = processor(hidden, frame_lengths)
            processor.blocks[2].pre_bn.bias.add_(1.0)
            changed = not torch.equal(processor(hidden, frame_lengths), reference)
        assert changed == pre_activation


def test_padding_gets_no_gradient_and_no_nan():
    processor = tiny().train()
    hidden = pad_with(filter_outputs(200), 30, float("nan")).requires_grad_()
    processor(hidden, torch.tensor([200, 150])).sum().backward()
    assert torch.isfinite(hidden.grad).all()
    assert hidden.grad[:, :, 200:].abs().sum() == 0 and hidden.grad[1, :, 150:].abs().sum() == 0
    assert hidden.grad[1, :, :150].abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in processor.parameters() if p.grad is not None)


def test_a_block_whose_body_is_zero_is_a_max_pool_then_filter_wise_feature_map_scaling():
    """conv2 = 0 leaves the identity shortcut; the FMS Linear = identity + b: s = sigmoid(mean_t + b), x · s + s."""
    torch.manual_seed(0)
    block = ResidualBlock(3, 3, first=True, pre_activation=False).eval()
    bias = torch.tensor([-1.0, 0.0, 2.0])
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
        block.fms.weight.copy_(torch.eye(3))
        block.fms.bias.copy_(bias)
        x, lengths = torch.randn(2, 3, 20), torch.tensor([20, 14])
        output, pooled_lengths = block(x, lengths)
    assert pooled_lengths.tolist() == [6, 4] and output.shape == (2, 3, 6)
    for b, n in enumerate(lengths.tolist()):
        pooled = F.max_pool1d(x[b, :, :n], 3)
        scale = torch.sigmoid(pooled.mean(dim=1) + bias)[:, None]
        torch.testing.assert_close(output[b, :, : n // 3], pooled * scale + scale)
