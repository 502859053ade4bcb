"""Gradual type checking: the modules listed in pyproject's [tool.mypy] `files` pass mypy."""
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _mypy() -> str:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if mypy is None:
        pytest.fail("mypy is not installed (pip install -e '.[test]')")
    return mypy


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_mypy(), "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)


def test_mypy_clean_on_the_package_interfaces():
    files = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mypy"]["files"]
    assert {"catalog/records.py", "scrapers/base.py", "scrapers/documents/textfix.py"} <= set(files)
    result = _run()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_config_rejects_a_wrong_type(tmp_path):
    # The same configuration must fail on a real mistake, or the test above proves nothing.
    bad = tmp_path / "bad.py"
    bad.write_text("from catalog.slug import slug\n\n\ndef key(n: int) -> int:\n    return slug(n)\n", "utf-8")
    result = _run(str(bad))
    assert result.returncode == 1 and "bad.py:5" in result.stdout, result.stdout
