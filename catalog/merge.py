"""The only writer of institutions: applies one source's FetchResult to the catalog.

* upsert by source identity (SourceRecord: source + source_key), cross-source match for new keys;
* per-field provenance (FieldProvenance) for every value a source gives, with first/last seen;
* the Institution's value of each field is chosen among all sources by catalog.priority;
* every change of an Institution field is written to ChangeLog;
* after a complete listing, records the source no longer lists are counted missing, never deleted;
  after N consecutive complete runs without them (settings.missing_runs_threshold) the institution is
  marked possibly-closed, unless another source still lists it.

The caller owns the transaction: a failed run is rolled back as a whole (see scrapers.pipeline)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from catalog import priority
from catalog.models import (
    INSTITUTION_DATA_FIELDS,
    ChangeLog,
    FieldProvenance,
    Institution,
    ScrapeRun,
    Source,
    SourceRecord,
    utcnow,
)
from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings
from catalog.types import Status

log = logging.getLogger(__name__)

DATE_FIELDS = {"valid_from", "valid_until", "decision_date", "source_updated_at"}
_EMPTY = (None, "", [], {})


@dataclass
class MergeStats:
    n_in: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_missing: int = 0
    touched_ids: set[int] = field(default_factory=set)   # institutions whose fields changed (for enrich/index)


def encode(value: Any) -> str | None:
    """Canonical JSON text of a field value, so equal values compare equal as strings."""
    if value in _EMPTY:
        return None
    if isinstance(value, (date, datetime)):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def decode(field_name: str, text: str | None) -> Any:
    if text is None:
        return None
    value = json.loads(text)
    if field_name in DATE_FIELDS and isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def ensure_source(session: Session, meta) -> Source:
    source = session.get(Source, meta.key)
    if source is None:
        source = Source(key=meta.key, name=meta.name)
        session.add(source)
    source.name, source.url = meta.name, meta.url
    source.licence, source.attribution = meta.licence, meta.attribution
    return source


def apply_fetch(session: Session, meta, result: FetchResult, run: ScrapeRun, settings: Settings) -> MergeStats:
    """Apply a non-fatal FetchResult of source `meta.key`; returns counts. Does not commit."""
    now = utcnow()
    stats = MergeStats(n_in=len(result.items))
    source = ensure_source(session, meta)
    known = {
        sr.source_key: sr
        for sr in session.exec(select(SourceRecord).where(SourceRecord.source == meta.key)).all()
    }
    seen: set[str] = set()
    for item in result.items:
        if item.source_key in seen:   # a listing may repeat a unit; the first occurrence wins
            continue
        seen.add(item.source_key)
        outcome = _apply_item(session, item, known.get(item.source_key), run, now, settings)
        setattr(stats, f"n_{outcome[0]}", getattr(stats, f"n_{outcome[0]}") + 1)
        if outcome[0] != "unchanged":
            stats.touched_ids.add(outcome[1])
    if result.complete:
        for key, record in known.items():
            if key not in result.listed_keys:
                stats.n_missing += 1
                if _mark_missing(session, record, run, now, settings):
                    stats.touched_ids.add(record.institution_id)
    newest = max((i.source_updated_at for i in result.items if i.source_updated_at), default=None)
    if newest and (source.last_data_date is None or newest > source.last_data_date):
        source.last_data_date = newest
    return stats


def _apply_item(
    session: Session, item: SourceItem, record: SourceRecord | None, run: ScrapeRun, now: datetime,
    settings: Settings,
) -> tuple[str, int]:
    if record is None:
        institution, record, created = _attach_new_record(session, item, run, now)
        changed = _write_provenance(session, institution, item, record, run, now)
        # A new institution's first values are covered by its "new" log entry.
        _recompute(session, institution, changed, item.source, run, now, settings, log_changes=not created)
        return ("new" if created else "changed", institution.id)
    institution = session.get(Institution, record.institution_id)
    reappeared = record.missing_runs > 0
    record.missing_runs = 0
    record.last_seen, record.last_run_id = now, run.id
    record.data, record.raw = _jsonable(item.fields), item.raw
    record.capture_id = item.capture_id or record.capture_id
    record.source_updated_at = item.source_updated_at
    changed = _write_provenance(session, institution, item, record, run, now)
    if reappeared:
        _log(session, institution.id, "reappeared", None, None, None, item.source, run, now)
    institution.last_seen = now
    value_changed = _recompute(session, institution, changed | ({"status"} if reappeared else set()),
                               item.source, run, now, settings)
    return ("changed" if value_changed or reappeared else "unchanged", institution.id)


def _attach_new_record(session: Session, item: SourceItem, run: ScrapeRun, now: datetime):
    match = _find_match(session, item)
    created = match is None
    if created:
        institution = Institution(
            name=item.fields.get("name") or item.source_key,
            type=item.fields.get("type") or "other",
            is_demo=item.source == "demo",
            first_seen=now, last_seen=now, updated_at=now,
        )
        session.add(institution)
        session.flush()
        _log(session, institution.id, "new", None, None, institution.name, item.source, run, now)
    else:
        institution = session.get(Institution, match.institution_id)
        institution.last_seen = now
        _log(session, institution.id, "merged", None, None,
             json.dumps({"source": item.source, "key": item.source_key, "method": match.method}),
             item.source, run, now)
    record = SourceRecord(
        source=item.source, source_key=item.source_key, institution_id=institution.id,
        data=_jsonable(item.fields), raw=item.raw, capture_id=item.capture_id,
        source_updated_at=item.source_updated_at, first_seen=now, last_seen=now, last_run_id=run.id,
        match_method="new" if created else match.method,
        match_detail={} if created else {"score": match.score, **match.detail},
    )
    session.add(record)
    session.flush()
    return institution, record, created


def _find_match(session: Session, item: SourceItem):
    try:
        from catalog import matching
    except ImportError:   # cross-source matching not installed: identity-only merge
        return None
    return matching.find_match(session, item)


def _write_provenance(
    session: Session, institution: Institution, item: SourceItem, record: SourceRecord, run: ScrapeRun,
    now: datetime,
) -> set[str]:
    """Upsert this source's value of every field; returns the fields whose value from this source changed."""
    rows = {
        p.field: p
        for p in session.exec(
            select(FieldProvenance).where(
                FieldProvenance.institution_id == institution.id,
                FieldProvenance.source == item.source,
                FieldProvenance.source_key == item.source_key,
            )
        ).all()
    }
    changed: set[str] = set()
    for name in INSTITUTION_DATA_FIELDS:
        value = encode(item.fields.get(name))
        row = rows.get(name)
        if value is None:
            if row is not None:   # the source stopped giving this value: forget it, log via recompute
                session.delete(row)
                changed.add(name)
            continue
        if row is None:
            session.add(FieldProvenance(
                institution_id=institution.id, field=name, source=item.source, source_key=item.source_key,
                value=value, first_seen=now, last_seen=now, source_updated_at=item.source_updated_at,
                run_id=run.id,
            ))
            changed.add(name)
        else:
            if row.value != value:
                row.value = value
                changed.add(name)
            row.last_seen, row.run_id = now, run.id
            row.source_updated_at = item.source_updated_at
    session.flush()
    return changed


def _recompute(
    session: Session, institution: Institution, fields: set[str], source: str, run: ScrapeRun,
    now: datetime, settings: Settings, log_changes: bool = True,
) -> bool:
    """Re-choose the institution's value of `fields` from all provenance rows; log what changed."""
    if not fields:
        return False
    rows = session.exec(
        select(FieldProvenance).where(
            FieldProvenance.institution_id == institution.id, FieldProvenance.field.in_(sorted(fields))
        )
    ).all()
    best: dict[str, FieldProvenance] = {}
    for row in rows:
        current = best.get(row.field)
        key = (priority.rank(row.field, row.source), -row.last_seen.timestamp())
        if current is None or key < (priority.rank(current.field, current.source), -current.last_seen.timestamp()):
            best[row.field] = row
    any_change = False
    for name in sorted(fields):
        new = decode(name, best[name].value) if name in best else None
        if name == "status":
            new = _effective_status(session, institution, new, settings)
        if name in ("name", "type") and new is None:
            continue   # required columns keep their last value
        old = getattr(institution, name)
        if encode(old) != encode(new):
            setattr(institution, name, new if new is not None or name not in ("phones", "service_tags",
                    "target_groups", "service_area", "partners") else [])
            if log_changes:
                _log(session, institution.id, "changed", name, encode(old), encode(new), source, run, now)
            any_change = True
    if any_change:
        institution.updated_at = now
    return any_change


def _effective_status(session: Session, institution: Institution, from_sources: str | None,
                      settings: Settings) -> str:
    """A source's status, overridden by possibly-closed when every source has stopped listing it."""
    records = session.exec(select(SourceRecord).where(SourceRecord.institution_id == institution.id)).all()
    if records and all(r.missing_runs >= settings.missing_runs_threshold for r in records):
        return Status.POSSIBLY_CLOSED.value
    return from_sources or Status.ACTIVE.value


def _mark_missing(session: Session, record: SourceRecord, run: ScrapeRun, now: datetime,
                  settings: Settings) -> bool:
    """Count one more complete run without this record; returns True when the institution changed."""
    record.missing_runs += 1
    institution = session.get(Institution, record.institution_id)
    if record.missing_runs == 1:
        _log(session, institution.id, "missing", None, None, None, record.source, run, now)
    return _recompute(session, institution, {"status"}, record.source, run, now, settings)


def _log(session: Session, institution_id: int, kind: str, field_name: str | None, old: str | None,
         new: str | None, source: str | None, run: ScrapeRun, now: datetime) -> None:
    session.add(ChangeLog(
        institution_id=institution_id, kind=kind, field=field_name, old_value=old, new_value=new,
        source=source, run_id=run.id, changed_at=now,
    ))


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """The item's fields as plain JSON values (dates as ISO strings), empty values dropped."""
    return {k: json.loads(text) for k, v in fields.items() if (text := encode(v)) is not None}
