"""`wsparcie reports list|show|resolve|reject`: the operator's queue of "Zgłoś błąd" reports."""
from __future__ import annotations

import json

import click
from sqlmodel import select

from catalog import reports
from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import Institution


def _settings():
    return settings_mod.load()


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _line(d: dict) -> str:
    # Reporters' text is untrusted: one line, printable only, so it cannot forge the terminal's layout.
    message = " ".join(str(d["message"]).split())[:120]
    return f"#{d['id']}  {d['created_at'][:16]}  [{d['status_label']}]  {d['institution']!s:.60}  — {message}"


@click.group("reports")
def reports_group() -> None:
    """Kolejka zgłoszeń „Zgłoś błąd” (operator). / The operator's queue of error reports."""


@reports_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Także rozpatrzone i odrzucone.")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(show_all: bool, as_json: bool) -> None:
    """Otwarte zgłoszenia (najstarsze najpierw)."""
    with session_scope(_settings().database_url) as session:
        rows = reports.list_reports(session, None if show_all else reports.OPEN)
        wanted = {r.institution_id for r in rows}
        names = dict(session.exec(select(Institution.id, Institution.name)
                                  .where(Institution.id.in_(wanted))).all()) if rows else {}
        items = [reports.to_dict(r, names.get(r.institution_id)) for r in rows]
    if as_json:
        _echo_json(items)
        return
    for item in items:
        click.echo(_line(item))
    click.echo(f"{len(items)} zgłoszeń")


@reports_group.command("show")
@click.argument("report_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def show_cmd(report_id: int, as_json: bool) -> None:
    """Jedno zgłoszenie z kontaktem zgłaszającego i decyzjami."""
    with session_scope(_settings().database_url) as session:
        report = session.get(reports.ErrorReport, report_id)
        if report is None:
            raise click.ClickException(f"nie ma zgłoszenia {report_id}")
        inst = session.get(Institution, report.institution_id) if report.institution_id else None
        item = {**reports.to_dict(report, inst.name if inst else None),
                "decisions": reports.decisions(session, report_id)}
    if as_json:
        _echo_json(item)
        return
    click.echo(_line(item))
    click.echo(f"kontakt: {item['contact'] or '—'}")
    click.echo(item["message"])
    for d in item["decisions"]:
        click.echo(f"decyzja {d['decided_at']}: {d['status']} {', '.join(d['changed'])} {d['note']}")


def _decision_out(decision: reports.Decision, as_json: bool) -> None:
    out = {"id": decision.report_id, "status": decision.status, "changed": decision.changed,
           "note": decision.note, "decided_at": decision.decided_at.isoformat()}
    if as_json:
        _echo_json(out)
    else:
        changed = ", ".join(decision.changed) or "bez zmian w danych"
        click.echo(f"zgłoszenie #{decision.report_id}: {reports.STATUS_LABELS[decision.status]} ({changed})")


@reports_group.command("resolve")
@click.argument("report_id", type=int)
@click.option("--set", "sets", multiple=True, metavar="POLE=WARTOŚĆ",
              help="Poprawiona wartość pola, np. --set email=gops@gmina.pl --set phones='85 123 45 67'.")
@click.option("--note", default="", help="Co sprawdzono (widzi tylko operator).")
@click.option("--json", "as_json", is_flag=True)
def resolve_cmd(report_id: int, sets: tuple[str, ...], note: str, as_json: bool) -> None:
    """Przyjmij zgłoszenie i zapisz poprawki jako źródło „zgłoszenie użytkownika”."""
    changes = {}
    for item in sets:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"oczekiwano POLE=WARTOŚĆ, jest {item!r}", param_hint="--set")
        changes[name.strip()] = value
    settings = _settings()
    with session_scope(settings.database_url) as session:
        try:
            decision = reports.resolve(session, report_id, changes, note, settings=settings)
        except reports.ReportError as exc:
            raise click.ClickException(str(exc)) from exc
    _decision_out(decision, as_json)


@reports_group.command("reject")
@click.argument("report_id", type=int)
@click.option("--note", required=True, help="Dlaczego odrzucono.")
@click.option("--json", "as_json", is_flag=True)
def reject_cmd(report_id: int, note: str, as_json: bool) -> None:
    """Odrzuć zgłoszenie (dane się nie zmieniają)."""
    with session_scope(_settings().database_url) as session:
        try:
            decision = reports.reject(session, report_id, note)
        except reports.ReportError as exc:
            raise click.ClickException(str(exc)) from exc
    _decision_out(decision, as_json)


commands = [reports_group]
