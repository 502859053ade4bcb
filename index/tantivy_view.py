"""A private view of a tantivy generation for processes that may only read the index.

tantivy's reader locks `.tantivy-meta.lock` inside the index directory and always opens that file
for writing (creating it if needed), so a web process without write access to the index cannot open
it at all. A view is a per-process temporary directory of symlinks to the generation's files: tantivy
creates its lock files there and reads everything else through the links. A reader using a view no
longer holds the writer off while it opens segments, so opening retries when a concurrent commit
removed a file in between (whoosh's reader does the same)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

META_LOCK = ".tantivy-meta.lock"
ATTEMPTS = 5
RETRY_DELAY_S = 0.05

T = TypeVar("T")


def needed(generation: Path) -> bool:
    """True when this process cannot take tantivy's reader lock in the generation itself."""
    lock = generation / META_LOCK
    if lock.exists():
        return not os.access(lock, os.W_OK)
    return not os.access(generation, os.W_OK | os.X_OK)


def create(generation: Path) -> Path:
    view = Path(tempfile.mkdtemp(prefix=f"wsparcie-tantivy-{generation.name}-"))
    sync(generation, view)
    return view


def sync(generation: Path, view: Path) -> None:
    """Link the generation's current files (new segments after a commit); drop links to removed ones.
    Lock files are never linked: each process must get its own."""
    wanted = {entry.name for entry in os.scandir(generation) if not entry.name.endswith(".lock")}
    for name in wanted:
        link = view / name
        if not link.is_symlink():
            link.symlink_to(generation / name)
    for link in view.iterdir():
        if link.is_symlink() and link.name not in wanted:
            link.unlink()


def remove(view: Path) -> None:
    shutil.rmtree(view, ignore_errors=True)


def with_retries(generation: Path, view: Path, action: Callable[[], T]) -> T:
    """Run `action` (open or reload through the view), re-linking and retrying when a commit in
    another process changed the files between our listing and tantivy's reading of meta.json."""
    for attempt in range(ATTEMPTS):
        sync(generation, view)
        try:
            return action()
        except (OSError, ValueError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(RETRY_DELAY_S)
    raise AssertionError("unreachable")
