"""`wsparcie scrape`, `wsparcie ingest` (the cron entry point), `wsparcie reparse`, `wsparcie load-demo` and
`wsparcie start`."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from catalog import settings as settings_mod
from orchestration import pipeline
from scrapers.registry import ADAPTERS, GROUPS

log = logging.getLogger("wsparcie")

EXIT_OK, EXIT_FAILED, EXIT_LOCKED = 0, 1, 3


@contextmanager
def _progress(enabled: bool) -> Iterator[pipeline.Progress | None]:
    """A progress bar on a terminal, plain log lines (every 10 %) otherwise."""
    if not enabled:
        yield None
        return
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="rec", file=sys.stderr, dynamic_ncols=True)

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            yield update
        finally:
            bar.close()
        return
    last = {"step": -1}

    def log_line(done: int, total: int) -> None:
        step = done * 10 // total if total else 10
        if step != last["step"]:
            last["step"] = step
            log.info("progress: %d/%d", done, total)

    yield log_line


def _report(summaries: list[pipeline.RunSummary], as_json: bool) -> int:
    for s in summaries:
        if as_json:
            click.echo(json.dumps({
                "source": s.source, "run_id": s.run_id, "status": s.status, "complete": s.complete,
                "in": s.n_in, "new": s.n_new, "changed": s.n_changed, "unchanged": s.n_unchanged,
                "missing": s.n_missing, "errors": s.n_errors, "message": s.message,
                "seconds": round(s.seconds, 2),
            }, ensure_ascii=False))
        else:
            mark = "OK " if s.ok else "SKP" if s.status == "skipped" else "ERR"
            click.echo(f"{mark} {s.source:<14} {s.status:<11} in={s.n_in} new={s.n_new} changed={s.n_changed} "
                       f"unchanged={s.n_unchanged} missing={s.n_missing} errors={s.n_errors}"
                       + (f"  — {s.message}" if s.message else ""))
            for err in s.errors[:10]:
                click.echo(f"      {err.get('where', '?')}: {err.get('message', '')}", err=True)
            if len(s.errors) > 10:
                click.echo(f"      … and {len(s.errors) - 10} more (wsparcie status)", err=True)
    # A source skipped because another ingest is running it is that ingest's business, not a failure.
    return EXIT_OK if all(s.ok or s.status == "skipped" for s in summaries) else EXIT_FAILED


def _run(keys: list[str] | None, as_json: bool, progress: bool) -> None:
    settings = settings_mod.load()
    try:
        with _progress(progress and not as_json) as bar:
            summaries = pipeline.scrape(settings, keys, progress=bar)
    except pipeline.IngestLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except KeyboardInterrupt:
        click.echo("interrupted: the run is recorded and the next run continues it", err=True)
        sys.exit(130)
    sys.exit(_report(summaries, as_json))


@click.command("scrape")
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source run.")
@click.option("--no-progress", is_flag=True, help="No progress bar / progress log lines.")
def scrape_cmd(sources: tuple[str, ...], as_json: bool, no_progress: bool) -> None:
    """Fetch SOURCES (default: all) and merge them into the catalog. Exits 1 when any source failed."""
    unknown = [s for s in sources if s not in ADAPTERS and s not in GROUPS]
    if unknown:
        raise click.BadParameter(
            f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted([*ADAPTERS, *GROUPS]))}",
            param_hint="SOURCES",
        )
    _run(list(sources) or None, as_json, not no_progress)


@click.command("ingest")
@click.option("--json", "as_json", is_flag=True)
@click.option("--no-progress", is_flag=True)
def ingest_cmd(as_json: bool, no_progress: bool) -> None:
    """Cron entry point: every source, then geocoding/TERYT and the search index. Non-zero exit on failure."""
    _run(None, as_json, not no_progress)


@click.command("reparse")
@click.option("--source", "sources", multiple=True, metavar="KEY",
              help="Only this source (repeatable; default: every source with stored captures).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source run.")
def reparse_cmd(sources: tuple[str, ...], as_json: bool) -> None:
    """Parse the stored captures again (no request to any source) and merge them as a normal run, so a
    parser fix reaches old records. Exits 1 when any source failed (e.g. a request not in the captures)."""
    unknown = [s for s in sources if s not in ADAPTERS and s not in GROUPS]
    if unknown:
        raise click.BadParameter(f"unknown source(s): {', '.join(unknown)}", param_hint="--source")
    settings = settings_mod.load()
    try:
        summaries = pipeline.reparse(settings, list(sources) or None)
    except pipeline.IngestLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    sys.exit(_report(summaries, as_json))


@click.command("load-demo")
@click.option("--if-empty", is_flag=True, help="Only when the catalog holds no institutions yet.")
def load_demo_cmd(if_empty: bool) -> None:
    """Load the bundled demo snapshot (real RJPS captures + labelled placeholders per gmina/powiat)."""
    from orchestration import demo

    settings = settings_mod.load()
    loaded = demo.load_demo(settings, only_if_empty=if_empty)
    click.echo(loaded.describe())
    sys.exit(EXIT_OK if loaded.ok else EXIT_FAILED)


@click.command("start")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--offline", is_flag=True, envvar="WSPARCIE_OFFLINE",
              help="Never try the live registries (env WSPARCIE_OFFLINE=1).")
@click.pass_context
def start_cmd(ctx: click.Context, host: str, port: int, offline: bool) -> None:
    """Set up and serve: upgrade the DB, load the demo snapshot when the catalog is empty, start a live
    ingest in the background when the registries are reachable, then serve the site."""
    from orchestration import demo

    settings = settings_mod.load()
    loaded = demo.load_demo(settings, only_if_empty=True)
    click.echo(loaded.describe())
    if not offline:
        demo.start_background_ingest(settings)
    from webapp.serve_cli import serve_cmd

    ctx.invoke(serve_cmd, host=host, port=port)


commands = [scrape_cmd, ingest_cmd, reparse_cmd, load_demo_cmd, start_cmd]
