"""The committed fixtures are exactly what make_fixtures.py builds, and each carries its sidecar note."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .conftest import FIXTURES


def _make_fixtures():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixtures_are_reproducible(tmp_path):
    module = _make_fixtures()
    if not all(Path(p).exists() for p in module.FONT_CANDIDATES):
        pytest.skip("DejaVu Sans is not installed; the PDF fixture cannot be rebuilt here")
    built = module.build(tmp_path)
    for name, data in built.items():
        assert (FIXTURES / name).read_bytes() == data, f"{name} differs from make_fixtures.py output"


def test_every_fixture_has_a_synthetic_layout_note():
    for name in _make_fixtures().FIXTURES:
        note = (FIXTURES / f"{name}.SOURCE.md").read_text(encoding="utf-8")
        assert "synthetic-layout" in note and "REGISTRIES.md" in note
