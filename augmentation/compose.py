"""Several augmentations applied in order."""
from __future__ import annotations

import numpy as np


class Compose:
    """Applies `augmentations` in order, all drawing from the same `rng`; none: a float32 copy."""

    def __init__(self, augmentations: list) -> None:
        self.augmentations = list(augmentations)

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        wave = np.array(wave, dtype=np.float32)
        for augmentation in self.augmentations:
            wave = augmentation(wave, rng)
        return wave

    def __repr__(self) -> str:
        return f"Compose({self.augmentations!r})"
