"""`wsparcie export`, `wsparcie init-db`, and the source status report (`wsparcie status` is assembled in
orchestration.stages_cli, which adds the geo and coverage parts)."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import click
from sqlmodel import select

from catalog import settings as settings_mod
from catalog.db import session_scope, upgrade
from catalog.models import Institution, ScrapeRun, Source
from catalog.spreadsheet import safe_mapping, xlsx_bytes

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


def export_rows(session, modified_after: datetime | None = None) -> Iterator[dict[str, Any]]:
    query = select(Institution).order_by(Institution.id)
    if modified_after is not None:
        query = query.where(Institution.updated_at > modified_after)
    for inst in session.exec(query.execution_options(yield_per=500)):
        yield {name: _plain(getattr(inst, name)) for name in EXPORT_FIELDS}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "xlsx"]), default="jsonl", show_default=True,
              help="xlsx opens as columns in any Excel locale (needs --output).")
@click.option("--output", "-o", type=click.Path(allow_dash=True), default="-", help="File (default: stdout).")
@click.option("--modified-after", type=click.DateTime(), default=None, help="Only records changed after this.")
def export_cmd(fmt: str, output: str, modified_after: datetime | None) -> None:
    """All institutions, one record per line, every field (JSON keys in English)."""
    if fmt == "xlsx" and output == "-":
        raise click.UsageError("--format xlsx writes a binary workbook: give --output FILE.xlsx")
    settings = settings_mod.load()
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        rows = export_rows(session, modified_after)
        if fmt == "xlsx":
            cells = ([_cell_text(row[k]) for k in EXPORT_FIELDS] for row in rows)
            with open(output, "wb") as fh:
                fh.write(xlsx_bytes(list(EXPORT_FIELDS), cells, "instytucje"))
            return
        with click.open_file(output, "w", encoding="utf-8") as out:
            if fmt == "jsonl":
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                return
            writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            for row in rows:
                # Scraped text must stay text when the file is opened in a spreadsheet.
                writer.writerow(safe_mapping({k: _cell_text(v) for k, v in row.items()}))


def _cell_text(value: Any) -> Any:
    """Lists and objects (phones, partners…) as JSON text in one cell."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


commands = [init_db_cmd, export_cmd]
