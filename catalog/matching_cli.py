"""`wsparcie explain-merge ID`, and the catalog side of `wsparcie unmerge SOURCE_RECORD_ID`: why source
records were merged into one institution (and where the sources disagree), and how to undo one such
decision. The unmerge command itself (which then re-runs the geo and index stages for the affected
institutions) is in orchestration.stages_cli."""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click
from sqlmodel import Session, select

from catalog import merge, priority
from catalog.db import session_scope, upgrade
from catalog.models import (
    INSTITUTION_DATA_FIELDS,
    ChangeLog,
    ErrorReport,
    FieldProvenance,
    Institution,
    SourceRecord,
    utcnow,
)
from catalog.settings import Settings, load

METHOD_LABELS = {
    "new": "pierwszy rekord (utworzył instytucję)",
    "identity": "ten sam identyfikator w źródle",
    "identifier": "ten sam identyfikator (NIP/KRS/REGON)",
    "name-place": "ta sama znormalizowana nazwa i miejsce",
    "fuzzy": "podobna nazwa w tym samym miejscu (dopasowanie rozmyte)",
    "unmerged": "odłączony ręcznie (unmerge)",
}
_BASIS = {"coordinates": "współrzędne", "postcode": "punkt kodu pocztowego"}
# Fields the sources are expected to word differently; a difference there is shown, but not as a conflict.
_NOT_CONFLICTS = {"type_raw", "address_raw", "phones_raw", "geo_source", "geo_precision", "source_updated_at"}


def explanation(session: Session, institution_id: int) -> dict[str, Any] | None:
    """Everything explain-merge prints, as plain data (also the --json output)."""
    inst = session.get(Institution, institution_id)
    if inst is None:
        return None
    records = session.exec(
        select(SourceRecord).where(SourceRecord.institution_id == institution_id).order_by(SourceRecord.id)
    ).all()
    provenance = session.exec(
        select(FieldProvenance).where(FieldProvenance.institution_id == institution_id, FieldProvenance.current())
    ).all()   # what the sources say now; superseded rows are history, not a disagreement
    values: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in provenance:
        values[row.field][f"{row.source}:{row.source_key}"] = json.loads(row.value) if row.value else None
    conflicts = {}
    for field_name, by_source in sorted(values.items()):
        distinct = {json.dumps(v, sort_keys=True, ensure_ascii=False) for v in by_source.values()}
        if len(distinct) > 1 and field_name not in _NOT_CONFLICTS:
            conflicts[field_name] = {"values": by_source, "chosen": merge.encode(getattr(inst, field_name))}
    return {
        "institution": {"id": inst.id, "name": inst.name, "type": inst.type},
        "records": [
            {"id": r.id, "source": r.source, "source_key": r.source_key, "method": r.match_method,
             "detail": r.match_detail or {}}
            for r in records
        ],
        "conflicts": conflicts,
    }


def format_explanation(data: dict[str, Any]) -> str:
    inst = data["institution"]
    lines = [f"Instytucja {inst['id']}: {inst['name']} (typ: {inst['type']})",
             f"Rekordy źródłowe ({len(data['records'])}):"]
    for rec in data["records"]:
        label = METHOD_LABELS.get(rec["method"] or "", rec["method"] or "brak informacji")
        lines.append(f"  #{rec['id']} {rec['source']} [{rec['source_key']}] — {label}")
        lines.extend(f"      {line}" for line in _detail_lines(rec["detail"]))
    if data["conflicts"]:
        lines.append("Pola, w których źródła się różnią (wartość instytucji wybrana wg priorytetu źródeł):")
        for field_name, conflict in data["conflicts"].items():
            lines.append(f"  {field_name}: wybrano {conflict['chosen']}")
            for source, value in conflict["values"].items():
                lines.append(f"      {source}: {json.dumps(value, ensure_ascii=False)}")
    else:
        lines.append("Źródła nie różnią się w żadnym polu.")
    return "\n".join(lines)


def _detail_lines(detail: dict[str, Any]) -> list[str]:
    out = []
    if "identifier" in detail:
        out.append(f"identyfikator {detail['identifier'].upper()}: {detail['value']}")
    if "names" in detail:
        out.append(f"nazwy: {detail['names'][0]!r} / {detail['names'][1]!r}")
    if "normalised" in detail:
        out.append(f"po normalizacji: {detail['normalised'][0]!r} / {detail['normalised'][1]!r}")
    if "distinctive" in detail:
        a, b = detail["distinctive"]
        out.append(f"słowa wyróżniające: {', '.join(a) or '—'} / {', '.join(b) or '—'} ({detail.get('rule', '')})")
    if "score" in detail:
        extra = f", próg {detail['threshold']:g}" if "threshold" in detail else ""
        full = f", cała nazwa {detail['full_score']:g}" if "full_score" in detail else ""
        out.append(f"wynik {detail['score']:g}{full}{extra}")
    if "postal_code" in detail:
        out.append(f"kod pocztowy: {detail['postal_code'][0] or '—'} / {detail['postal_code'][1] or '—'}; "
                   f"miejscowość: {detail['locality'][0] or '—'} / {detail['locality'][1] or '—'}")
    if "distance_km" in detail:
        basis = " / ".join(_BASIS.get(b, b) for b in str(detail.get("distance_basis", "")).split("/"))
        out.append(f"odległość: {detail['distance_km']:g} km ({basis}; limit {detail['limit_km']:g} km)")
    if "unmerged_from" in detail:
        out.append(f"odłączony od instytucji {detail['unmerged_from']} ({detail.get('at', '')}); wcześniej: "
                   f"{METHOD_LABELS.get(detail.get('previous_method') or '', detail.get('previous_method'))}")
    return out


def unmerge(session: Session, settings: Settings, record_id: int) -> tuple[int, int]:
    """Detach one source record into its own new institution; returns (old id, new id).

    The record's provenance moves with it, both institutions re-choose their field values, both get a
    ChangeLog entry, and the record remembers where it came from (match_detail), so the decision stays
    explainable. Later runs keep it separate: matching is only asked for records new to a source."""
    record = session.get(SourceRecord, record_id)
    if record is None:
        raise click.ClickException(f"Nie ma rekordu źródłowego #{record_id}.")
    old = session.get(Institution, record.institution_id)
    siblings = session.exec(
        select(SourceRecord).where(SourceRecord.institution_id == old.id, SourceRecord.id != record.id)
    ).all()
    if not siblings:
        raise click.ClickException(
            f"Rekord #{record_id} jest jedynym rekordem instytucji {old.id} — nie ma czego rozdzielać.")
    now = utcnow()
    new = Institution(name=record.data.get("name") or old.name, type=record.data.get("type") or old.type,
                      is_demo=old.is_demo, first_seen=record.first_seen, last_seen=record.last_seen,
                      updated_at=now)
    session.add(new)
    session.flush()
    for row in session.exec(select(FieldProvenance).where(
            FieldProvenance.institution_id == old.id, FieldProvenance.source == record.source,
            FieldProvenance.source_key == record.source_key)).all():
        row.institution_id = new.id
    record.match_detail = {"unmerged_from": old.id, "previous_method": record.match_method,
                           "previous_detail": record.match_detail, "at": now.isoformat(timespec="seconds")}
    record.match_method = "unmerged"
    record.institution_id = new.id
    session.flush()
    for inst in (old, new):
        merge.recompute(session, inst, set(INSTITUTION_DATA_FIELDS), source="operator", now=now, settings=settings)
    detail = json.dumps({"source_record": record.id, "source": record.source, "source_key": record.source_key,
                         "from_institution": old.id, "to_institution": new.id}, ensure_ascii=False)
    for inst_id in (old.id, new.id):
        session.add(ChangeLog(institution_id=inst_id, kind="unmerged", new_value=detail, source="operator",
                              changed_at=now))
    return old.id, new.id


def undo_unmerge(session: Session, settings: Settings, record_id: int) -> tuple[int, int]:
    """Put an unmerged record back into the institution it was detached from; returns (removed id, target id).

    The institution unmerge created is removed; its change log and error reports move to the target."""
    record = session.get(SourceRecord, record_id)
    if record is None:
        raise click.ClickException(f"Nie ma rekordu źródłowego #{record_id}.")
    detail = record.match_detail or {}
    if record.match_method != "unmerged" or "unmerged_from" not in detail:
        raise click.ClickException(f"Rekord #{record_id} nie był odłączany — nie ma czego cofać.")
    target = session.get(Institution, detail["unmerged_from"])
    if target is None:
        raise click.ClickException(f"Instytucja {detail['unmerged_from']} już nie istnieje.")
    current = session.get(Institution, record.institution_id)
    others = session.exec(select(SourceRecord).where(
        SourceRecord.institution_id == current.id, SourceRecord.id != record.id)).all()
    if others:
        raise click.ClickException(
            f"Instytucja {current.id} ma już inne rekordy źródłowe — odłącz je najpierw (wsparcie unmerge).")
    now = utcnow()
    # What a stage derived for the removed institution is history: the target has its own (catalog.derived).
    for row in session.exec(select(FieldProvenance).where(
            FieldProvenance.institution_id == current.id, FieldProvenance.source.in_(priority.DERIVED_SOURCES),
            FieldProvenance.current())).all():
        row.superseded_at = now
    session.flush()
    for model in (FieldProvenance, ChangeLog, ErrorReport):
        for row in session.exec(select(model).where(model.institution_id == current.id)).all():
            row.institution_id = target.id
    for child in session.exec(select(Institution).where(Institution.parent_id == current.id)).all():
        child.parent_id = target.id
    record.institution_id = target.id
    record.match_method = detail.get("previous_method")
    record.match_detail = {**(detail.get("previous_detail") or {}), "restored_at": now.isoformat(timespec="seconds")}
    session.flush()
    session.delete(current)
    session.flush()
    merge.recompute(session, target, set(INSTITUTION_DATA_FIELDS), source="operator", now=now, settings=settings)
    session.add(ChangeLog(institution_id=target.id, kind="merged", source="operator", changed_at=now,
                          new_value=json.dumps({"source_record": record.id, "undo_unmerge_of": current.id})))
    return current.id, target.id


@click.command("explain-merge")
@click.argument("institution_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Wynik jako JSON.")
def explain_merge_cmd(institution_id: int, as_json: bool) -> None:
    """Why the source records of institution ID were merged, and where the sources disagree."""
    settings = load()
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        data = explanation(session, institution_id)
    if data is None:
        raise click.ClickException(f"Nie ma instytucji {institution_id}.")
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else format_explanation(data))


commands = [explain_merge_cmd]
