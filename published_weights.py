"""The authors' released weights of a reference model as this tool's model state.

A file holding a bare state_dict (clovaai/aasist models/weights/AASIST.pth and AASIST-L.pth, the
ASVspoof 2021 RawNet2 baseline's pre-trained models) is recognised by the model whose key map
(`ReferenceModel.key_map` in common.py) turns it into exactly the state of that model at its
default settings: every entry present, every shape equal, nothing left over.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from common import REFERENCE_MODELS, ReferenceModel, reference_model_modules
from conventions import UsageError

DATA_PARALLEL_PREFIX = "module."  # what torch.nn.DataParallel adds to every name


@dataclass(frozen=True)
class PublishedWeights:
    """`model`: the REFERENCE_MODELS name; `state`: a Countermeasure state (processor and classifier
    entries; the sinc extractors hold no trained state)."""

    model: str
    state: dict[str, torch.Tensor]


def published_names() -> list[str]:
    """The reference models whose released weights can be read."""
    return [name for name, reference in REFERENCE_MODELS.items() if reference.key_map is not None]


def _mapped_state(reference: ReferenceModel, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    """`state` in the Countermeasure names of `reference`, or None when it is not that model's."""
    try:
        processor_state, output_layer_state = reference.key_map(state)
    except (UsageError, KeyError, IndexError, RuntimeError):
        return None
    _, processor, classifier = reference_model_modules(reference)
    mapped = {f"processor.{name}": tensor for name, tensor in processor_state.items()}
    mapped |= {f"classifier.linear.{name}": tensor for name, tensor in output_layer_state.items()}
    expected = {f"processor.{name}": tensor.shape for name, tensor in processor.state_dict().items()}
    expected |= {f"classifier.{name}": tensor.shape for name, tensor in classifier.state_dict().items()}
    return mapped if {name: tensor.shape for name, tensor in mapped.items()} == expected else None


def recognise_published_weights(content: object, source: str) -> PublishedWeights:
    """The reference model whose released state_dict `content` is (read from `source`, named in
    errors); UsageError when it is none of them."""
    if isinstance(content, Mapping) and content and all(isinstance(name, str) for name in content):
        state = dict(content)
        if all(name.startswith(DATA_PARALLEL_PREFIX) for name in state):
            state = {name.removeprefix(DATA_PARALLEL_PREFIX): tensor for name, tensor in state.items()}
        if all(isinstance(tensor, torch.Tensor) for tensor in state.values()):
            for name in published_names():
                mapped = _mapped_state(REFERENCE_MODELS[name], state)
                if mapped is not None:
                    return PublishedWeights(name, mapped)
    raise UsageError(
        f"{source} is neither a checkpoint of this tool (no model, loss and arguments in it) nor the released weights of "
        f"{', '.join(published_names())} (README: Reference models); give runs/<run>/checkpoints/best.pt"
    )
