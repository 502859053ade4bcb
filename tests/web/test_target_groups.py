"""RJPS target groups and service tags on the pages: Polish labels, and the "Dla kogo" filter."""
from __future__ import annotations

from catalog.db import session_scope
from catalog.models import Institution
from tests.web.conftest import rebuild_index


def _tag(settings, inst_id: int, groups: list[str], tags: list[str]) -> None:
    with session_scope(settings.database_url) as session:
        inst = session.get(Institution, inst_id)
        inst.target_groups, inst.service_tags = groups, tags
    rebuild_index(settings)


def test_detail_shows_groups_and_services_with_polish_labels(client, ids, settings):
    _tag(settings, ids["ops"], ["niepelnosprawnosc", "seniorzy"], ["poradnictwo"])
    html = client.get(f"/instytucja/{ids['ops']}").get_data(as_text=True)
    assert "<dt>Dla kogo</dt><dd>Osoby z niepełnosprawnością, Seniorzy</dd>" in html
    assert "<dt>Usługi</dt><dd>Poradnictwo</dd>" in html


def test_list_and_map_offer_and_apply_the_group_filter(client, ids, settings):
    _tag(settings, ids["ops"], ["seniorzy"], [])
    for path in ("/instytucje", "/mapa"):
        assert '<option value="trudna-sytuacja-materialna">Trudna sytuacja materialna</option>' in \
            client.get(path).get_data(as_text=True)
    html = client.get("/instytucje?grupa=seniorzy").get_data(as_text=True)
    assert "Wyniki: 1" in html and "Gminny Ośrodek Pomocy Społecznej w Zabłudowie" in html
    assert "Wyniki: 0" in client.get("/instytucje?grupa=przemoc").get_data(as_text=True)
