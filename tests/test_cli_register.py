"""The `wsparcie` command assembles every package's commands from explicit imports (orchestration.cli),
so a module that cannot be imported stops the CLI loudly instead of silently hiding its commands."""
from __future__ import annotations

import subprocess
import sys

from orchestration import cli


def test_every_command_module_contributes_its_commands():
    assert {"status", "explain-merge", "unmerge", "scrape", "ingest", "reparse", "load-demo", "start",
            "import-document", "parse-document", "resolve", "search", "reindex", "serve", "init-db",
            "export"} <= set(cli.cli.commands)


def test_the_console_script_target_runs():
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "--help"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "reparse" in out.stdout and "import-document" in out.stdout
