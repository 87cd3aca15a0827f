"""Write-then-rename: a reader sees the old file (or folder) or the new one, never half of either."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A hidden path beside `target` to write a file or a folder to; swapped in whole when the block succeeds.

    On failure the partial write is removed and `target` keeps its previous content. A
    folder replaces an existing one by two renames (old aside, new in), then the old is deleted.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    partial = target.with_name(f".{target.name}.{token}.partial")
    try:
        yield partial
        if partial.is_dir() and target.exists():
            retired = target.with_name(f".{target.name}.{token}.retired")
            target.rename(retired)
            partial.rename(target)
            _remove(retired)
        else:
            os.replace(partial, target)
    finally:
        if partial.exists():
            _remove(partial)
