"""`wsparcie status`, `wsparcie export`, `wsparcie init-db`."""
from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import click
from sqlmodel import func, select

from catalog import settings as settings_mod
from catalog.db import session_scope, upgrade
from catalog.models import Institution, ScrapeRun, Source
from catalog.spreadsheet import safe_mapping

EXPORT_FIELDS = tuple(Institution.model_fields)


@click.command("init-db")
def init_db_cmd() -> None:
    """Create or upgrade the database schema (Alembic); existing data are kept."""
    settings = settings_mod.load()
    upgrade(settings.database_url)
    click.echo(f"database at head: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    """The URL without a password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def source_status(session) -> list[dict[str, Any]]:
    """Last run per source with its counts and errors (also used by the health page)."""
    out = []
    for source in session.exec(select(Source).order_by(Source.key)).all():
        run = session.get(ScrapeRun, source.last_run_id) if source.last_run_id else None
        out.append({
            "source": source.key, "name": source.name,
            "last_success_at": _iso(source.last_success_at), "data_date": _iso(source.last_data_date),
            "last_run": None if run is None else {
                "id": run.id, "status": run.status, "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at), "complete": run.complete, "in": run.n_in,
                "new": run.n_new, "changed": run.n_changed, "unchanged": run.n_unchanged,
                "missing": run.n_missing, "errors": run.n_errors, "message": run.message,
                "error_samples": run.errors[:5],
            },
        })
    return out


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--geo", is_flag=True, help="Geocoding quality: precision counts, missing TERYT, disagreements.")
@click.option("--coverage", is_flag=True, help="Counts per type and województwo against national figures.")
def status_cmd(as_json: bool, geo: bool, coverage: bool) -> None:
    """Last run per source, counts and errors. Exits 1 when the last run of any source failed."""
    settings = settings_mod.load()
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        report: dict[str, Any] = {"sources": source_status(session)}
        for src in report["sources"]:   # why a run was degraded, and what the cleaning cut (catalog.clean)
            if src["last_run"] is not None:
                run = session.get(ScrapeRun, src["last_run"]["id"])
                src["last_run"].update(degraded=list(run.degraded or []), notes=len(run.notes or []),
                                       note_samples=list(run.notes or [])[:5])
        report["institutions"] = session.exec(select(func.count()).select_from(Institution)).one()
        report["demo_institutions"] = session.exec(
            select(func.count()).select_from(Institution).where(Institution.is_demo == True)
        ).one()
        if geo:
            from geo import quality

            report["geo"] = quality.report(session)
        if coverage:
            from catalog import coverage as coverage_mod

            report["coverage"] = coverage_mod.report(session)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        _print_status(report)
        if geo:
            from geo import quality

            click.echo(quality.format_report(report["geo"]))
        if coverage:
            from catalog import coverage as coverage_mod

            click.echo(coverage_mod.format_report(report["coverage"]))
    failed = [s for s in report["sources"] if s["last_run"] and s["last_run"]["status"] != "ok"]
    sys.exit(1 if failed else 0)


def _print_status(report: dict[str, Any]) -> None:
    click.echo(f"institutions: {report['institutions']} (demo placeholders: {report['demo_institutions']})")
    if not report["sources"]:
        click.echo("no source has run yet: `wsparcie ingest` or `wsparcie load-demo`")
    for s in report["sources"]:
        run = s["last_run"]
        if run is None:
            click.echo(f"{s['source']:<14} never run")
            continue
        click.echo(
            f"{s['source']:<14} {run['status']:<11} run #{run['id']} {run['started_at'][:19]}  "
            f"in={run['in']} new={run['new']} changed={run['changed']} unchanged={run['unchanged']} "
            f"missing={run['missing']} errors={run['errors']}  last success: {s['last_success_at'] or '—'}"
            f"  data date: {s['data_date'] or '—'}"
        )
        if run["message"]:
            click.echo(f"{'':<14} {run['message']}")
        for err in run["error_samples"]:
            click.echo(f"{'':<14} {err.get('where', '?')}: {err.get('message', '')}")
        if run.get("notes"):
            click.echo(f"{'':<14} {run['notes']} cleaning note(s), e.g. "
                       + "; ".join(f"{n.get('where', '?')}: {n.get('message', '')}" for n in run["note_samples"][:3]))


def export_rows(session, modified_after: datetime | None = None) -> Iterator[dict[str, Any]]:
    query = select(Institution).order_by(Institution.id)
    if modified_after is not None:
        query = query.where(Institution.updated_at > modified_after)
    for inst in session.exec(query.execution_options(yield_per=500)):
        yield {name: _plain(getattr(inst, name)) for name in EXPORT_FIELDS}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.Path(allow_dash=True), default="-", help="File (default: stdout).")
@click.option("--modified-after", type=click.DateTime(), default=None, help="Only records changed after this.")
def export_cmd(fmt: str, output: str, modified_after: datetime | None) -> None:
    """All institutions, one record per line, every field (JSON keys in English)."""
    settings = settings_mod.load()
    upgrade(settings.database_url)
    out = click.open_file(output, "w", encoding="utf-8")
    with session_scope(settings.database_url) as session, out:
        rows = export_rows(session, modified_after)
        if fmt == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            for row in rows:
                # Scraped text must stay text when the file is opened in a spreadsheet.
                writer.writerow(safe_mapping({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict))
                                              else v for k, v in row.items()}))


commands = [init_db_cmd, status_cmd, export_cmd]
