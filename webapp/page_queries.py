"""Catalog reads behind the HTML pages (no rendering here, no writes except error reports)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, func, or_
from sqlmodel import Session, select

from catalog.models import ChangeLog, ErrorReport, FieldProvenance, Institution, ScrapeRun, Source
from catalog.types import TYPES, InstitutionType, Status
from index.fallback import like_escape


@dataclass
class PowiatSheet:
    groups: list[tuple[str, list[Institution]]] = field(default_factory=list)   # (type code, institutions)
    owes: list[Institution] = field(default_factory=list)
    serving_pups: list[Institution] = field(default_factory=list)            # PUPs in another powiat
    total: int = 0


def has_demo(session: Session) -> bool:
    return session.exec(select(Institution.id).where(Institution.is_demo == True).limit(1)).first() is not None


def _contains(column, text: str, *, ignore_case: bool = False):
    """column contains `text` literally: typed % and _ are letters here, not wildcards (q=% matched all)."""
    pattern = f"%{like_escape(text)}%"
    return column.ilike(pattern, escape="\\") if ignore_case else column.like(pattern, escape="\\")


def provenance(session: Session, institution_id: int) -> list[FieldProvenance]:
    stmt = (select(FieldProvenance).where(FieldProvenance.institution_id == institution_id,
                                          FieldProvenance.current())   # superseded rows are history
            .order_by(FieldProvenance.field, FieldProvenance.last_seen.desc()))
    return list(session.exec(stmt))


def _serves(inst: Institution, powiat_code: str) -> bool:
    return any(str(code).startswith(powiat_code) or str(code) == powiat_code[:2] for code in inst.service_area or [])


def referral_units(session: Session, inst: Institution) -> list[Institution]:
    """Where a person gets the referral this type needs: the OPS of the gmina, PUP and PCPR of the powiat."""
    wanted: list[Institution] = []
    if inst.gmina_id6:
        wanted += session.exec(select(Institution).where(
            Institution.gmina_id6 == inst.gmina_id6,
            Institution.type.in_([InstitutionType.OPS.value, InstitutionType.CUS.value]))).all()
    if inst.powiat_teryt:
        wanted += session.exec(select(Institution).where(
            Institution.powiat_teryt == inst.powiat_teryt,
            Institution.type.in_([InstitutionType.PUP.value, InstitutionType.PCPR.value]))).all()
    return [w for w in wanted if w.id != inst.id and w.status != Status.CLOSED.value]


def _type_order() -> dict[str, int]:
    return {code.value: n for n, code in enumerate(TYPES)}


def powiat_sheet(session: Session, code: str) -> PowiatSheet:
    """Everything an adviser lists as partners in one powiat, grouped by type in the catalog's order."""
    rows = session.exec(select(Institution).where(Institution.powiat_teryt == code)
                        .order_by(Institution.name)).all()
    grouped: dict[str, list[Institution]] = {}
    for inst in rows:
        grouped.setdefault(inst.type, []).append(inst)
    order = _type_order()
    sheet = PowiatSheet(groups=sorted(grouped.items(), key=lambda kv: order.get(kv[0], 99)), total=len(rows))
    # OWES and PUPs serve the areas listed in service_area (a JSON list): a text match narrows the rows,
    # _serves decides exactly.
    area_text = cast(Institution.service_area, String)
    for inst in session.exec(select(Institution).where(
            Institution.type.in_([InstitutionType.OWES.value, InstitutionType.PUP.value]),
            or_(area_text.like(f'%"{like_escape(code)}%', escape="\\"),
                _contains(area_text, f'"{code[:2]}"')))):
        if not _serves(inst, code):
            continue
        if inst.type == InstitutionType.OWES.value:
            sheet.owes.append(inst)
        elif inst.powiat_teryt != code:
            sheet.serving_pups.append(inst)
    return sheet


CHANGE_GROUPS = {
    "new": ("new",),
    "changed": ("changed", "status", "reappeared", "merged", "unmerged"),
    "missing": ("missing",),
}


def changes_since(session: Session, code: str, since: datetime) -> dict[str, list[tuple[Institution, list[ChangeLog]]]]:
    """Per group (new / changed / possibly closed): the institutions of the powiat and their change rows."""
    stmt = (select(ChangeLog, Institution).join(Institution, Institution.id == ChangeLog.institution_id)
            .where(Institution.powiat_teryt == code, ChangeLog.changed_at >= since)
            .order_by(ChangeLog.changed_at.desc()))
    out: dict[str, dict[int, tuple[Institution, list[ChangeLog]]]] = {k: {} for k in CHANGE_GROUPS}
    for change, inst in session.exec(stmt):
        group = next((g for g, kinds in CHANGE_GROUPS.items() if change.kind in kinds), None)
        if group:
            out[group].setdefault(inst.id, (inst, []))[1].append(change)
    # An institution new in the period is listed once, as new, not also as changed.
    for inst_id in out["new"]:
        out["changed"].pop(inst_id, None)
    return {g: list(items.values()) for g, items in out.items()}


def source_names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Source.key, Source.name)).all())


def sources_overview(session: Session) -> list[tuple[Source, ScrapeRun | None, int]]:
    """Every source with its latest run and how many catalog records it currently backs."""
    from catalog.models import SourceRecord

    counts = dict(session.exec(select(SourceRecord.source, func.count()).group_by(SourceRecord.source)).all())
    out = []
    for src in session.exec(select(Source).order_by(Source.key)):
        run = session.exec(select(ScrapeRun).where(ScrapeRun.source == src.key)
                           .order_by(ScrapeRun.started_at.desc()).limit(1)).first()
        out.append((src, run, int(counts.get(src.key, 0))))
    return out


def store_report(session: Session, institution_id: int, message: str, contact: str | None,
                 client_hash: str) -> ErrorReport:
    report = ErrorReport(institution_id=institution_id, message=message.strip(),
                         contact=(contact or "").strip() or None, client_hash=client_hash)
    session.add(report)
    return report


def current_provenance(session: Session, ids: Iterable[int], fields: Iterable[str]) -> dict[int, list[FieldProvenance]]:
    """Institution id -> the current provenance rows of these fields (who gives them now), for many at once."""
    ids = list(ids)
    if not ids:
        return {}
    rows = session.exec(select(FieldProvenance).where(
        FieldProvenance.institution_id.in_(ids), FieldProvenance.current(),
        FieldProvenance.field.in_(list(fields)))).all()
    out: dict[int, list[FieldProvenance]] = {}
    for row in rows:
        out.setdefault(row.institution_id, []).append(row)
    return out
