"""Index generations on disk: <index_dir>/<backend>/gen-<stamp>/ plus a CURRENT pointer file.

A rebuild writes a fresh generation and publishes it by renaming a new pointer over CURRENT
(os.replace is atomic), so readers see either the old or the new index, never a half-built one.
Incremental updates commit into the current generation (both engines let readers keep their
snapshot while a writer commits). One writer at a time per backend, enforced by an flock.

Each generation also records what of the catalog it holds (`state-<generation>.json` beside it, outside
the generation so readers' private copies never see it change: the ids indexed, the
`Institution.updated_at` high-water mark up to which every change is in, and the ids a writer was
changing when it last wrote), so the index can catch up with the catalog after any crash."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

POINTER = "CURRENT"
FOLD_MAP = "foldmap.json"
SCHEMA = "schema.json"   # the document schema version a generation was built with


def backend_dir(index_dir: Path, backend: str) -> Path:
    return index_dir / backend


def current_generation(index_dir: Path, backend: str) -> Path | None:
    """The published generation directory, or None when there is no index yet."""
    base = backend_dir(index_dir, backend)
    try:
        name = (base / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = base / name
    return path if name and path.is_dir() else None


def pointer_stamp(index_dir: Path, backend: str) -> tuple[int, int] | None:
    """Changes whenever a new generation is published (cheap: one stat)."""
    try:
        st = (backend_dir(index_dir, backend) / POINTER).stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def new_generation(index_dir: Path, backend: str) -> Path:
    base = backend_dir(index_dir, backend)
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"gen-{time.strftime('%Y%m%d%H%M%S')}-{time.time_ns() % 1_000_000_000:09d}"
    path.mkdir()
    return path


def publish(index_dir: Path, backend: str, generation: Path) -> None:
    """Atomically make `generation` the current one, then drop generations older than the previous."""
    base = backend_dir(index_dir, backend)
    previous = current_generation(index_dir, backend)
    tmp = base / f".{POINTER}.{os.getpid()}.tmp"
    tmp.write_text(generation.name, encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, base / POINTER)
    for stale in base.glob(f".{POINTER}.*.tmp"):   # left by a writer killed before its os.replace
        stale.unlink(missing_ok=True)
    keep = {generation.name} | ({previous.name} if previous else set())
    for old in base.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for state in base.glob("state-gen-*.json"):
        if state.name[len("state-"):-len(".json")] not in keep:
            state.unlink(missing_ok=True)


@contextmanager
def try_lock(index_dir: Path, backend: str, name: str) -> Iterator[bool]:
    """A non-blocking exclusive flock on <backend dir>/.<name>.lock: yields True when this process holds
    it, False when another one does (the caller then leaves the work to that one)."""
    base = backend_dir(index_dir, backend)
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f".{name}.lock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def write_lock(index_dir: Path, backend: str) -> Iterator[None]:
    """Serialise writers (rebuild and update) across processes."""
    base = backend_dir(index_dir, backend)
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".write.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_fold_map(generation: Path) -> dict[str, list[str]]:
    try:
        return json.loads((generation / FOLD_MAP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def fold_map_stamp(generation: Path) -> int:
    try:
        return (generation / FOLD_MAP).stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def write_fold_map(generation: Path, fold_map: dict[str, list[str]]) -> None:
    tmp = generation / f".{FOLD_MAP}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(fold_map, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(tmp, generation / FOLD_MAP)


def write_schema_version(generation: Path, version: int) -> None:
    """Record the document schema version; written once, before the generation is published."""
    (generation / SCHEMA).write_text(json.dumps({"schema_version": version}), encoding="utf-8")


def read_schema_version(generation: Path) -> int:
    """The generation's document schema version; 1 for one built before versions were recorded."""
    try:
        return int(json.loads((generation / SCHEMA).read_text(encoding="utf-8"))["schema_version"])
    except FileNotFoundError:
        return 1
    except (KeyError, TypeError, ValueError):
        return 0   # damaged: matches no real version, so it is rebuilt


@dataclass
class CatalogState:
    """What of the catalog a generation holds. `pending`: ids a writer was replacing when it wrote this
    (a crash between its commit and the next write leaves them uncertain: the next catch-up redoes them).

    `catalog_count` and `window_count` are the catalog's mark when the generation was last brought level
    (institutions in the catalog; those stamped since `high_water` minus the catch-up overlap): with
    `high_water` they let a node tell in three indexed aggregates whether the shared catalog moved on
    (index.follow). None in states written before marks were kept, or by a partial update."""

    ids: set[int] = field(default_factory=set)
    high_water: datetime | None = None
    pending: set[int] = field(default_factory=set)
    catalog_count: int | None = None
    window_count: int | None = None
    window_ids: set[int] | None = None   # the ids stamped within that overlap (index.api.catch_up)


def state_path(generation: Path) -> Path:
    return generation.parent / f"state-{generation.name}.json"


def read_catalog_state(generation: Path) -> CatalogState | None:
    """None for a generation written before states were recorded (or a damaged file): rebuild it."""
    try:
        raw = json.loads(state_path(generation).read_text(encoding="utf-8"))
        mark = raw.get("high_water")
        return CatalogState(set(raw["ids"]), datetime.fromisoformat(mark) if mark else None,
                            set(raw.get("pending", [])), _optional_int(raw.get("catalog_count")),
                            _optional_int(raw.get("window_count")),
                            None if raw.get("window_ids") is None else set(raw["window_ids"]))
    except (FileNotFoundError, KeyError, TypeError, ValueError):
        return None


def _optional_int(value) -> int | None:
    return None if value is None else int(value)


def write_catalog_state(generation: Path, state: CatalogState) -> None:
    data = {"version": 1, "high_water": state.high_water.isoformat() if state.high_water else None,
            "ids": sorted(state.ids), "pending": sorted(state.pending),
            "catalog_count": state.catalog_count, "window_count": state.window_count,
            "window_ids": None if state.window_ids is None else sorted(state.window_ids)}
    target = state_path(generation)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
