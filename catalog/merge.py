"""The only writer of institutions: applies one source's FetchResult to the catalog.

* upsert by source identity (SourceRecord: source + source_key), cross-source match for new keys;
* every textual value is cleaned once on the way in (catalog.clean); what was cut is noted on the run;
* per-field provenance (FieldProvenance) for every value a source gives, with first/last seen; a value
  the source stops giving or replaces is superseded (kept as history), never deleted;
* the Institution's value of each field is chosen among all sources by catalog.priority;
* every change of an Institution field is written to ChangeLog;
* after a complete listing, records the source no longer lists are counted missing, never deleted;
  after N consecutive complete runs without them (settings.missing_runs_threshold) the institution is
  marked possibly-closed, unless another source still lists it;
* degraded-run guard: when one field vanishes at once from far more of the units a source lists again
  than real change explains (see degraded_fields), those removals are withheld for the run, which is
  marked degraded (MergeStats.degraded, ScrapeRun.degraded); everything else in the run still applies.

The caller owns the transaction: a failed run is rolled back as a whole (see orchestration.pipeline)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, select

from catalog import clean, matching, priority
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
from catalog.normalise import normalise_item
from catalog.records import FetchResult, SourceItem
from catalog.settings import Settings, load
from catalog.types import Status

log = logging.getLogger(__name__)

DATE_FIELDS = {"valid_from", "valid_until", "decision_date", "source_updated_at", "places_as_of"}
_EMPTY = (None, "", [], {})


@dataclass
class MergeStats:
    n_in: int = 0
    n_new: int = 0
    n_changed: int = 0
    n_unchanged: int = 0
    n_missing: int = 0
    touched_ids: set[int] = field(default_factory=set)   # institutions whose fields changed (for enrich/index)
    # Fields whose mass removal was withheld: [{"field", "before", "gone", "share"}] (see degraded_fields)
    degraded: list[dict[str, Any]] = field(default_factory=list)


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
    ctx = _Context(session, meta.key, run, utcnow(), settings)
    stats = MergeStats(n_in=len(result.items))
    source = ensure_source(session, meta)
    items = _unique_clean_items(result.items, run)
    stats.degraded = degraded_fields(ctx, items)
    if stats.degraded:
        items = _withhold_removals(ctx, items, {d["field"] for d in stats.degraded})
        run.degraded, run.message = stats.degraded, describe_degraded(stats.degraded)
        log.warning("source %s: %s", meta.key, run.message)
    new_items: list[SourceItem] = []
    for item in items:
        record = ctx.known.get(item.source_key)
        if record is None:
            new_items.append(item)
            continue
        outcome = _apply_known(ctx, item, record)
        _count(stats, outcome, record.institution_id)
    for outcome, institution_id in _apply_new(ctx, new_items):
        _count(stats, outcome, institution_id)
    ctx.bump_last_seen({i.source_key for i in items}, {i.source_key: i.keep_fields for i in items if i.keep_fields})
    _link_parents(ctx, items, stats)
    if result.complete:
        for key, record in ctx.known.items():
            if key not in result.listed_keys:
                stats.n_missing += 1
                if _mark_missing(session, record, run, ctx.now, settings):
                    stats.touched_ids.add(record.institution_id)
    newest = max((i.source_updated_at for i in items if i.source_updated_at), default=None)
    if newest and (source.last_data_date is None or newest > source.last_data_date):
        source.last_data_date = newest
    session.flush()
    return stats


def _unique_clean_items(items: list[SourceItem], run: ScrapeRun) -> list[SourceItem]:
    """First occurrence of each key (a listing may repeat a unit), cleaned (catalog.clean) and normalised
    (catalog.normalise); the cleaning notes go to the run."""
    seen: set[str] = set()
    out: list[SourceItem] = []
    notes: list[dict[str, str]] = []
    for item in items:
        if item.source_key in seen:
            continue
        seen.add(item.source_key)
        cleaned, item_notes = clean.clean_item(item)
        out.append(normalise_item(cleaned))   # phones and address parts parsed once, here (catalog.normalise)
        notes += item_notes
    if notes:
        run.notes = _capped_notes([*(run.notes or []), *notes])
    return out


MAX_RUN_NOTES = 200   # a register-wide quirk (every name with a soft hyphen) must not bloat the run row


def _capped_notes(notes: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(notes) <= MAX_RUN_NOTES:
        return notes
    more = len(notes) - MAX_RUN_NOTES + 1
    return [*notes[:MAX_RUN_NOTES - 1], {"where": "run", "message": f"... and {more} more cleaning notes"}]


def degraded_fields(ctx: _Context, items: list[SourceItem]) -> list[dict[str, Any]]:
    """Fields whose disappearance in this run is not believable as real change.

    Rule: among the units this run lists again (known before, observed now), take those for which this
    source currently gives field F ("before"); if there are at least settings.degraded_min_units of them
    and F is gone from more than settings.degraded_share of them ("gone"), the run is degraded for F.
    Offices do drop a fax or change an e-mail, one at a time; a third of a register losing its e-mails
    in one night is a broken page or parser. DEGRADED_SHARE=1 turns the guard off (an operator accepting
    a genuine mass removal)."""
    before: dict[str, int] = {}
    gone: dict[str, int] = {}
    for item in items:
        if item.source_key not in ctx.known:
            continue
        for name in ctx.provenance.get(item.source_key, {}):
            if name in item.keep_fields:
                continue
            before[name] = before.get(name, 0) + 1
            if encode(item.fields.get(name)) is None:
                gone[name] = gone.get(name, 0) + 1
    limit_units, share = ctx.settings.degraded_min_units, ctx.settings.degraded_share
    return [
        {"field": name, "before": n, "gone": gone[name], "share": round(gone[name] / n, 3)}
        for name, n in sorted(before.items())
        if n >= limit_units and gone.get(name, 0) > share * n
    ]


def describe_degraded(degraded: list[dict[str, Any]]) -> str:
    """One line for logs, `wsparcie status` and the run's message."""
    parts = ", ".join(f"{d['field']} ({d['gone']}/{d['before']} units)" for d in degraded)
    return f"degraded source: removals withheld, previous values kept for {parts}"


def _withhold_removals(ctx: _Context, items: list[SourceItem], fields: set[str]) -> list[SourceItem]:
    """Degraded fields an item no longer gives are treated as not observed: the previous value and its
    provenance stay, their last_seen is not bumped. Items that still give a value apply it normally."""
    out = []
    for item in items:
        rows = ctx.provenance.get(item.source_key, {})
        withheld = {f for f in fields if f in rows and encode(item.fields.get(f)) is None}
        out.append(replace(item, keep_fields=item.keep_fields | withheld) if withheld else item)
    return out


def _link_parents(ctx: _Context, items: list[SourceItem], stats: MergeStats) -> None:
    """Branches (e.g. a PUP's filie) name their seat by its key in the same source; link parent_id."""
    wanted = {i.source_key: key for i in items if (key := i.fields.get("parent_source_key"))}
    if not wanted:
        return
    ctx.session.flush()
    keys = sorted(set(wanted) | set(wanted.values()))
    ids: dict[str, int] = {}
    for chunk in _chunks(keys, 500):
        ids.update(ctx.session.exec(select(SourceRecord.source_key, SourceRecord.institution_id).where(
            SourceRecord.source == ctx.source, SourceRecord.source_key.in_(chunk))).all())
    for child_key, parent_key in wanted.items():
        child = ctx.session.get(Institution, ids.get(child_key))
        parent_id = ids.get(parent_key)
        if child is not None and parent_id is not None and child.parent_id != parent_id and parent_id != child.id:
            _log(ctx.session, child.id, "changed", "parent_id", encode(child.parent_id), encode(parent_id),
                 ctx.source, ctx.run, ctx.now)
            child.parent_id, child.updated_at = parent_id, ctx.now
            stats.touched_ids.add(child.id)


def _count(stats: MergeStats, outcome: str, institution_id: int) -> None:
    setattr(stats, f"n_{outcome}", getattr(stats, f"n_{outcome}") + 1)
    if outcome != "unchanged":
        stats.touched_ids.add(institution_id)


class _Context:
    """State of one merge, prefetched per source so the common (unchanged) record costs no query."""

    def __init__(self, session: Session, source: str, run: ScrapeRun, now: datetime, settings: Settings):
        self.session, self.source, self.run, self.now, self.settings = session, source, run, now, settings
        self.known = {
            sr.source_key: sr
            for sr in session.exec(select(SourceRecord).where(SourceRecord.source == source)).all()
        }
        ids = sorted({sr.institution_id for sr in self.known.values()})
        # Load this source's institutions into the identity map: session.get() then needs no SQL.
        for chunk in _chunks(ids, 500):
            session.exec(select(Institution).where(Institution.id.in_(chunk))).all()
        # What this source says now: superseded rows are history.
        self.provenance: dict[str, dict[str, FieldProvenance]] = {}
        for row in session.exec(select(FieldProvenance).where(
                FieldProvenance.source == source, FieldProvenance.current())).all():
            self.provenance.setdefault(row.source_key, {})[row.field] = row

    def bump_last_seen(self, keys: set[str], kept: dict[str, frozenset[str]] | None = None) -> None:
        """One UPDATE per chunk instead of one per field: every value seen in this run was seen now.
        `kept` (source_key -> keep_fields) names values that were not observed: their last_seen stays."""
        self.session.flush()
        groups: dict[frozenset[str], list[str]] = {}
        for key in sorted(keys):
            groups.setdefault((kept or {}).get(key, frozenset()), []).append(key)
        for not_observed, group in groups.items():
            for chunk in _chunks(group, 500):
                where = [FieldProvenance.source == self.source, FieldProvenance.source_key.in_(chunk),
                         FieldProvenance.current()]
                if not_observed:
                    where.append(FieldProvenance.field.not_in(sorted(not_observed)))
                self.session.execute(
                    update(FieldProvenance).where(*where)
                    .values(last_seen=self.now, run_id=self.run.id)
                    .execution_options(synchronize_session=False)
                )


def _chunks(values: list, size: int):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _apply_known(ctx: _Context, item: SourceItem, record: SourceRecord) -> str:
    session = ctx.session
    institution = session.get(Institution, record.institution_id)
    reappeared = record.missing_runs > 0
    record.missing_runs = 0
    record.last_seen, record.last_run_id = ctx.now, ctx.run.id
    data = _jsonable(item.fields)
    # Values not observed this run stay in the record as they were (see SourceItem.keep_fields).
    data.update({k: v for k, v in (record.data or {}).items() if k in item.keep_fields and k not in data})
    if record.data != data:
        record.data = data
    if record.raw != item.raw:
        record.raw = item.raw
    record.capture_id = item.capture_id or record.capture_id
    record.source_updated_at = item.source_updated_at
    changed = _write_provenance(ctx, institution, item)
    if reappeared:
        _log(session, institution.id, "reappeared", None, None, None, item.source, ctx.run, ctx.now)
    institution.last_seen = ctx.now
    value_changed = _recompute(session, institution, changed | ({"status"} if reappeared else set()),
                               item.source, ctx.run, ctx.now, ctx.settings)
    return "changed" if value_changed or reappeared else "unchanged"


def _apply_new(ctx: _Context, items: list[SourceItem]) -> list[tuple[str, int]]:
    """Records new to this source: attach to a matching institution or create one (bulk inserts)."""
    session, now, run = ctx.session, ctx.now, ctx.run
    outcomes: list[tuple[str, int]] = []
    created: list[tuple[SourceItem, Institution]] = []
    # Match every item before creating any institution, so candidates are only pre-existing ones; skip
    # matching altogether when no other real source has records yet (e.g. a first RJPS ingest).
    others = session.exec(select(SourceRecord.id).where(
        SourceRecord.source.not_in([ctx.source, "demo"])).limit(1)).first() is not None
    matcher = matching.Matcher(session) if others else None   # blocking keys read once for the run
    matches = [matcher.find(item) if matcher else None for item in items]
    for item, match in zip(items, matches, strict=True):
        if match is None:
            values = {name: decode(name, text) for name in INSTITUTION_DATA_FIELDS
                      if (text := encode(item.fields.get(name))) is not None}
            values.setdefault("name", item.source_key)
            values.setdefault("type", "other")
            institution = Institution(is_demo=item.source == "demo", first_seen=now, last_seen=now,
                                      updated_at=now, **values)
            session.add(institution)
            created.append((item, institution))
        else:
            outcomes.append(("changed", _attach_to_match(ctx, item, match)))
    session.flush()   # assigns ids to every created institution at once
    records, provenance, logs = [], [], []
    for item, institution in created:
        records.append(_record_row(item, institution.id, "new", {}, run, now))
        provenance.extend(_provenance_rows(item, institution.id, run, now))
        logs.append({"institution_id": institution.id, "kind": "new", "new_value": institution.name,
                     "source": item.source, "run_id": run.id, "changed_at": now})
        outcomes.append(("new", institution.id))
    for table, rows in ((SourceRecord, records), (FieldProvenance, provenance), (ChangeLog, logs)):
        for chunk in _chunks(rows, 1000):
            session.execute(insert(table), chunk)
    return outcomes


def _attach_to_match(ctx: _Context, item: SourceItem, match) -> int:
    session = ctx.session
    institution = session.get(Institution, match.institution_id)
    institution.last_seen = ctx.now
    _log(session, institution.id, "merged", None, None,
         json.dumps({"source": item.source, "key": item.source_key, "method": match.method}),
         item.source, ctx.run, ctx.now)
    detail = {"score": match.score, **match.detail}
    session.execute(insert(SourceRecord), [_record_row(item, institution.id, match.method, detail, ctx.run, ctx.now)])
    session.execute(insert(FieldProvenance), _provenance_rows(item, institution.id, ctx.run, ctx.now))
    fields = {name for name in INSTITUTION_DATA_FIELDS if encode(item.fields.get(name)) is not None}
    _recompute(session, institution, fields, item.source, ctx.run, ctx.now, ctx.settings)
    return institution.id


def _record_row(item: SourceItem, institution_id: int, method: str, detail: dict, run: ScrapeRun,
                now: datetime) -> dict[str, Any]:
    return {
        "source": item.source, "source_key": item.source_key, "institution_id": institution_id,
        "data": _jsonable(item.fields), "raw": item.raw, "capture_id": item.capture_id,
        "source_updated_at": item.source_updated_at, "first_seen": now, "last_seen": now,
        "last_run_id": run.id, "missing_runs": 0, "match_method": method, "match_detail": detail,
    }


def _provenance_rows(item: SourceItem, institution_id: int, run: ScrapeRun, now: datetime) -> list[dict]:
    return [
        {"institution_id": institution_id, "field": name, "source": item.source, "source_key": item.source_key,
         "value": value, "first_seen": now, "last_seen": now, "source_updated_at": item.source_updated_at,
         "run_id": run.id}
        for name in INSTITUTION_DATA_FIELDS if (value := encode(item.fields.get(name))) is not None
    ]


def _write_provenance(ctx: _Context, institution: Institution, item: SourceItem) -> set[str]:
    """Write this source's value of every field; returns the fields whose value from this source changed.
    A removed or replaced value is superseded, not deleted (history); last_seen of unchanged values is
    bumped in bulk by _Context.bump_last_seen."""
    rows = ctx.provenance.setdefault(item.source_key, {})
    changed: dict[str, str | None] = {}
    for name in INSTITUTION_DATA_FIELDS:
        if name in item.keep_fields:   # not observed this run: keep the previous value and its last_seen
            continue
        value = encode(item.fields.get(name))
        row = rows.get(name)
        if row is None and value is None:
            continue
        if row is not None and priority.keeps_newer(name, row.source_updated_at, item.source_updated_at):
            continue   # an older document imported later keeps this source's newer places
        if row is not None and row.value == value:
            if row.source_updated_at != item.source_updated_at:
                row.source_updated_at = item.source_updated_at
            continue
        if row is not None:   # the source stopped giving this value or gives another: it becomes history
            row.superseded_at, row.superseded_run_id = ctx.now, ctx.run.id
            del rows[name]
        changed[name] = value
    if not changed:
        return set()
    ctx.session.flush()   # the current-row unique index must see the old rows ended before the new ones
    for name, value in changed.items():
        if value is not None:
            rows[name] = FieldProvenance(
                institution_id=institution.id, field=name, source=item.source, source_key=item.source_key,
                value=value, first_seen=ctx.now, last_seen=ctx.now, source_updated_at=item.source_updated_at,
                run_id=ctx.run.id,
            )
            ctx.session.add(rows[name])
    ctx.session.flush()
    return set(changed)


def recompute(
    session: Session, institution: Institution, fields: set[str], *, source: str | None = None,
    run: ScrapeRun | None = None, now: datetime | None = None, settings: Settings | None = None,
) -> bool:
    """Re-choose the institution's value of each of `fields` among all its provenance rows (catalog.priority)
    and write a ChangeLog entry per changed field; returns True when any value changed.

    For callers outside a source run, e.g. an operator's unmerge after moving provenance rows: `source`
    labels the change log entries ("operator"), `run` is the ScrapeRun they belong to (None: none),
    `now` defaults to the current UTC time and `settings` (the missing-runs threshold) to load().
    The caller owns the transaction."""
    return _recompute(session, institution, fields, source, run, now or utcnow(), settings or load())


def _recompute(
    session: Session, institution: Institution, fields: set[str], source: str | None, run: ScrapeRun | None,
    now: datetime, settings: Settings, log_changes: bool = True,
) -> bool:
    """Re-choose the institution's value of `fields` from all provenance rows; log what changed."""
    if not fields:
        return False
    rows = session.exec(
        select(FieldProvenance).where(
            FieldProvenance.institution_id == institution.id, FieldProvenance.field.in_(sorted(fields)),
            FieldProvenance.current(),
        )
    ).all()
    best = priority.choose(rows)   # places trio: newest observation wins the three together
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
                    "target_groups", "service_area", "partners", "home_types") else [])
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
         new: str | None, source: str | None, run: ScrapeRun | None, now: datetime) -> None:
    session.add(ChangeLog(
        institution_id=institution_id, kind=kind, field=field_name, old_value=old, new_value=new,
        source=source, run_id=run.id if run is not None else None, changed_at=now,
    ))


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """The item's fields as plain JSON values (dates as ISO strings), empty values dropped."""
    return {k: json.loads(text) for k, v in fields.items() if (text := encode(v)) is not None}


def apply_values(
    session: Session, institution: Institution, source: str, source_key: str, values: dict[str, Any], *,
    observed_on: date, now: datetime | None = None, settings: Settings | None = None,
) -> set[str]:
    """One non-register source's values for some fields of one known institution (a verified user report:
    source "user-report", key the report's id). Values are cleaned like any source's, written as that
    source's provenance (a previous value of the same key is superseded, never deleted) and the institution's
    fields re-chosen by catalog.priority, logged in ChangeLog. Returns the fields whose value changed.
    A None value withdraws this key's value for the field. The caller owns the transaction."""
    now = now or utcnow()
    changed: set[str] = set()
    for name, raw in values.items():
        if name not in INSTITUTION_DATA_FIELDS or name in ("name", "type"):
            raise ValueError(f"not a correctable field: {name}")
        value, _notes = clean.clean_value(raw, name) if raw is not None else (None, [])
        text = encode(value)
        row = session.exec(select(FieldProvenance).where(
            FieldProvenance.institution_id == institution.id, FieldProvenance.field == name,
            FieldProvenance.source == source, FieldProvenance.source_key == source_key,
            FieldProvenance.current())).first()
        if row is not None and row.value == text:
            continue
        if row is not None:
            row.superseded_at = now
            session.flush()   # the current-row unique index must see the old row ended first
        if text is not None:
            session.add(FieldProvenance(institution_id=institution.id, field=name, source=source,
                                        source_key=source_key, value=text, first_seen=now, last_seen=now,
                                        source_updated_at=observed_on))
        changed.add(name)
    session.flush()
    _recompute(session, institution, changed, source, None, now, settings or load())
    return changed
