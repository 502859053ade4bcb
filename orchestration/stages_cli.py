"""Commands that cross the stages: `wsparcie status` (sources, plus `--geo` quality, `--coverage` and the
searches that found nothing, `--zero-results`) and `wsparcie unmerge` (the catalog change, then the geo and
index stages for the affected institutions, so TERYT and search agree with the catalog)."""
from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlmodel import func, select

from catalog import settings as settings_mod
from catalog import zero_results
from catalog.cli import source_status
from catalog.db import session_scope, upgrade
from catalog.matching_cli import undo_unmerge, unmerge
from catalog.models import Institution, ScrapeRun
from catalog.settings import Settings
from geo import coverage as coverage_mod
from geo import quality
from orchestration.pipeline import RunSummary, later_stages


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--geo", is_flag=True, help="Geocoding quality: precision counts, missing TERYT, disagreements.")
@click.option("--coverage", is_flag=True, help="Counts per type and województwo against national figures.")
@click.option("--zero-results", "zero_results_flag", is_flag=True,
              help="Searches residents made that found nothing (query, place, need; most frequent first).")
@click.option("--limit", type=click.IntRange(min=0), default=zero_results.DEFAULT_LIMIT, show_default=True,
              help="At most this many zero-result searches (with --zero-results).")
def status_cmd(as_json: bool, geo: bool, coverage: bool, zero_results_flag: bool, limit: int) -> None:
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
            report["geo"] = quality.report(session)
        if coverage:
            report["coverage"] = coverage_mod.report(session)
        if zero_results_flag:
            report["zero_results"] = {**zero_results.total(session), "limit": limit,
                                      "queries": zero_results.listing(session, limit)}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        _print_status(report)
        if geo:
            click.echo(quality.format_report(report["geo"]))
        if coverage:
            click.echo(coverage_mod.format_report(report["coverage"]))
        if zero_results_flag:
            zr = report["zero_results"]
            click.echo(f"zero-result searches: {zr['distinct']} distinct, {zr['searches']} in all "
                       f"(showing at most {limit})")
            click.echo(zero_results.format_table(zr["queries"]))
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



@click.command("unmerge")
@click.argument("source_record_id", type=int)
@click.option("--undo", is_flag=True, help="Cofnij wcześniejsze odłączenie tego rekordu.")
def unmerge_cmd(source_record_id: int, undo: bool) -> None:
    """Detach one source record into its own institution (reverses a merge); --undo puts it back."""
    settings = settings_mod.load()
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        if undo:
            removed, target = undo_unmerge(session, settings, source_record_id)
            affected = [removed, target]
            message = (f"Rekord #{source_record_id} wrócił do instytucji {target}; "
                       f"usunięto instytucję {removed} utworzoną przy odłączeniu.")
        else:
            old_id, new_id = unmerge(session, settings, source_record_id)
            affected = [old_id, new_id]
            message = f"Rekord #{source_record_id} odłączono od instytucji {old_id}; utworzono instytucję {new_id}."
    click.echo(message)
    _refresh(settings, affected)


def _refresh(settings: Settings, institution_ids: list[int]) -> None:
    """Geo enrich and index update for the affected institutions (a removed id leaves the index);
    a failed stage is reported with a non-zero exit, the catalog change stays."""
    summaries: list[RunSummary] = []
    later_stages(settings, sorted(institution_ids), summaries)
    failed = [s for s in summaries if not s.ok]
    for summary in failed:
        click.echo(f"Etap {summary.source.removeprefix('stage:')} nie powiódł się: {summary.message}", err=True)
    if failed:
        ids = ",".join(map(str, sorted(institution_ids)))
        raise click.ClickException(
            f"Zmianę zapisano w katalogu, ale nie odświeżono położenia (TERYT) lub wyszukiwarki dla instytucji "
            f"{ids}. Usuń przyczynę błędu; wyszukiwarkę odświeży `wsparcie reindex --ids {ids}`.")


commands = [status_cmd, unmerge_cmd]
