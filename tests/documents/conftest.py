"""Fixture documents of every format family (tests/fixtures/documents, built by make_fixtures.py)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "documents"
TODAY = date(2024, 6, 1)   # fixed, so validity and expiry do not depend on when the suite runs


@pytest.fixture
def fixture_bytes():
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()
    return read
