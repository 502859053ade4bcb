"""The code base stays ruff-clean (GUIDE §6)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:]


def test_bug_finding_rules_and_warnings_as_errors_stay_on():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]
    assert {"B", "UP", "I"} <= set(config["ruff"]["lint"]["extend-select"])
    assert config["pytest"]["ini_options"]["filterwarnings"][0] == "error"
