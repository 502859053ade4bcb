"""`wsparcie import-document` on the real Kujawsko-Pomorskie monthly DPS sheets (data/registries/real/
wojewoda/kujawsko-pomorskie, SOURCE.md): a run of its source per file, dated places, capture provenance,
nothing lost on a bad file."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import func, select

from catalog import settings as settings_mod
from catalog.db import session_scope
from catalog.models import ChangeLog, FieldProvenance, Institution, RawCapture, ScrapeRun, SourceRecord
from orchestration.cli import cli

REAL = Path(__file__).resolve().parents[2] / "data" / "registries" / "real" / "wojewoda"
KP = [REAL / "kujawsko-pomorskie" / f"dps_wolne_miejsca_{d}.xls" for d in ("2026-06-20", "2026-07-05", "2026-08-05")]
URL = "https://bip.bydgoszcz.uw.gov.pl/files/dps_wolne_miejsca.xls"
PLACES = {"places_total", "places_free", "places_as_of"}


def _import(path: Path, *extra: str):
    return CliRunner().invoke(cli, ["import-document", str(path), "--kind", "dps", "--source", "dps-04",
                                    "--url", URL, *extra])


def _catalog_state(database_url: str) -> tuple:
    """Everything a bad import must leave as it was: institutions, records, provenance, change log."""
    with session_scope(database_url) as session:
        institutions = [json.dumps(i.model_dump(mode="json"), sort_keys=True)
                        for i in session.exec(select(Institution).order_by(Institution.id)).all()]
        counts = tuple(session.exec(select(func.count()).select_from(m)).one()
                       for m in (SourceRecord, FieldProvenance, ChangeLog))
    return institutions, counts


def _changes(database_url: str, run_id: int) -> list[ChangeLog]:
    with session_scope(database_url) as session:
        return list(session.exec(select(ChangeLog).where(ChangeLog.run_id == run_id)).all())


def _last_run(database_url: str) -> ScrapeRun:
    with session_scope(database_url) as session:
        return session.exec(select(ScrapeRun).where(ScrapeRun.source == "dps-04")
                            .order_by(ScrapeRun.id.desc())).first()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_monthly_versions_change_only_places_and_say_so(data_dir, backend, request):
    if backend == "postgres":
        request.getfixturevalue("postgres_url")
    s = settings_mod.load()
    first = _import(KP[0])
    assert first.exit_code == 0, first.output
    assert "dps-04: ok" in first.output and "nowych 47" in first.output
    for path in KP[1:]:
        result = _import(path)
        assert result.exit_code == 0, result.output
        run = _last_run(s.database_url)
        changes = _changes(s.database_url, run.id)
        assert changes and {c.kind for c in changes} == {"changed"}
        assert {c.field for c in changes} <= PLACES   # names, phones, powiaty: untouched
        assert "zmiany w dzienniku: places_" in result.output and "name" not in result.output.split("dzienniku:")[1]
    with session_scope(s.database_url) as session:
        homes = session.exec(select(Institution)).all()
        assert len(homes) == 47
        chelmno = next(i for i in homes if i.name == "Dom Pomocy Społecznej w Chełmnie")
        # 31 May: 2 free; 30 June: 3 free (sheets of 5 July and 5 August)
        assert (chelmno.places_free, chelmno.places_as_of) == (3, date(2026, 6, 30))
        history = session.exec(select(ChangeLog).where(ChangeLog.institution_id == chelmno.id,
                                                       ChangeLog.field == "places_free")).all()
        assert [(c.old_value, c.new_value) for c in history] == [("2", "3")]
        assert chelmno.home_types and chelmno.powiat_teryt == "0404"


def test_an_older_sheet_imported_later_does_not_roll_free_places_back(data_dir):
    s = settings_mod.load()
    for path in (KP[2], KP[0]):   # August's sheet (as of 30 June), then May's (as of 31 May) by hand
        assert _import(path).exit_code == 0
    with session_scope(s.database_url) as session:
        chelmno = session.exec(select(Institution).where(Institution.name == "Dom Pomocy Społecznej w Chełmnie")).one()
        assert (chelmno.places_free, chelmno.places_as_of) == (3, date(2026, 6, 30))
    assert _changes(s.database_url, _last_run(s.database_url).id) == []


def test_provenance_points_at_the_captured_file_its_url_and_date(data_dir):
    s = settings_mod.load()
    assert _import(KP[1]).exit_code == 0
    digest = hashlib.sha256(KP[1].read_bytes()).hexdigest()
    with session_scope(s.database_url) as session:
        record = session.exec(select(SourceRecord).where(SourceRecord.source == "dps-04")).first()
        capture = session.get(RawCapture, record.capture_id)
        assert (capture.content_hash, capture.url, capture.source) == (digest, URL, "dps-04")
        assert (s.captures_dir / digest[:2] / digest).read_bytes() == KP[1].read_bytes()
        assert record.raw["_sha256"] == digest and record.raw["_document"] == URL
        assert record.source_updated_at == date(2026, 6, 30)
        places = session.exec(select(FieldProvenance).where(
            FieldProvenance.institution_id == record.institution_id, FieldProvenance.field == "places_free")).one()
        assert places.source_updated_at == date(2026, 6, 30) and places.source == "dps-04"
        run = session.get(ScrapeRun, record.last_run_id)
        assert run.complete and run.status == "ok"


def test_as_of_overrides_the_date_printed_in_the_document(data_dir):
    s = settings_mod.load()
    assert _import(KP[0], "--as-of", "2026-06-01").exit_code == 0
    with session_scope(s.database_url) as session:
        dates = set(session.exec(select(Institution.places_as_of)).all())
    assert dates == {date(2026, 6, 1)}


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, b"<html>nie ma tu tabeli</html>"])
def test_a_bad_file_exits_1_and_changes_nothing(data_dir, tmp_path, content):
    s = settings_mod.load()
    assert _import(KP[0]).exit_code == 0
    before = _catalog_state(s.database_url)
    bad = tmp_path / "dps_wolne_miejsca_zly.xls"
    bad.write_bytes(content)
    result = _import(bad)
    assert result.exit_code == 1
    assert "Błąd:" in result.output and ("pusty" in result.output or "nic nie zmieniono" in result.output)
    assert _catalog_state(s.database_url) == before


def test_a_truncated_real_sheet_exits_1_and_changes_nothing(data_dir, tmp_path):
    s = settings_mod.load()
    assert _import(KP[0]).exit_code == 0
    before = _catalog_state(s.database_url)
    broken = tmp_path / "dps_obciety.xls"
    broken.write_bytes(KP[1].read_bytes()[:3000])   # an interrupted download
    result = _import(broken)
    assert result.exit_code == 1 and "nic nie zmieniono" in result.output
    assert _catalog_state(s.database_url) == before
    assert _last_run(s.database_url).status == "failed"


def test_a_missing_file_is_a_clear_error(data_dir, tmp_path):
    result = _import(tmp_path / "nie-ma.xls")
    assert result.exit_code == 1 and "nie można odczytać pliku" in result.output
