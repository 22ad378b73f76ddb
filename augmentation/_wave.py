"""Helpers shared by the augmentations."""
from __future__ import annotations

import numpy as np


def as_wave(wave: np.ndarray) -> np.ndarray:
    """The input as float64 [T] for processing; refuses anything but a 1-D array."""
    wave = np.asarray(wave)
    if wave.ndim != 1:
        raise ValueError(f"an augmentation takes a mono wave [T], got shape {wave.shape}")
    return wave.astype(np.float64)


def as_output(wave: np.ndarray) -> np.ndarray:
    """float32 [T'], contiguous."""
    return np.ascontiguousarray(wave, dtype=np.float32)


def power(wave: np.ndarray) -> float:
    """Mean square of a wave (0 for an empty one)."""
    return float(np.mean(np.square(wave))) if wave.size else 0.0
