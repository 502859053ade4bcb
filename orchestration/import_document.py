"""`wsparcie import-document PATH --kind KIND --source KEY [--url URL] [--as-of DATE]`.

Offices move their attachments every month, so an operator often downloads a list by hand. This imports
that one file as a complete run of source KEY through the same pipeline as a live source (source lock,
one transaction, degraded-run guard, missing counting, geo and index stages): the bytes are stored as a
RawCapture (sha256, the URL, the time), every record points at it, and the document's date (or --as-of)
is the date of its facts. A later import under the same KEY is the next run of that source. A file that
cannot be read changes nothing: the run is recorded as failed and the command exits 1."""
from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

import click
from sqlmodel import select

from catalog import settings as settings_mod
from catalog.db import session_scope, upgrade
from catalog.models import ChangeLog
from catalog.settings import Settings
from orchestration import pipeline
from scrapers.documents.registers import KINDS
from scrapers.official_list import DocumentAdapter


class ImportFailed(RuntimeError):
    """The document was not imported; the message says why (Polish, for the operator)."""


def import_document(settings: Settings, path: Path, kind: str, source: str, url: str | None = None,
                    as_of: date | None = None, post_process: bool = True) -> pipeline.RunSummary:
    """Import one document as a complete run of `source`; raises ImportFailed when nothing was applied."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"nie można odczytać pliku {path}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ImportFailed(f"plik {path} jest pusty")
    url = url or path.resolve().as_uri()
    upgrade(settings.database_url)
    with pipeline.ingest_lock(settings, shared=True), pipeline.named_lock(settings, f"source-{source}") as held:
        if not held:
            raise ImportFailed(f"źródło {source} jest właśnie aktualizowane (blokada locks/source-{source}.lock)")
        summary = run_document(settings, data, path.name, kind, source, url, as_of)
        if summary.status == "failed":
            raise ImportFailed(f"{source}: nic nie zmieniono — {summary.message}")
        if post_process:
            pipeline.later_stages(settings, sorted(summary.touched_ids), [summary])
    return summary


def run_document(settings: Settings, data: bytes, filename: str, kind: str, source: str, url: str,
                 as_of: date | None = None) -> pipeline.RunSummary:
    """The merge part only (the caller holds the locks and runs the later stages)."""
    with tempfile.TemporaryDirectory(prefix="wsparcie-document-") as tmp:
        adapter = DocumentAdapter(source, data, filename, kind, url, Path(tmp), as_of=as_of)
        return pipeline.run_adapter(settings, adapter)


def changed_fields(settings: Settings, run_id: int | None) -> Counter[str]:
    """Field name -> number of institutions whose value changed in that run (from the change log)."""
    with session_scope(settings.database_url) as session:
        rows = session.exec(select(ChangeLog.kind, ChangeLog.field).where(ChangeLog.run_id == run_id)).all()
    return Counter(field or kind for kind, field in rows)


def describe(settings: Settings, summary: pipeline.RunSummary) -> str:
    lines = [(f"{summary.source}: {summary.status} — w dokumencie {summary.n_in}, nowych {summary.n_new}, "
             f"zmienionych {summary.n_changed}, bez zmian {summary.n_unchanged}, "
             f"nieobecnych (brakujących) {summary.n_missing}")]
    changes = changed_fields(settings, summary.run_id)
    if changes:
        lines.append("zmiany w dzienniku: " + ", ".join(f"{name} {n}" for name, n in sorted(changes.items())))
    if summary.message:
        lines.append(summary.message)
    return "\n".join(lines)


@click.command("import-document")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What the document lists (mixed: each row by its name).")
@click.option("--source", "source", required=True, help="Source key, e.g. dps-04: a later import under it is its next run.")
@click.option("--url", default=None, help="Where the file was published (provenance); default: the local file.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date of the data (YYYY-MM-DD); overrides the date printed in the document.")
def import_document_cmd(path: Path, kind: str, source: str, url: str | None, as_of) -> None:
    """Import one official document as a complete run of source KEY."""
    settings = settings_mod.load()
    try:
        summary = import_document(settings, path, kind, source, url, as_of.date() if as_of else None)
    except (ImportFailed, pipeline.IngestLocked) as exc:
        click.echo(f"Błąd: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(describe(settings, summary))
    if not summary.ok:
        raise SystemExit(1)


commands = [import_document_cmd]
