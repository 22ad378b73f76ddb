"""Extractor outputs kept per utterance, so that a frozen extractor sees each utterance once per run."""
from __future__ import annotations

import torch
from torch import nn


class FeatureCache:
    """The layer stacks [L, T'_i, D] of the utterances of one split seen so far, on the CPU.

    `features(utt_ids, wave, lengths)` returns the padded layer stack [B, L, T', D] and frame
    lengths [B] of the utterances `utt_ids` (waves [B, T], lengths [B]) on the waves' device. A
    batch with an utterance not seen yet is extracted whole (in eval mode, without gradients) and
    its new utterances are kept while they fit in `max_bytes`; later batches of kept utterances
    skip the extractor. Only valid for an extractor whose output never changes
    during the run (frozen, and no waveform augmentation).
    """

    def __init__(self, extractor: nn.Module, max_bytes: int) -> None:
        self.extractor = extractor
        self.max_bytes = max_bytes
        self.kept_bytes = 0
        self.store: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def features(self, utt_ids: list[str], wave: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if all(utt_id in self.store for utt_id in utt_ids):
            return self.assemble(utt_ids, wave.device)
        self.extractor.eval()
        hidden, frame_lengths = self.extractor(wave, lengths)
        for row, utt_id in enumerate(utt_ids):
            item = hidden[row, :, : frame_lengths[row]]
            size = item.numel() * item.element_size()
            if utt_id not in self.store and self.kept_bytes + size <= self.max_bytes:
                self.store[utt_id] = item.cpu().clone()
                self.kept_bytes += size
        return hidden, frame_lengths

    def assemble(self, utt_ids: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        items = [self.store[utt_id] for utt_id in utt_ids]
        frame_lengths = torch.tensor([item.shape[1] for item in items])
        layers, _, dim = items[0].shape
        hidden = items[0].new_zeros(len(items), layers, int(frame_lengths.max()), dim)
        for row, item in enumerate(items):
            hidden[row, :, : item.shape[1]] = item
        return hidden.to(device), frame_lengths.to(device)
