"""Writes by stages that derive values rather than read them from a source (geography: points, TERYT units,
parsed address parts), and removal of demo placeholders. Together with catalog.merge these are the only
writes to institutions, so every change has provenance and a change-log entry.

A derived value is written as provenance of the pseudo-source `source` (e.g. "geo", key "derived"),
ranked below every real source by catalog.priority: when a source later gives the field, its value wins;
when it stops giving it, the derived value is what remains. Each change is logged (ChangeLog "changed",
source "geo"), which is what the powiat sheet's "changes since" reads."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, delete, select

from catalog.merge import encode as _encode
from catalog.models import (
    INSTITUTION_DATA_FIELDS,
    ChangeLog,
    FieldProvenance,
    Institution,
    SourceRecord,
    utcnow,
)

DERIVED_KEY = "derived"
# Derivation bookkeeping, not facts about the institution: no provenance, no change log.
_METADATA = {"teryt_method", "teryt_flag"}


def current_rows(session: Session, ids: Iterable[int], source: str) -> dict[tuple[int, str], FieldProvenance]:
    """The current derived provenance rows of `source` for these institutions, by (id, field)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = session.exec(select(FieldProvenance).where(
        FieldProvenance.institution_id.in_(ids), FieldProvenance.source == source,
        FieldProvenance.source_key == DERIVED_KEY, FieldProvenance.current())).all()
    return {(r.institution_id, r.field): r for r in rows}


def write_derived(session: Session, institution: Institution, changes: dict[str, Any], *, source: str,
                  rows: dict[tuple[int, str], FieldProvenance] | None = None, now: datetime | None = None) -> None:
    """Apply derived `changes` to one institution: the values, their provenance (the previous derived value
    superseded, never deleted) and one ChangeLog entry per changed field. `rows` (from current_rows) saves
    a query per institution in a batch. The caller owns the transaction."""
    now = now or utcnow()
    rows = rows if rows is not None else current_rows(session, [institution.id], source)
    ended = False
    for name, value in changes.items():
        old = getattr(institution, name)
        setattr(institution, name, value)
        if name in _METADATA or name not in INSTITUTION_DATA_FIELDS:
            continue
        previous = rows.pop((institution.id, name), None)
        if previous is not None:
            previous.superseded_at, ended = now, True
        session.add(ChangeLog(institution_id=institution.id, kind="changed", field=name, old_value=_encode(old),
                              new_value=_encode(value), source=source, changed_at=now))
    if ended:
        session.flush()   # the current-row unique index must see the old rows ended before the new ones
    for name, value in changes.items():
        text = _encode(value)
        if name in _METADATA or name not in INSTITUTION_DATA_FIELDS or text is None:
            continue
        row = FieldProvenance(institution_id=institution.id, field=name, source=source, source_key=DERIVED_KEY,
                              value=text, first_seen=now, last_seen=now)
        session.add(row)
        rows[(institution.id, name)] = row
    institution.updated_at = now
    session.add(institution)


def remove_placeholders(session: Session, replaced: dict[int, int], *, now: datetime | None = None) -> list[int]:
    """Delete demo placeholders (placeholder id -> id of the real institution that now covers its unit)
    with their records, provenance and change log: they never held facts. The real institution's change
    log says which placeholder it replaced. Only is_demo rows are ever removed here; returns their ids."""
    if not replaced:
        return []
    now = now or utcnow()
    placeholders = session.exec(select(Institution).where(
        Institution.id.in_(sorted(replaced)), Institution.is_demo == True)).all()
    ids = [p.id for p in placeholders]
    if not ids:
        return []
    keys = dict(session.exec(select(SourceRecord.institution_id, SourceRecord.source_key).where(
        SourceRecord.institution_id.in_(ids))).all())
    for model in (FieldProvenance, SourceRecord, ChangeLog):
        session.exec(delete(model).where(model.institution_id.in_(ids)))
    for placeholder in placeholders:
        session.add(ChangeLog(institution_id=replaced[placeholder.id], kind="replaced-placeholder", source="demo",
                              old_value=keys.get(placeholder.id) or placeholder.name, changed_at=now))
    session.exec(delete(Institution).where(Institution.id.in_(ids)))
    return ids
