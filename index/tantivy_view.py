"""A private copy of an index generation, read by the search backends (tantivy and whoosh).

Why a copy and not the generation itself:
* both engines mmap their files; when another process truncates a file under a live mapping, the
  next read of the lost pages kills the reader with SIGBUS (measured: the whole web process died).
  Files copied into a per-process temporary directory have their own inodes, so nothing done to
  the generation can take the pages away.
* tantivy's reader locks `.tantivy-meta.lock` inside the index directory and opens it for writing,
  so a web process without write access to the index could not open it at all; in the copy it
  creates its own lock files.

The copy records each file's (inode, size, mtime). Index files are written once and never changed
(every commit writes new segment files and replaces the meta files by rename), so a recorded file
that changes or vanishes while the meta file stays the same means the generation was damaged:
`damage()` says how, and the caller stops trusting the index. Copying costs one read of the
generation per open and per commit (bench/index_copy.py measures it). When the copy cannot be
written (temporary directory full) a file is linked instead: the site keeps searching, without the
SIGBUS protection for that file."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

ATTEMPTS = 5
RETRY_DELAY_S = 0.05
SKIPPED_SUFFIXES = (".lock", "WRITELOCK", ".tmp")   # per-process locks; files mid-rename
WRITE_WINDOW_S = 600   # a file this young may still be growing: an uncommitted segment being written

T = TypeVar("T")
Stamp = tuple[int, int, int]


class GenerationDamaged(RuntimeError):
    """Files of the published generation changed or vanished outside a commit."""


def _stamp(path: Path) -> Stamp:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def _tampered(known: Stamp, now: Stamp, sealed: bool = False) -> str | None:
    """How a file changed, if that cannot be a writer still appending to a segment it creates
    (`sealed` files are written whole and renamed into place: they never grow)."""
    ino, size, mtime_ns = known
    if now[0] != ino:
        return "was replaced"
    if now[1] < size:
        return "was truncated"
    if now[1] == size or sealed:
        return "was overwritten"
    if time.time_ns() - mtime_ns > WRITE_WINDOW_S * 1e9:
        return "grew long after it was written"
    return None


class PrivateCopy:
    """A per-process copy of `generation`; `mutable` names are the ones commits replace (meta files),
    `sealed_suffixes` name files that are complete once they appear (a table of contents)."""

    def __init__(self, generation: Path, mutable: Iterable[str] = (), sealed_suffixes: tuple[str, ...] = ()) -> None:
        self.generation = generation
        self.mutable = frozenset(mutable)
        self.sealed_suffixes = sealed_suffixes
        self.path = Path(tempfile.mkdtemp(prefix=f"wsparcie-index-{generation.name}-"))
        self.manifest: dict[str, Stamp] = {}

    def sync(self) -> None:
        """Copy new and replaced files, drop removed ones; raise GenerationDamaged when a file that
        should never change did."""
        present = {e.name for e in os.scandir(self.generation) if not e.name.endswith(SKIPPED_SUFFIXES)}
        for name in sorted(present):
            source = self.generation / name
            try:
                stamp = _stamp(source)
            except FileNotFoundError:   # removed by the writer's garbage collection meanwhile
                continue
            known = self.manifest.get(name)
            if known == stamp:
                continue
            how = None if known is None or name in self.mutable else _tampered(known, stamp, name.endswith(self.sealed_suffixes))
            if how:
                raise GenerationDamaged(f"{name} {how}")
            self._copy(source, self.path / name)
            self.manifest[name] = stamp
        for name in set(self.manifest) - present:
            del self.manifest[name]
            (self.path / name).unlink(missing_ok=True)

    def _copy(self, source: Path, target: Path) -> None:
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            shutil.copyfile(source, tmp)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            if isinstance(error, FileNotFoundError):
                raise
            log.warning("cannot copy %s into the private index view (%s): linking it instead", source, error)
            tmp.symlink_to(source)
        os.replace(tmp, target)

    def damage(self) -> str | None:
        """Why the generation can no longer be trusted, or None (cheap: one stat per file)."""
        for name, stamp in self.manifest.items():
            if name in self.mutable:
                continue
            try:
                now = _stamp(self.generation / name)
                how = None if now == stamp else _tampered(stamp, now, name.endswith(self.sealed_suffixes))
                if how:
                    return f"{name} {how}"
            except FileNotFoundError:
                return f"{name} is missing"
            except OSError as error:
                return f"{name}: {error}"
        return None

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def with_retries(copy: PrivateCopy, action: Callable[[], T]) -> T:
    """Sync the copy and run `action` (open or reload it), retrying when a commit in another process
    changed the files between our listing and the engine's reading of its meta file."""
    for attempt in range(ATTEMPTS):
        try:
            copy.sync()
            return action()
        except GenerationDamaged:
            raise
        except (OSError, ValueError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(RETRY_DELAY_S)
    raise AssertionError("unreachable")
