"""The `wsparcie` command: every package's commands, imported explicitly (a broken module fails the whole
CLI loudly instead of hiding its commands)."""
from __future__ import annotations

import logging
import sys

import click

from catalog import cli as catalog_cli
from catalog import matching_cli, reports_cli
from geo import cli as geo_cli
from index import cli as index_cli
from orchestration import import_document as import_document_cli
from orchestration import ingest_cli, stages_cli
from scrapers.documents import cli as documents_cli
from webapp import serve_cli

COMMAND_GROUPS: tuple[list[click.Command], ...] = (
    catalog_cli.commands,          # init-db, export
    matching_cli.commands,         # explain-merge
    reports_cli.commands,          # reports list|show|resolve|reject
    stages_cli.commands,           # status (with --geo/--coverage), unmerge
    ingest_cli.commands,           # scrape, ingest, reparse, load-demo, start
    documents_cli.commands,        # parse-document
    import_document_cli.commands,  # import-document
    geo_cli.commands,              # resolve
    index_cli.commands,            # search, reindex
    serve_cli.commands,            # serve
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """Mapa Wsparcia: ingest, search and serve the directory of Polish support institutions."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)


for _group in COMMAND_GROUPS:
    for _command in _group:
        cli.add_command(_command)


def main() -> None:
    cli()


if __name__ == "__main__":   # `python -m orchestration.cli ...` (used for the background ingest)
    main()
