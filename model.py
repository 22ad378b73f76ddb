"""The countermeasure: extractor -> processor -> classifier, built from the checked arguments."""
from __future__ import annotations

import argparse

import torch
from torch import nn

from common import CLASSIFIERS, EXTRACTORS, LOSSES, N_CLASSES, PROCESSORS
from losses.base import BaseLoss


class Countermeasure(nn.Module):
    """wave [B, T] and lengths [B] (samples) -> what the classifier returns (logits, or (logits, embedding))."""

    def __init__(self, extractor: nn.Module, processor: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.extractor = extractor
        self.processor = processor
        self.classifier = classifier

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor):
        hidden, frame_lengths = self.extractor(wave, lengths)
        return self.classifier(self.processor(hidden, frame_lengths))


def build_model(args: argparse.Namespace) -> tuple[Countermeasure, BaseLoss]:
    """The countermeasure and its loss (which holds the loss's learnable state) for checked `args`."""
    parameters = args.hyper_parameters
    extractor = EXTRACTORS[args.extractor](**parameters["extractor"])
    processor = PROCESSORS[args.processor](n_layers=extractor.n_layers, dim=extractor.dim, **parameters["processor"])
    classifier = CLASSIFIERS[args.classifier](in_dim=processor.out_dim, n_classes=N_CLASSES, **parameters["classifier"])
    embedding_dim = getattr(classifier, "embedding_dim", processor.out_dim)
    loss = LOSSES[args.loss](embedding_dim=embedding_dim, n_classes=N_CLASSES, **parameters["loss"])
    return Countermeasure(extractor, processor, classifier), loss
