"""The import contract (pyproject [tool.importlinter]) holds, forbids every backward edge the code once had,
and every module of the project imports on its own in a fresh interpreter."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("catalog", "geo", "index", "scrapers", "webapp", "orchestration")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Edges that ran against the data flow before orchestration/ existed (issue "One path per concept"),
# as (importer module, what it imported). Each must break the contract when put back.
BACKWARD_EDGES = (
    ("catalog.cli", "geo.quality"),                   # status --geo in catalog
    ("catalog.matching_cli", "orchestration.pipeline"),   # unmerge re-running the stages
    ("catalog.matching", "scrapers.registry"),        # catalog reaching into the sources
    ("scrapers.base", "webapp.serve_cli"),            # start in scrapers.cli
    ("scrapers.rjps", "geo.teryt"),                   # adapters resolving TERYT names
    ("scrapers.official_list", "orchestration.pipeline"),   # demo/import-document in scrapers
    ("webapp.api", "scrapers.registry"),              # the site running adapters
    ("webapp.maps", "orchestration.cli"),             # the root CLI in webapp
    ("geo.enrich", "index.api"),                      # geo updating the search index
    ("index.api", "webapp.serializers"),              # search depending on the site
)


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(cwd / "pyproject.toml")],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_import_contract_is_kept():
    out = _lint(REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """The packages' sources and the contract, copied so that a test can add a forbidden import."""
    root = tmp_path_factory.mktemp("src")
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static", "migrations"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(("importer", "imported"), BACKWARD_EDGES, ids=[f"{a}->{b}" for a, b in BACKWARD_EDGES])
def test_each_backward_edge_breaks_the_contract(source_copy: Path, importer: str, imported: str):
    path = source_copy / (importer.replace(".", "/") + ".py")
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + f"\nimport {imported}  # mutant\n", encoding="utf-8")
        out = _lint(source_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert out.returncode != 0, f"{importer} -> {imported} was allowed:\n{out.stdout}"
    assert "BROKEN" in out.stdout and importer in out.stdout


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


# Forks a child per module after loading only third-party libraries, so each project module is the first
# project module its interpreter imports (a circular import shows), without paying interpreter start-up.
_FORK_IMPORTER = """
import importlib, os, sys
for lib in ("flask", "sqlmodel", "sqlalchemy", "alembic", "click", "httpx", "bs4", "lxml", "tantivy",
            "whoosh", "morfeusz2", "shapely", "rapidfuzz", "phonenumbers", "openpyxl", "xlrd", "pdfplumber",
            "docx", "folium", "geopy", "flask_wtf", "flask_limiter", "tenacity", "ftfy", "odf"):
    try:
        importlib.import_module(lib)
    except Exception:
        pass
assert not any(m.split(".")[0] in {packages!r} for m in sys.modules), "a library imported the project"
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            sys.stderr.write(f"{{name}}: {{type(exc).__name__}}: {{exc}}\\n")
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(name)
print("FAILED:" + ",".join(failed))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_every_module_imports_on_its_own():
    modules = _modules()
    assert "webapp.views_public" in modules and "orchestration.cli" in modules
    out = subprocess.run([sys.executable, "-c", _FORK_IMPORTER.format(packages=set(PACKAGES)), *modules],
                         cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "FAILED:", out.stderr


def test_modules_loaded_by_name_stay_in_their_package():
    """importlib.import_module with a project module name is invisible to the import graph: only a
    module's own package may be loaded that way (adapters in scrapers.registry, backends in index.api)."""
    named = re.compile(r"""["']((?:""" + "|".join(PACKAGES) + r""")(?:\.\w+)+)["']""")
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "import_module" not in text:
                continue
            for target in named.findall(text):
                assert target.split(".")[0] == package, f"{path.relative_to(REPO)} loads {target} by name"


def test_no_package_below_orchestration_spawns_a_higher_one():
    """`python -m <module>` is an import by another route (the demo once spawned webapp.cli)."""
    spawn = re.compile(r"""["']-m["']\s*,\s*["']((?:""" + "|".join(PACKAGES) + r""")[\w.]*)["']""")
    for package in PACKAGES[:-1]:
        for path in (REPO / package).rglob("*.py"):
            for target in spawn.findall(path.read_text(encoding="utf-8")):
                assert target.split(".")[0] == package, f"{path.relative_to(REPO)} spawns {target}"
