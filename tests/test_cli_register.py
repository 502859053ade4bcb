"""The `wsparcie` command assembles every package's commands; a module that cannot be imported stops it
loudly instead of silently hiding its commands."""
from __future__ import annotations

import pytest

from webapp import cli


def test_every_command_module_contributes_its_commands():
    assert {"status", "explain-merge", "unmerge", "scrape", "parse-document", "resolve", "reindex",
            "serve"} <= set(cli.cli.commands)


def test_a_missing_command_module_fails_loudly(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("catalog.no_such_cli",))
    with pytest.raises(ModuleNotFoundError, match="catalog.no_such_cli"):
        cli._register()
