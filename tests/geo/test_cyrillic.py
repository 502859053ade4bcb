"""Polish places typed in Cyrillic resolve to the Polish place (a Ukrainian speaker's "Краків")."""
from __future__ import annotations

import pytest

from geo import cyrillic, localities
from geo.resolve import resolve


@pytest.mark.parametrize(("typed", "polish"), [
    ("Варшава", "Warszawa"), ("Краків", "Kraków"), ("Лодзь", "Łódź"), ("Вроцлав", "Wrocław"),
    ("Познань", "Poznań"), ("Гданськ", "Gdańsk"), ("Щецин", "Szczecin"), ("Бидгощ", "Bydgoszcz"),
    ("Люблін", "Lublin"), ("Білосток", "Białystok"), ("Катовіце", "Katowice"), ("Гдиня", "Gdynia"),
    ("Жешув", "Rzeszów"), ("Торунь", "Toruń"), ("Сосновець", "Sosnowiec"), ("Кельце", "Kielce"),
    ("Ольштин", "Olsztyn"), ("Забже", "Zabrze"), ("Зелена Гура", "Zielona Góra"), ("Тарнів", "Tarnów"),
    ("Хожув", "Chorzów"), ("Легниця", "Legnica"), ("Новий Сонч", "Nowy Sącz"), ("Перемишль", "Przemyśl"),
    ("Горлиці", "Gorlice"), ("Живець", "Żywiec"), ("Ярослав", "Jarosław"), ("Плоцьк", "Płock"),
])
def test_cities_typed_in_cyrillic_are_found_by_their_polish_name(typed, polish):
    # Folded like any typed name: "Краків" finds what "Krakow" finds (Kraków, and the village Krąków).
    assert {loc.name for loc in localities.named(typed)} == {loc.name for loc in localities.named(polish)}


def test_the_largest_place_wins_over_a_village_with_a_literal_spelling():
    # "Щецин" spelt letter by letter is "Szczecyn", a village; the city is meant.
    assert "Szczecyn" in {loc.name for loc in localities.named("Szczecyn")}
    assert {loc.name for loc in localities.named("Щецин")} == {"Szczecin"}


def test_only_cyrillic_is_transliterated_and_nonsense_finds_nothing():
    assert cyrillic.polish_candidates("Kraków") == []
    assert localities.named("Кхщґфж") == []
    assert len(cyrillic.polish_candidates("Пйотркув-Трибунальський-Велике")) <= cyrillic.MAX_CANDIDATES + 1


def test_an_ambiguous_cyrillic_name_offers_its_choices_too():
    assert len(localities.named("Нова Весь")) == len(localities.named("Nowa Wieś")) > 100


def test_resolve_takes_a_cyrillic_place_with_a_polish_qualifier(session, geo_settings):
    res = resolve(session, geo_settings, "Краків")
    assert (res.place.gmina_id6, res.place.powiat_code) == ("126101", "1261")
    amb = resolve(session, geo_settings, "Болеславець, łódzkie")
    assert amb.place.gmina_id6 == "101801"
