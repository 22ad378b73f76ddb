"""Every reference model, at tiny sizes, takes a training step with every loss of the library and
scores a batch: the losses see only the classifier's output, whatever the back-end."""
import pytest
import torch

from common import CLASSIFIERS, EXTRACTORS, LOSS_METADATA, LOSSES, PROCESSORS, REFERENCE_MODELS
from conventions import N_CLASSES
from model import Countermeasure, build_loss

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {
    "RawAASIST": {"early_channels": 2, "late_channels": 2, "gat_dim": 4, "heterogeneous_dim": 4},
    "RawAASIST-L": {"early_channels": 2, "late_channels": 2, "gat_dim": 4, "heterogeneous_dim": 4},
    "RawNet2": {"first_stage_channels": 2, "second_stage_channels": 2, "first_stage_blocks": 1,
                "second_stage_blocks": 1, "gru_size": 4, "gru_layers": 1, "embedding_dim": 4},
    "LCNN": {"channels": 2},
    "Nes2Net-X": {"outer_scale": 2, "inner_scale": 2},
    "Conformer": {"emb_size": 4, "heads": 2, "num_encoders": 1, "kernel_size": 3, "ff_mult": 1},
    "TCM": {"emb_size": 4, "heads": 2, "num_encoders": 1, "kernel_size": 3, "ff_mult": 1},
    "AASIST": {},
}
SSL_STACK = (3, 8)  # a small layer stack standing in for XLS-R's 25 x 1024
EMBEDDING_DIM = 8


class StackExtractor(torch.nn.Module):
    """A stand-in for a pretrained SSL extractor: one random layer stack frame per 320 samples."""

    n_layers, dim = SSL_STACK

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = wave.shape[1] // 320
        generator = torch.Generator().manual_seed(0)
        return torch.randn(wave.shape[0], self.n_layers, frames, self.dim, generator=generator), lengths // 320


@pytest.fixture(scope="module")
def countermeasures() -> dict[str, Countermeasure]:
    """Each reference model at tiny sizes, with an EmbeddingFF head (so that every loss applies)."""
    built = {}
    for name, reference in REFERENCE_MODELS.items():
        torch.manual_seed(0)
        extractor = StackExtractor() if reference.stack is not None else EXTRACTORS[reference.extractor]()
        processor = PROCESSORS[reference.processor](extractor.n_layers, extractor.dim, **TINY[reference.processor])
        classifier = CLASSIFIERS["EmbeddingFF"](processor.out_dim, N_CLASSES, hidden_dim=EMBEDDING_DIM)
        built[name] = Countermeasure(extractor, processor, classifier)
    return built


@pytest.mark.parametrize("loss_name", [name for name in LOSSES if LOSS_METADATA[name]["type"] != "combined"] + ["Combined"])
def test_every_reference_model_trains_one_step_and_scores_with_every_loss(loss_name, countermeasures):
    torch.manual_seed(0)
    wave, lengths = torch.randn(4, 8000) * 0.1, torch.tensor([8000, 7000, 6000, 5000])
    labels = torch.tensor([0, 1, 0, 1])
    for name, model in countermeasures.items():
        loss = build_loss(loss_name, {}, EMBEDDING_DIM)
        model.train()
        value = loss(model(wave, lengths), labels)
        assert value.dim() == 0 and torch.isfinite(value), (name, value)
        model.zero_grad()
        value.backward()
        gradients = [p.grad for p in model.processor.parameters() if p.grad is not None]
        assert gradients and all(torch.isfinite(g).all() for g in gradients), name
        model.eval()
        with torch.no_grad():
            scores = loss.score(model(wave, lengths))
        assert scores.shape == (4,) and torch.isfinite(scores).all(), name
