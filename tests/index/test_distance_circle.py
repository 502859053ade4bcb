"""The search index's "nearest first within a radius" (the institution page's nearby list, the home page's
place search) reads only part of the box, and still answers exactly what measuring every match would: the
same pages and the same total, on both backends, with matches lying exactly on the circle."""
from __future__ import annotations

import random

import pytest
from sqlmodel import select

from catalog import db
from catalog import settings as settings_mod
from catalog.geometry import haversine_km
from catalog.models import Institution
from index import api

CENTRE = (52.23, 21.01)
WORDS = ("pomocy", "integracji", "terapii", "domu")


def _catalog(seed: int = 3, n: int = 900) -> list[Institution]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        spread = 0.08 if i % 3 else 0.6          # a dense city and its region
        out.append(Institution(
            name=f"Ośrodek {rng.choice(WORDS)} {i}", type=rng.choice(("ops", "cis", "wtz", "dps")),
            lat=round(CENTRE[0] + rng.uniform(-spread, spread), 6),
            lon=round(CENTRE[1] + rng.uniform(-spread * 1.6, spread * 1.6), 6)))
    return out


@pytest.fixture(scope="module", params=("tantivy", "whoosh"))
def indexed(request, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSPARCIE_DATA_DIR", str(tmp_path_factory.mktemp(f"circle-{request.param}")))
        mp.delenv("DATABASE_URL", raising=False)
        mp.delenv("INDEX_DIR", raising=False)
        mp.setenv("SEARCH_BACKEND", request.param)
        settings = settings_mod.load()
        db.upgrade(settings.database_url)
        with db.session_scope(settings.database_url) as session:
            session.add_all(_catalog())
        with db.session_scope(settings.database_url) as session:
            api.rebuild(settings, session)
            rows = [(r.id, r.name, r.lat, r.lon) for r in session.exec(select(Institution)).all()]
        yield settings, rows
        db.get_engine(settings.database_url).dispose()


def _brute(rows, near, radius, matching=None):
    found = sorted((haversine_km(*near, lat, lon), i) for i, _name, lat, lon in rows
                   if (matching is None or i in matching) and haversine_km(*near, lat, lon) <= radius)
    return [round(d, 9) for d, _i in found], [i for _d, i in found]


def _cases(rows):
    rng = random.Random(4)
    for n in range(14):
        near = (CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.15, 0.15))
        # Half the radii run exactly through a match: it lies on the circle and counts.
        _i, _name, lat, lon = rng.choice(rows)
        radius = haversine_km(*near, lat, lon) if n % 2 and haversine_km(*near, lat, lon) < 200 \
            else rng.choice((3.0, 12.0, 30.0, 75.0))
        yield near, radius, (None, "integracji")[n % 2 == 0 and n % 4 == 0]


@pytest.mark.parametrize("whole_box", [0, api.READ_WHOLE_BOX])
def test_nearest_within_a_radius_equals_measuring_every_match(indexed, monkeypatch, whole_box):
    """Both ways: the box read whole (few matches) and the page's small box + the circle counted by parts."""
    monkeypatch.setattr(api, "READ_WHOLE_BOX", whole_box)
    settings, rows = indexed
    for near, radius, word in _cases(rows):
        # Which institutions the words match is the index's business: every located match of the text.
        matching = {p.id for p in api.locate(settings, api.SearchQuery(text=word or "")).points}
        distances, ids = _brute(rows, near, radius, matching)
        for page, per_page in ((1, 7), (1, 20), (3, 20)):
            result = api.search(settings, api.SearchQuery(text=word or "", near=near, radius_km=radius,
                                                          sort="distance", page=page, per_page=per_page))
            start = (page - 1) * per_page
            assert result.total == len(ids), (near, radius, word)
            assert [round(h.distance_km, 9) for h in result.hits] == distances[start:start + per_page]
            assert {h.id for h in result.hits} <= set(ids)


def test_circle_count_reads_fewer_matches_than_the_box(indexed, monkeypatch):
    """The count of a dense circle reads the box's corners and the circle's edge, not its middle."""
    settings, rows = indexed
    engine = api._engine(settings)
    read: list[int] = []
    located = engine.reader.located

    def counting(node, filters, limit):
        found = located(node, filters, limit)
        read.append(len(found))
        return found

    monkeypatch.setattr(engine.reader, "located", counting)
    radius = 8.0
    total = api._circle_count(engine.reader, api.build_plan("", engine.reader, engine.fold_map).node,
                              api._filters(api.SearchQuery()), CENTRE, radius)
    assert total == len(_brute(rows, CENTRE, radius)[1])
    in_box = len([r for r in rows if haversine_km(*CENTRE, r[2], r[3]) <= radius * 1.5])
    assert 0 < sum(read) < 0.6 * in_box
