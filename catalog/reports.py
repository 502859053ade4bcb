"""The "Zgłoś błąd" queue: residents' reports about an institution, reviewed by an operator.

A report is open (status "new") until an operator resolves it (status "accepted", with the corrected
values written through catalog.merge as the source "user-report", key = the report's id, so the
provenance says "zgłoszenie użytkownika, zweryfikowane DATE") or rejects it (status "rejected").
Every decision is a ChangeLog entry of kind "report" (what was decided, changed and why), so no
migration is needed and the history stays with the institution's other changes.
The reporter's contact is for the operator only: nothing public ever reads it (see public_counts)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from catalog import merge
from catalog.models import ChangeLog, ErrorReport, Institution, Source, utcnow
from catalog.phones import normalise_phones
from catalog.settings import Settings

SOURCE_KEY = "user-report"
SOURCE_NAME = "zgłoszenie użytkownika, zweryfikowane"
OPEN, RESOLVED, REJECTED = "new", "accepted", "rejected"
STATUS_LABELS = {OPEN: "otwarte", RESOLVED: "rozpatrzone — poprawione", REJECTED: "odrzucone"}


class ReportError(ValueError):
    """An operator's request that cannot be applied (unknown report, already decided, bad field)."""


@dataclass
class Decision:
    report_id: int
    status: str
    changed: list[str]
    note: str
    decided_at: datetime


def _report(session: Session, report_id: int) -> ErrorReport:
    report = session.get(ErrorReport, report_id)
    if report is None:
        raise ReportError(f"no report {report_id}")
    return report


def list_reports(session: Session, status: str | None = OPEN) -> list[ErrorReport]:
    stmt = select(ErrorReport).order_by(ErrorReport.created_at, ErrorReport.id)
    if status is not None:
        stmt = stmt.where(ErrorReport.status == status)
    return list(session.exec(stmt).all())


def open_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ErrorReport).where(ErrorReport.status == OPEN)).one()


def has_open(session: Session, institution_id: int) -> bool:
    return session.exec(select(ErrorReport.id).where(ErrorReport.institution_id == institution_id,
                                                     ErrorReport.status == OPEN).limit(1)).first() is not None


def decisions(session: Session, report_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(ChangeLog).where(ChangeLog.kind == "report", ChangeLog.field == f"report:{report_id}")
                        .order_by(ChangeLog.changed_at)).all()
    return [{**json.loads(r.new_value or "{}"), "decided_at": r.changed_at} for r in rows]


def _values(changes: dict[str, str]) -> dict[str, Any]:
    """Operator input (field=text) as catalog values: phones parsed like a source's, empty text withdraws."""
    out: dict[str, Any] = {}
    for name, text in changes.items():
        text = text.strip()
        if name == "phones":
            out[name] = normalise_phones(text) or None
        else:
            out[name] = text or None
    return out


def _ensure_source(session: Session) -> None:
    if session.get(Source, SOURCE_KEY) is None:
        session.add(Source(key=SOURCE_KEY, name=SOURCE_NAME, licence="zgłoszenia mieszkańców, zweryfikowane",
                           attribution="zweryfikowane przez operatora katalogu"))


def _decide(session: Session, report: ErrorReport, status: str, changed: list[str], note: str,
            now: datetime) -> Decision:
    if report.status != OPEN:
        raise ReportError(f"report {report.id} is already {report.status}")
    report.status = status
    session.add(ChangeLog(institution_id=report.institution_id, kind="report", field=f"report:{report.id}",
                          new_value=json.dumps({"status": status, "changed": changed, "note": note},
                                               ensure_ascii=False),
                          source=SOURCE_KEY, changed_at=now))
    session.flush()
    return Decision(report.id, status, changed, note, now)


def resolve(session: Session, report_id: int, changes: dict[str, str], note: str = "", *,
            settings: Settings | None = None, now: datetime | None = None) -> Decision:
    """Accept a report, writing the corrected values (may be none: "checked, nothing to change")."""
    now = now or utcnow()
    report = _report(session, report_id)
    if report.status != OPEN:
        raise ReportError(f"report {report.id} is already {report.status}")
    institution = session.get(Institution, report.institution_id)
    if institution is None:
        raise ReportError(f"report {report_id} names no institution")
    _ensure_source(session)
    try:
        changed = merge.apply_values(session, institution, SOURCE_KEY, str(report.id), _values(changes),
                                     observed_on=now.date(), now=now, settings=settings)
    except ValueError as exc:
        raise ReportError(str(exc)) from exc
    return _decide(session, report, RESOLVED, sorted(changed), note, now)


def reject(session: Session, report_id: int, note: str, *, now: datetime | None = None) -> Decision:
    return _decide(session, _report(session, report_id), REJECTED, [], note, now or utcnow())


def to_dict(report: ErrorReport, institution_name: str | None = None, *, with_contact: bool = True) -> dict:
    """An operator's view of one report; `with_contact=False` for anything that might leave the operator."""
    out = {"id": report.id, "institution_id": report.institution_id, "institution": institution_name,
           "status": report.status, "status_label": STATUS_LABELS.get(report.status, report.status),
           "message": report.message, "created_at": report.created_at.isoformat() if report.created_at else None}
    if with_contact:
        out["contact"] = report.contact
    return out
