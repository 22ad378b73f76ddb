"""Writing the files a run leaves: whole or not at all, and only where they can be written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from conventions import UsageError


def atomic_write_text(path: Path, text: str) -> None:
    """`text` into `path` through a temporary file in the same folder renamed over it: a kill at any
    moment leaves the old file or the new one, never a part."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_writable_location(path: Path, flag: str) -> None:
    """Refuse (UsageError naming `flag`) a file or folder `path` that could not be created: one under
    a file, or in a folder this process cannot write to (tried: a temporary folder is made and
    removed in the nearest existing folder above it)."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{flag} {path} lies under {ancestor}, which is a file, not a folder; give a path in a folder")
    try:
        Path(tempfile.mkdtemp(dir=ancestor, prefix=".ca_mhfa_probe_")).rmdir()
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write in {ancestor} ({error.strerror}); give a folder you can write to") from None


def make_directory(path: Path, flag: str) -> list[Path]:
    """Create the new folder `path` (and its parents) at once, refusing one that exists: two runs
    asking for the same folder at the same instant cannot both get it. Returns the folders it
    created, `path` last."""
    check_writable_location(path, flag)
    created = [path, *(parent for parent in path.absolute().parents if not parent.exists())][::-1]
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        raise UsageError(f"{flag} {path} already exists; give a new directory or remove it") from None
    except OSError as error:
        raise UsageError(f"{flag} {path} cannot be created ({error.strerror}); give a folder you can write to") from None
    return created
