"""The one base class of every loss: it trains the model and scores trials."""
from __future__ import annotations

import math
from typing import Annotated, Any, Optional, Union

import torch
from torch import nn

from conventions import BONAFIDE, LABEL_NAMES, HyperParameter, UsageError

ClassifierOutput = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]
_NAME_AND_NUMBER = rf"({'|'.join(LABEL_NAMES.values())})=[0-9.eE+-]+"
ClassWeights = Annotated[
    Optional[str],
    HyperParameter(
        "weight of each class's trials, by name: bonafide=W,spoof=W (a published [0.1, 0.9] lists spoof first: "
        "it is bonafide=0.9,spoof=0.1 here)",
        pattern=rf"{_NAME_AND_NUMBER}(,{_NAME_AND_NUMBER})*",
        none="equal",
    ),
]


def class_weight_tensor(text: str | None) -> torch.Tensor | None:
    """"bonafide=0.9,spoof=0.1" -> tensor([0.9, 0.1]) indexed by label; None stays None. UsageError
    unless every class is named once with a finite weight above 0."""
    if text is None:
        return None
    weights: dict[str, float] = {}
    for entry in text.split(","):
        name, _, value = entry.partition("=")
        try:
            weights[name] = float(value)
        except ValueError:
            raise UsageError(f"--class_weights {text}: {value!r} is not a number") from None
    if sorted(weights) != sorted(LABEL_NAMES.values()) or len(text.split(",")) != len(LABEL_NAMES):
        raise UsageError(f"--class_weights {text}: name every class once: {','.join(f'{name}=W' for name in LABEL_NAMES.values())}")
    if not all(math.isfinite(weight) and weight > 0 for weight in weights.values()):
        raise UsageError(f"--class_weights {text}: every weight must be a finite number above 0")
    return torch.tensor([weights[LABEL_NAMES[label]] for label in sorted(LABEL_NAMES)], dtype=torch.float64)


class BaseLoss(nn.Module):
    """A criterion that also scores.

    Both `forward(output, labels) -> scalar` and `score(output) -> [B]` (higher = more bona fide)
    take what the classifier returned: logits [B, C], or the pair (logits, embedding [B, E']).
    A bare tensor is the embedding for an embedding loss and the logits for a logits loss.
    Losses compute in at least float32 with autocast off: under bf16/fp16 autocast the selected
    input is upcast, and no matmul of theirs drops to half precision.
    Subclasses implement `compute_loss(inputs, labels)` and `compute_score(inputs)` on the selected
    input, declare `loss_type`, `reference` and `score_description`, and take their hyper-parameters
    as constructor arguments after (embedding_dim, n_classes), each annotated with a
    conventions.HyperParameter (its help, unit and range) and given a default; an argument that
    receives another loss is annotated with a conventions.ComponentChoice and has none (the
    builder, model.build_loss, hands it in).
    A loss made of named terms puts their values of the last forward pass in `last_terms`,
    which the training log shows.
    """

    loss_type: str = "logits"
    reference: str = ""
    score_description: str = ""

    def __init__(self, embedding_dim: int, n_classes: int) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.n_classes = n_classes
        self.last_terms: dict[str, torch.Tensor] = {}

    def select(self, output: ClassifierOutput) -> torch.Tensor:
        """The part of the classifier output this loss works on."""
        if isinstance(output, tuple):
            logits, embedding = output
            return logits if self.loss_type == "logits" else embedding
        return output

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """As nn.Module's; a state saved before a part of the loss kept extra state (CrossBatchMemory's
        queue position) loads with that part's extra state as it is now (a fresh loss: the start)."""
        state_dict = dict(state_dict)
        for name, module in self.named_modules():
            if type(module).get_extra_state is not nn.Module.get_extra_state:
                state_dict.setdefault(f"{name}._extra_state" if name else "_extra_state", module.get_extra_state())
        return super().load_state_dict(state_dict, strict, assign)

    def forward(self, output: ClassifierOutput, labels: torch.Tensor) -> torch.Tensor:
        inputs = self.select(output)
        with torch.autocast(inputs.device.type, enabled=False):
            return self.compute_loss(upcast(inputs), labels)

    def score(self, output: ClassifierOutput) -> torch.Tensor:
        inputs = self.select(output)
        with torch.autocast(inputs.device.type, enabled=False):
            return self.compute_score(upcast(inputs))

    def compute_loss(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def compute_score(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def upcast(x: torch.Tensor) -> torch.Tensor:
    """`x` in float32 when it is in a half-precision type (autocast), unchanged otherwise."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def bonafide_log_odds(logits: torch.Tensor) -> torch.Tensor:
    """log p(bona fide) − log p(not bona fide) under softmax(logits [B, C]): logit_bf − logsumexp(other logits)."""
    others = torch.cat([logits[:, :BONAFIDE], logits[:, BONAFIDE + 1 :]], dim=1)
    return logits[:, BONAFIDE] - torch.logsumexp(others, dim=1)


def log_one_minus_target_probability(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log(1 − softmax(logits)[label]) [B] = logsumexp(non-target logits) − logsumexp(all logits).

    Exact where p_target rounds to 1 (1 − p would be 0 and its power's gradient infinite).
    """
    target = torch.nn.functional.one_hot(labels, logits.shape[1]).bool()
    return torch.logsumexp(logits.masked_fill(target, float("-inf")), dim=1) - torch.logsumexp(logits, dim=1)
