"""The `wsparcie` command. Each package contributes its own commands through a module-level
`commands` list in `<package>/cli.py`; this file only assembles them."""
from __future__ import annotations

import importlib
import logging
import sys

import click

COMMAND_MODULES = (
    "catalog.cli",            # status, export, init-db
    "catalog.matching_cli",   # explain-merge, unmerge
    "scrapers.cli",           # scrape, ingest, load-demo
    "scrapers.documents.cli", # parse-document
    "scrapers.import_document",  # import-document
    "geo.cli",                # resolve
    "index.cli",              # search, reindex
    "webapp.serve_cli",       # serve
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


def _register() -> None:
    # Every module must import: a broken one fails the whole CLI loudly instead of hiding its commands.
    for module_name in COMMAND_MODULES:
        for command in importlib.import_module(module_name).commands:
            cli.add_command(command)


_register()


def main() -> None:
    cli()


if __name__ == "__main__":   # `python -m webapp.cli ...` (used for the background ingest)
    main()
