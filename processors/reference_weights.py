"""What the authors' checkpoints of the raw-waveform models share: their output layer lists the classes
as 0 spoof, 1 bona fide (their data loaders' labels), ours as conventions.LABEL_NAMES (BONAFIDE first)."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from conventions import BONAFIDE, LABEL_NAMES, SPOOF

REFERENCE_CLASS_INDEX = {BONAFIDE: 1, SPOOF: 0}


def output_layer_in_our_class_order(reference: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The weight and bias of the reference's output layer `prefix` ("out_layer.", "fc2_gru."), as the
    state of our Linear classifier's nn.Linear: its rows reordered to our labels."""
    rows = [REFERENCE_CLASS_INDEX[label] for label in sorted(LABEL_NAMES)]
    return {name.removeprefix(prefix): tensor[rows] for name, tensor in reference.items() if name.startswith(prefix)}
