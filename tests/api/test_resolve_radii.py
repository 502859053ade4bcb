"""geo.resolve's "nearby" units widen by the one policy (catalog.radii), not by a copy of it."""
from __future__ import annotations

from catalog import db, radii
from geo import resolve as geo_resolve

BIALYSTOK = (53.1325, 23.1688)


def _nearby(catalog) -> list[tuple[str, float]]:
    with db.session_scope(catalog.settings.database_url) as session:
        found = geo_resolve.nearby_units(session, *BIALYSTOK, geo_resolve.NEARBY_TYPES, limit=10)
        return [(n.institution.name, n.distance_km) for n in found]


def test_nearby_widens_to_anywhere_when_the_policy_does(catalog):
    # Ten units are asked for and the sample catalog has fewer: the policy's last step (anywhere)
    # brings in Kraków's units, ~400 km away.
    assert radii.WIDENING_RADII_KM[-1] is None
    assert max(d for _n, d in _nearby(catalog)) > 300


def test_nearby_stops_where_the_policy_stops(catalog, monkeypatch):
    """With a policy of 30 km only, nothing farther comes back: resolve follows catalog.radii."""
    monkeypatch.setattr(radii, "WIDENING_RADII_KM", (30.0,))
    found = _nearby(catalog)
    assert found and all(d <= 30.0 for _n, d in found)


def test_the_api_answers_with_the_same_nearby_units(client, catalog):
    body = client.get("/api/resolve", query_string={"lat": BIALYSTOK[0], "lon": BIALYSTOK[1]}).get_json()
    assert [n["institution"]["name"] for n in body["nearby"]] == [name for name, _d in _nearby(catalog)]
