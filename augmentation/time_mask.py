"""Time masking: random spans of the wave set to zero."""
from __future__ import annotations

from typing import Annotated

import numpy as np

from augmentation._wave import as_output, as_wave
from conventions import SAMPLE_RATE, HyperParameter


class TimeMask:
    """wave [T] -> wave [T] with `n_masks` spans, each of a length drawn uniformly in
    [0, max_mask_seconds] and placed uniformly inside the wave, set to zero (spans may overlap)."""

    def __init__(
        self,
        n_masks: Annotated[int, HyperParameter("time masking: number of spans set to zero", interval="[0, inf)")] = 2,
        max_mask_seconds: Annotated[
            float, HyperParameter("time masking: longest span set to zero", unit="seconds", interval="[0, inf)")
        ] = 0.2,
    ) -> None:
        self.n_masks, self.max_mask_seconds = n_masks, max_mask_seconds

    def spans(self, length: int, rng: np.random.Generator) -> list[tuple[int, int]]:
        """The (start, end) sample ranges to zero in a wave of `length` samples; __call__ draws exactly these."""
        longest = min(int(round(self.max_mask_seconds * SAMPLE_RATE)), length)
        spans = []
        for _ in range(self.n_masks):
            width = int(rng.integers(0, longest + 1))
            start = int(rng.integers(0, length - width + 1))
            spans.append((start, start + width))
        return spans

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        wave = as_output(as_wave(wave)).copy()
        for start, end in self.spans(len(wave), rng):
            wave[start:end] = 0
        return wave

    def __repr__(self) -> str:
        return f"TimeMask(n_masks={self.n_masks}, max_mask_seconds={self.max_mask_seconds})"
