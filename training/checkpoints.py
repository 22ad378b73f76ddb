"""Checkpoint files: written atomically, read without unpickling anything but tensors and plain values.

A checkpoint is a dict `{"epoch", "dev_eer", "model", "loss", "optimizer", "arguments"}`: the
model's trainable state (Countermeasure.trainable_state_dict), the loss's state (class weights,
proxies, schedule counters), the optimizer's state and the run's resolved arguments (plain values:
str, int, float, bool, None, lists and dicts), everything torch.load(weights_only=True) can read.
"""
from __future__ import annotations

import os
import pickle
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from conventions import UsageError

CHECKPOINT_KEYS = {"epoch", "model", "loss", "arguments"}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` to `path` atomically: a temporary file in the same folder, flushed to disk,
    then renamed over `path`, so that a kill at any moment leaves the old file or the new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_weights_file(path: str, flag: str) -> Any:
    """What torch.load(weights_only=True) reads from `path` (tensors and plain values only); UsageError
    (naming `flag`) for a missing file, a file that torch cannot read, or one that would need arbitrary
    unpickling."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(f"{flag} {path} does not exist; give runs/<run>/checkpoints/best.pt of a finished run") from None
    except IsADirectoryError:
        raise UsageError(f"{flag} {path} is a directory; give runs/<run>/checkpoints/best.pt of a finished run") from None
    except pickle.UnpicklingError as error:
        if "global" not in str(error).lower():  # not an object torch refused to rebuild: not a pickle at all
            raise UsageError(f"{flag} {path} is not a checkpoint of this tool (it does not unpickle)") from None
        raise UsageError(
            f"{flag} {path} holds objects beyond tensors and plain values, which are never unpickled from a file "
            "given on the command line (nothing in it was run); give a checkpoint written by this tool"
        ) from None
    except Exception as error:  # torch.load raises many types for a file that is not a checkpoint
        raise UsageError(f"{flag} {path} is not a checkpoint of this tool ({type(error).__name__}: {error})") from None


def is_checkpoint(content: Any) -> bool:
    """Whether what a file held is a checkpoint of this tool."""
    return isinstance(content, dict) and CHECKPOINT_KEYS <= content.keys()


def load_checkpoint(path: str, flag: str = "--checkpoint") -> dict[str, Any]:
    """A checkpoint written by this tool (read_weights_file); UsageError for anything else."""
    checkpoint = read_weights_file(path, flag)
    if not is_checkpoint(checkpoint):
        raise UsageError(f"{flag} {path} is not a checkpoint of this tool (no model, loss and arguments in it)")
    return checkpoint


def random_state() -> dict[str, Any]:
    """The state of Python's, NumPy's and torch's global generators (CUDA's too), as tensors and plain
    values (what weights_only reads back)."""
    version, python_state, gauss = random.getstate()
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "python": [version, list(python_state), gauss],
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_random_state(state: dict[str, Any]) -> None:
    """Put back what random_state() captured."""
    version, python_state, gauss = state["python"]
    random.setstate((version, tuple(python_state), gauss))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    for device, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
        torch.cuda.set_rng_state(cuda_state, device)
