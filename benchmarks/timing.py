"""The timer the benchmarks share."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def timed(function: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median seconds of `repeats` calls after one warm-up call (waiting for the GPU's work)."""
    function()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
