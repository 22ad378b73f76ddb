import pytest
import torch
from torch.nn import functional as F

from conventions import UsageError
from processors.raw_aasist import MIN_FRAMES, RawAASIST, RawAASISTL, from_reference_state_dict

pytestmark = pytest.mark.usefixtures("one_thread")

N_FILTERS = 70  # the sinc front-end's
# The published configurations (clovaai/aasist config/AASIST.conf and config/AASIST-L.conf).
AASIST_CONFIG = {
    "filts": [70, [1, 32], [32, 32], [32, 64], [64, 64]], "gat_dims": [64, 32], "pool_ratios": [0.5, 0.7, 0.5, 0.5]
}
AASIST_L_CONFIG = {
    "filts": [70, [1, 32], [32, 32], [32, 24], [24, 24]], "gat_dims": [24, 32], "pool_ratios": [0.4, 0.5, 0.7, 0.5]
}
TEMPERATURES = (2.0, 2.0, 100.0)  # both configurations: GAT-S, GAT-T, the heterogeneous layers
TINY = {"early_channels": 3, "late_channels": 4, "gat_dim": 5, "heterogeneous_dim": 6}
TINY_CONFIG = {"filts": [N_FILTERS, [1, 3], [3, 3], [3, 4], [4, 4]], "gat_dims": [5, 6], "pool_ratios": [0.5, 0.7, 0.5, 0.5]}


def tiny(processor_class=RawAASIST, **hyper_parameters) -> RawAASIST:
    torch.manual_seed(0)
    return processor_class(n_layers=1, dim=N_FILTERS, **{**TINY, **hyper_parameters})


def sinc_outputs(n_frames: int, batch: int = 2, seed: int = 0, n_layers: int = 1) -> torch.Tensor:
    return torch.randn(batch, n_layers, n_frames, N_FILTERS, generator=torch.Generator().manual_seed(seed))


def n_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def reference_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The state_dict of the authors' Model (models/AASIST.py) for a configuration, name -> shape,
    written out from its architecture (sinc layer: no parameters)."""
    shapes: dict[str, tuple[int, ...]] = {}
    filts, (gat_in, gat_out) = config["filts"], config["gat_dims"]

    def linear(name, n_in, n_out):
        shapes.update({f"{name}.weight": (n_out, n_in), f"{name}.bias": (n_out,)})

    def conv(name, n_in, n_out, kernel):
        shapes.update({f"{name}.weight": (n_out, n_in, *kernel), f"{name}.bias": (n_out,)})

    def batch_norm(name, n):
        shapes.update({f"{name}.{field}": (n,) for field in ("weight", "bias", "running_mean", "running_var")})
        shapes[f"{name}.num_batches_tracked"] = ()

    def graph_layer(name, n_in, n_out, attention_vectors):
        for projection in ("att_proj", "proj_with_att", "proj_without_att"):
            linear(f"{name}.{projection}", n_in, n_out)
        shapes.update({f"{name}.{vector}": (n_out, 1) for vector in attention_vectors})
        batch_norm(f"{name}.bn", n_out)

    batch_norm("first_bn", 1)
    for i, (c_in, c_out) in enumerate([filts[1], filts[2], filts[3], filts[4], filts[4], filts[4]]):
        block = f"encoder.{i}.0"
        if i > 0:
            batch_norm(f"{block}.bn1", c_in)
        conv(f"{block}.conv1", c_in, c_out, (2, 3))
        batch_norm(f"{block}.bn2", c_out)
        conv(f"{block}.conv2", c_out, c_out, (2, 3))
        if c_in != c_out:
            conv(f"{block}.conv_downsample", c_in, c_out, (1, 3))
    channels = filts[-1][-1]
    shapes.update({"pos_S": (1, filts[0] // 3, channels), "master1": (1, 1, gat_in), "master2": (1, 1, gat_in)})
    for name in ("GAT_layer_S", "GAT_layer_T"):
        graph_layer(name, channels, gat_in, ["att_weight"])
    for name, n_in in (("ST11", gat_in), ("ST12", gat_out), ("ST21", gat_in), ("ST22", gat_out)):
        layer = f"HtrgGAT_layer_{name}"
        linear(f"{layer}.proj_type1", n_in, n_in)
        linear(f"{layer}.proj_type2", n_in, n_in)
        graph_layer(layer, n_in, n_out=gat_out, attention_vectors=["att_weight11", "att_weight22", "att_weight12"])
        for projection in ("att_projM", "proj_with_attM", "proj_without_attM"):
            linear(f"{layer}.{projection}", n_in, gat_out)
        shapes[f"{layer}.att_weightM"] = (gat_out, 1)
    for name in ("pool_S", "pool_T"):
        linear(f"{name}.proj", gat_in, 1)
    for name in ("pool_hS1", "pool_hT1", "pool_hS2", "pool_hT2"):
        linear(f"{name}.proj", gat_out, 1)
    linear("out_layer", 5 * gat_out, 2)
    return shapes


def is_buffer(name: str) -> bool:
    return name.rpartition(".")[2] in ("running_mean", "running_var", "num_batches_tracked")


def random_reference_state(config: dict) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    state = {}
    for name, shape in reference_shapes(config).items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(7)
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(shape, generator=generator)
        else:
            state[name] = 0.5 * torch.randn(shape, generator=generator)
    return state


def reference_forward(w: dict[str, torch.Tensor], sinc: torch.Tensor, pool_ratios: list[float]) -> torch.Tensor:
    """The reference Model in eval mode after its sinc layer, computed from its own state_dict `w`:
    sinc [B, T', D] (the band-pass outputs) -> [B, 5 · gat_dims[1]] (the input of out_layer)."""

    def linear(name, x):
        return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

    def batch_norm(name, x):
        return F.batch_norm(x, w[f"{name}.running_mean"], w[f"{name}.running_var"], w[f"{name}.weight"], w[f"{name}.bias"])

    def conv(name, x, padding):
        return F.conv2d(x, w[f"{name}.weight"], w[f"{name}.bias"], padding=padding)

    def attention(logits, nodes, query, name, suffix):
        """logits [B, Q, N] -> proj_with_att(softmax over N · nodes) + proj_without_att(query)."""
        attended = linear(f"{name}.proj_with_att{suffix}", logits.softmax(dim=2) @ nodes)
        return attended + linear(f"{name}.proj_without_att{suffix}", query)

    def graph(name, x, temperature, n_first=None):
        """GraphAttentionLayer, or with n_first the graph of HtrgGraphAttentionLayer (x1: the first n_first nodes)."""
        projected = torch.tanh(linear(f"{name}.att_proj", x.unsqueeze(2) * x.unsqueeze(1)))  # [B, N, N, out]
        if n_first is None:
            logits = projected @ w[f"{name}.att_weight"]
        else:  # one attention vector per block of node pairs: within x1 (11), across (12), within x2 (22)
            in_x1 = torch.arange(x.shape[1]) < n_first
            both_x1, both_x2 = (in_x1[:, None] & in_x1)[..., None], (~in_x1[:, None] & ~in_x1)[..., None]
            by_edge = {edge: projected @ w[f"{name}.att_weight{edge}"] for edge in ("11", "12", "22")}
            logits = torch.where(both_x1, by_edge["11"], torch.where(both_x2, by_edge["22"], by_edge["12"]))
        x = attention(logits.squeeze(3) / temperature, x, x, name, "")
        return F.selu(batch_norm(f"{name}.bn", x.flatten(0, 1)).view_as(x))

    def heterogeneous(name, x1, x2, master):
        x = torch.cat([linear(f"{name}.proj_type1", x1), linear(f"{name}.proj_type2", x2)], dim=1)
        logits = torch.tanh(linear(f"{name}.att_projM", x * master)) @ w[f"{name}.att_weightM"]  # [B, N, 1]
        master = attention(logits.transpose(1, 2) / TEMPERATURES[2], x, master, name, "M")
        x = graph(name, x, TEMPERATURES[2], n_first=x1.shape[1])
        return x[:, : x1.shape[1]], x[:, x1.shape[1] :], master

    def graph_pool(name, h, ratio):
        scores = torch.sigmoid(linear(f"{name}.proj", h))
        index = scores.topk(max(int(h.shape[1] * ratio), 1), dim=1).indices.expand(-1, -1, h.shape[2])
        return torch.gather(h * scores, 1, index)

    x = F.selu(batch_norm("first_bn", F.max_pool2d(sinc.transpose(1, 2).unsqueeze(1).abs(), 3)))
    for i in range(6):
        block = f"encoder.{i}.0"
        out = conv(f"{block}.conv2", F.selu(batch_norm(f"{block}.bn2", conv(f"{block}.conv1", x, (1, 1)))), (0, 1))
        shortcut = conv(f"{block}.conv_downsample", x, (0, 1)) if f"{block}.conv_downsample.weight" in w else x
        x = F.max_pool2d(out + shortcut, (1, 3))
    spectral = graph("GAT_layer_S", x.abs().amax(dim=3).transpose(1, 2) + w["pos_S"], TEMPERATURES[0])
    temporal = graph("GAT_layer_T", x.abs().amax(dim=2).transpose(1, 2), TEMPERATURES[1])
    spectral, temporal = graph_pool("pool_S", spectral, pool_ratios[0]), graph_pool("pool_T", temporal, pool_ratios[1])
    branches = []
    for k in (1, 2):
        t, s, master = heterogeneous(f"HtrgGAT_layer_ST{k}1", temporal, spectral, w[f"master{k}"])
        s, t = graph_pool(f"pool_hS{k}", s, pool_ratios[2]), graph_pool(f"pool_hT{k}", t, pool_ratios[2])
        branches.append([a + b for a, b in zip((t, s, master), heterogeneous(f"HtrgGAT_layer_ST{k}2", t, s, master))])
    t, s, master = (torch.maximum(a, b) for a, b in zip(*branches))
    return torch.cat([t.abs().amax(dim=1), t.mean(dim=1), s.abs().amax(dim=1), s.mean(dim=1), master.squeeze(1)], dim=1)


@pytest.mark.parametrize(
    "processor_class, published, config",
    [(RawAASIST, 297_866, AASIST_CONFIG), (RawAASISTL, 85_306, AASIST_L_CONFIG)],
    ids=["AASIST", "AASIST-L"],
)
def test_published_defaults_give_the_published_parameter_count_and_configuration(processor_class, published, config):
    """The paper's AASIST (297K; the reference Model's exact count) and the README's AASIST-L (85,306 parameters)
    are the processor plus the Linear(160, 2) output layer; the written-out reference shapes count the same."""
    processor = processor_class(n_layers=1, dim=N_FILTERS)
    assert processor.out_dim == 5 * config["gat_dims"][1] == 160
    assert n_parameters(processor) + processor.out_dim * 2 + 2 == published
    reference = reference_shapes(config)
    assert sum(torch.Size(shape).numel() for name, shape in reference.items() if not is_buffer(name)) == published
    spectral, temporal, heterogeneous, _ = config["pool_ratios"]
    assert (processor.pool_spectral.ratio, processor.pool_temporal.ratio) == (spectral, temporal)
    branch_pools = [pool for branch in processor.branches for pool in (branch.pool_temporal, branch.pool_spectral)]
    assert {pool.ratio for pool in branch_pools} == {heterogeneous}


@pytest.mark.parametrize(
    "processor_class, config", [(RawAASIST, AASIST_CONFIG), (RawAASISTL, AASIST_L_CONFIG)], ids=["AASIST", "AASIST-L"]
)
def test_every_reference_entry_maps_to_one_of_the_same_shape(processor_class, config):
    processor = processor_class(n_layers=1, dim=N_FILTERS)
    reference = random_reference_state(config)
    state, output_layer = from_reference_state_dict(reference)
    processor.load_state_dict(state, strict=True)  # every entry of ours given, each of its own shape
    classifier = torch.nn.Linear(processor.out_dim, 2)
    classifier.load_state_dict(output_layer, strict=True)
    assert sum(v.numel() for v in (*state.values(), *output_layer.values())) == sum(v.numel() for v in reference.values())
    torch.testing.assert_close(classifier.weight, reference["out_layer.weight"][[1, 0]], rtol=0, atol=0)  # bona fide first
    torch.testing.assert_close(processor.spectral_position, reference["pos_S"], rtol=0, atol=0)
    layer = processor.branches[1].first
    for row, edge in enumerate(("11", "12", "22")):
        expected = reference[f"HtrgGAT_layer_ST21.att_weight{edge}"][:, 0]
        torch.testing.assert_close(layer.graph.attention.att_weight[row], expected, rtol=0, atol=0)


@pytest.mark.parametrize("n_frames", [MIN_FRAMES, 7000])
def test_with_the_reference_weights_it_computes_the_reference_model(n_frames):
    """Our eval-mode output from converted weights equals the reference's computation written out from its
    own state_dict: the unused BN of each block's pre-activation (random here) must change nothing."""
    reference = random_reference_state(TINY_CONFIG)
    processor = tiny().eval()
    processor.load_state_dict(from_reference_state_dict(reference)[0])
    hidden = sinc_outputs(n_frames)
    with torch.no_grad():
        expected = reference_forward(reference, hidden[:, 0], TINY_CONFIG["pool_ratios"])
        output = processor(hidden, torch.tensor([n_frames, n_frames]))
    assert expected.abs().max() > 0.1
    torch.testing.assert_close(output, expected, rtol=1e-4, atol=1e-5)


def test_unknown_reference_entries_are_refused():
    with pytest.raises(UsageError, match="GAT_layer_S.att_weight7"):
        from_reference_state_dict({"GAT_layer_S.att_weight7": torch.zeros(3, 1)})
    with pytest.raises(UsageError, match="encoder.9.0.conv1.weight"):
        from_reference_state_dict({"encoder.9.0.conv1.weight": torch.zeros(3, 1)})


@pytest.mark.parametrize("processor_class", [RawAASIST, RawAASISTL])
def test_output_shape_and_the_last_layer_is_read(processor_class):
    processor = tiny(processor_class).eval()
    hidden, frame_lengths = sinc_outputs(5000, n_layers=2), torch.tensor([5000, 4500])
    changed = hidden.clone()
    changed[:, 0] += 1.0
    with torch.no_grad():
        output = processor(hidden, frame_lengths)
        torch.testing.assert_close(processor(changed, frame_lengths), output, rtol=0, atol=0)
    assert output.shape == (2, 5 * TINY["heterogeneous_dim"]) == (2, processor.out_dim)
    assert torch.isfinite(output).all()


def test_gradients_reach_every_parameter_but_the_unused_pre_activation_batch_norms():
    """The reference's residual blocks compute bn1 (our encoder.{1..5}.pre.0) and discard it."""
    processor = tiny().train()
    processor(sinc_outputs(5000), torch.tensor([5000, 4600])).square().sum().backward()
    without_gradient = {name for name, p in processor.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0}
    assert without_gradient == {f"encoder.{i}.pre.0.{field}" for i in range(1, 6) for field in ("weight", "bias")}


def test_eval_output_is_exactly_padding_invariant():
    """Padding holding inf or NaN, a longer padded batch and the utterance alone all give the same output."""
    processor = tiny().eval()
    frame_lengths = torch.tensor([20000, 9000, 300])  # 9, 4 and 2 temporal nodes; 3, 1 and 1 left in the readout
    hidden = sinc_outputs(20000, batch=3)
    garbage = torch.cat([hidden, hidden.new_full((3, 1, 800, N_FILTERS), float("nan"))], dim=2)
    garbage[1, :, 9000:] = float("inf")
    garbage[2, :, 300:] = float("-inf")
    with torch.no_grad():
        batch = processor(garbage, frame_lengths)
        alone = [processor(hidden[i : i + 1, :, :n], torch.tensor([n]))[0] for i, n in enumerate(frame_lengths.tolist())]
        shorter = processor(hidden, torch.tensor([20000, 8000, 300]))
    torch.testing.assert_close(batch, torch.stack(alone), rtol=1e-5, atol=1e-5)
    assert torch.isfinite(batch).all()
    assert not torch.allclose(shorter[1], batch[1])


def test_padding_gets_no_gradient_and_no_nan_in_training():
    processor = tiny().train()
    hidden = torch.cat([sinc_outputs(5000), torch.full((2, 1, 300, N_FILTERS), float("nan"))], dim=2).requires_grad_()
    processor(hidden, torch.tensor([5000, 4800])).sum().backward()
    assert torch.isfinite(hidden.grad).all()
    assert hidden.grad[:, :, 5000:].abs().sum() == 0 and hidden.grad[1, :, 4800:].abs().sum() == 0
    assert all(torch.isfinite(p.grad).all() for p in processor.parameters() if p.grad is not None)


@pytest.mark.parametrize("n_frames", [0, 1, 2, 100])
def test_utterances_shorter_than_the_minimum_are_extended_with_silence(n_frames):
    processor = tiny()
    hidden = sinc_outputs(max(n_frames, 1), batch=1)
    for train in (True, False):
        processor.train(train)
        output = processor(hidden, torch.tensor([n_frames]))
        assert output.shape == (1, processor.out_dim) and torch.isfinite(output).all()
    extended = torch.cat([hidden[:, :, :n_frames], hidden.new_zeros(1, 1, MIN_FRAMES - n_frames, N_FILTERS)], dim=2)
    with torch.no_grad():
        output = processor(hidden, torch.tensor([n_frames]))
        torch.testing.assert_close(output, processor(extended, torch.tensor([MIN_FRAMES])))


def test_fewer_than_three_filters_are_refused():
    with pytest.raises(UsageError, match="at least 3 features"):
        RawAASIST(n_layers=1, dim=2)


def test_deterministic_in_eval_mode_and_dropout_in_training():
    processor = tiny()
    hidden, frame_lengths = sinc_outputs(5000), torch.tensor([5000, 4700])
    with torch.no_grad():
        processor.eval()
        torch.testing.assert_close(processor(hidden, frame_lengths), processor(hidden, frame_lengths), rtol=0, atol=0)
        processor.train()
        assert not torch.equal(processor(hidden, frame_lengths), processor(hidden, frame_lengths))
