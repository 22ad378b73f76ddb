"""The countermeasure: extractor -> processor -> classifier, built from the checked arguments."""
from __future__ import annotations

import argparse

import torch
from torch import nn

from common import CLASSIFIERS, EXTRACTORS, LOSSES, MINERS, PROCESSORS
from conventions import N_CLASSES, ComponentChoice, UsageError, declarations
from losses.base import BaseLoss, ClassifierOutput
from losses.pml_adapter import PMLLoss
from losses.weighted_sum import WeightedSumLoss


class Countermeasure(nn.Module):
    """wave [B, T] and lengths [B] (samples) -> what the classifier returns (logits, or (logits, embedding)).

    A pair classifier (`uses_reference`) also takes the bona fide reference of each trial,
    ref_wave [B, T_ref] with ref_lengths [B], through the same extractor and processor; other
    classifiers ignore a reference. `head` is the trainable part after the extractor, for layer
    stacks taken from a FeatureCache.
    """

    def __init__(self, extractor: nn.Module, processor: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.extractor = extractor
        self.processor = processor
        self.classifier = classifier
        self.uses_reference = getattr(classifier, "pair_input", False)

    def forward(
        self,
        wave: torch.Tensor,
        lengths: torch.Tensor,
        ref_wave: torch.Tensor | None = None,
        ref_lengths: torch.Tensor | None = None,
    ) -> ClassifierOutput:
        reference = self.extractor(ref_wave, ref_lengths) if self.uses_reference else None
        return self.head(*self.extractor(wave, lengths), reference)

    def head(
        self,
        hidden: torch.Tensor,
        frame_lengths: torch.Tensor,
        reference: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> ClassifierOutput:
        """Processor and classifier on a layer stack [B, L, T', D] with its frame lengths [B]
        (and, for a pair classifier, the reference's (layer stack, frame lengths))."""
        embedding = self.processor(hidden, frame_lengths)
        if self.uses_reference:
            return self.classifier(embedding, self.processor(*reference))
        return self.classifier(embedding)

    @property
    def extractor_is_frozen(self) -> bool:
        """Whether the extractor's output stays the same through training (no trainable parameter)."""
        return not any(parameter.requires_grad for parameter in self.extractor.parameters())

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """The state that training changes, for checkpoints: without a frozen extractor's weights,
        which are the pretrained ones (found again from the configuration)."""
        state = self.state_dict()
        if self.extractor_is_frozen:
            state = {key: value for key, value in state.items() if not key.startswith("extractor.")}
        return state

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restores what trainable_state_dict saved. A state without extractor entries was saved with
        a frozen extractor: this model's extractor keeps the weights it was built with (the
        pretrained ones, or those its settings give), also when it is fine-tuned from there."""
        try:
            missing, unexpected = self.load_state_dict(state, strict=False)
        except RuntimeError as error:  # tensors of other shapes
            raise UsageError(f"the checkpoint does not fit the model built from its arguments: {str(error).splitlines()[-1].strip()}") from None
        saved_extractor = any(key.startswith("extractor.") for key in state)
        missing = [key for key in missing if saved_extractor or not key.startswith("extractor.")]
        if missing or unexpected:
            raise UsageError(f"the checkpoint does not fit the model built from its arguments: missing {missing}, unexpected {unexpected}")


def build_loss(name: str, sections: dict[str, dict], embedding_dim: int, n_classes: int = N_CLASSES) -> BaseLoss:
    """The registered loss `name` with its settings `sections[name]` (a setting left out takes its
    default); a loss it names (a ComponentChoice setting) is built first, from its own section, and
    handed in. `build_loss("Combined", {}, 128)` is Combined with its default ProxyAnchor."""
    values = sections.get(name, {})
    arguments = {}
    for declared in declarations(LOSSES[name]).values():
        value = values.get(declared.name, declared.default)
        arguments[declared.argument] = (
            build_loss(value, sections, embedding_dim, n_classes) if isinstance(declared.spec, ComponentChoice) else value
        )
    return LOSSES[name](embedding_dim=embedding_dim, n_classes=n_classes, **arguments)


def build_model(args: argparse.Namespace) -> tuple[Countermeasure, BaseLoss]:
    """The countermeasure and its loss (which holds the loss's learnable state) for checked `args`;
    a sum of losses (--loss A+B) is a WeightedSumLoss of the terms."""
    settings = args.hyper_parameters
    extractor = EXTRACTORS[args.extractor](**settings["extractor"])
    processor = PROCESSORS[args.processor](n_layers=extractor.n_layers, dim=extractor.dim, **settings["processor"])
    classifier = CLASSIFIERS[args.classifier](in_dim=processor.out_dim, n_classes=N_CLASSES, **settings["classifier"])
    embedding_dim = getattr(classifier, "embedding_dim", processor.out_dim)
    terms = {name: build_loss(name, settings["loss"], embedding_dim) for name in args.losses}
    if args.miner is not None:
        miner = MINERS[args.miner](**settings["miner"])
        for term in terms.values():
            if isinstance(term, PMLLoss):
                term.miner = miner
    loss = next(iter(terms.values())) if len(terms) == 1 else WeightedSumLoss(terms, args.loss_weights)
    return Countermeasure(extractor, processor, classifier), loss
