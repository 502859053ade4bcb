import pytest

from catalog.address import normalise_postal_code, parse_address

CASES = [
    # raw, street, building, flat, postal_code, locality
    ("ul. Józefińska 14, 30-529 Kraków", "ul. Józefińska", "14", None, "30-529", "Kraków"),
    ("Kraków, ul. Józefińska 14", "ul. Józefińska", "14", None, None, "Kraków"),
    ("Kraków ul. Józefińska 14", "ul. Józefińska", "14", None, None, "Kraków"),
    ("ul. Rynek 8, 16-060 Zabłudów", "ul. Rynek", "8", None, "16-060", "Zabłudów"),
    ("Rynek 8, 16-060 Zabłudów", "Rynek", "8", None, "16-060", "Zabłudów"),
    ("ul. Rynek 8 16-060 Zabłudów", "ul. Rynek", "8", None, "16-060", "Zabłudów"),
    ("Bytoń 72", None, "72", None, None, "Bytoń"),
    ("Bytoń 72, 88-231 Bytoń", None, "72", None, "88-231", "Bytoń"),
    ("88-231 Bytoń, Bytoń 72", None, "72", None, "88-231", "Bytoń"),
    ("88-231 Bytoń 72", None, "72", None, "88-231", "Bytoń"),
    ("16-060 Zabłudów, ul. Rynek 8", "ul. Rynek", "8", None, "16-060", "Zabłudów"),
    ("16-060 Zabłudów", None, None, None, "16-060", "Zabłudów"),
    ("00-950 Warszawa", None, None, None, "00-950", "Warszawa"),
    ("Kraków 30-529", None, None, None, "30-529", "Kraków"),
    ("Bytoń", None, None, None, None, "Bytoń"),
    ("al. Jana Pawła II 12/3, 00-950 Warszawa", "al. Jana Pawła II", "12", "3", "00-950", "Warszawa"),
    ("Aleje Jerozolimskie 44, 00-024 Warszawa, Polska", "al. Jerozolimskie", "44", None, "00-024", "Warszawa"),
    ("pl. Wolności 1 lok. 5, 61-738 Poznań", "pl. Wolności", "1", "5", "61-738", "Poznań"),
    ("Plac Kościuszki 3 m. 12, 97-300 Piotrków Trybunalski", "pl. Kościuszki", "3", "12", "97-300",
     "Piotrków Trybunalski"),
    ("os. 1000-lecia 5, 34-400 Nowy Targ", "os. 1000-lecia", "5", None, "34-400", "Nowy Targ"),
    ("osiedle Tysiąclecia 22a, 40-871 Katowice", "os. Tysiąclecia", "22a", None, "40-871", "Katowice"),
    ("ul.3 Maja 8a", "ul. 3 Maja", "8a", None, None, None),
    ("ul. 11 Listopada 7-9, 05-092 Łomianki", "ul. 11 Listopada", "7-9", None, "05-092", "Łomianki"),
    ("ULICA Długa 5 m. 3, 80-827 Gdańsk", "ul. Długa", "5", "3", "80-827", "Gdańsk"),
    ("ul. Piłsudskiego 12B; 15-950 Białystok", "ul. Piłsudskiego", "12B", None, "15-950", "Białystok"),
    ("ul. Mickiewicza nr 4, 16-100 Sokółka", "ul. Mickiewicza", "4", None, "16-100", "Sokółka"),
    ("ul. Kościelna 2\n16-060 Zabłudów", "ul. Kościelna", "2", None, "16-060", "Zabłudów"),
    ("ul. Armii Krajowej 7, 16–060 Zabłudów", "ul. Armii Krajowej", "7", None, "16-060", "Zabłudów"),
    ("ul. Słoneczna, 16-060 Zabłudów", "ul. Słoneczna", None, None, "16-060", "Zabłudów"),
]


@pytest.mark.parametrize(("raw", "street", "building", "flat", "postal_code", "locality"), CASES)
def test_parse_address(raw, street, building, flat, postal_code, locality):
    parsed = parse_address(raw)
    assert (parsed.street, parsed.building, parsed.flat, parsed.postal_code, parsed.locality) == (
        street, building, flat, postal_code, locality)
    assert parsed.raw == raw


def test_hints_and_village_before_post_town():
    parsed = parse_address("Wólka 5, 16-060 Zabłudów, gm. Zabłudów, woj. podlaskie")
    assert parsed.post_town == "Zabłudów"
    assert parsed.gmina_hint == "Zabłudów" and parsed.woj_hint == "podlaskie"
    assert parsed.street == "Wólka" and parsed.building == "5"
    assert parse_address("Bolesławiec, dolnośląskie").woj_hint == "dolnośląskie"


@pytest.mark.parametrize("raw", ["", "   ", "!!!", ",,,", "x" * 5000, "Polska", None])
def test_garbage_never_raises(raw):
    parsed = parse_address(raw)
    assert parsed.postal_code is None and parsed.street is None


def test_key_ignores_diacritics_and_case():
    assert parse_address("ul. Rynek 8, 16-060 Zabłudów").key() == parse_address("UL RYNEK 8, 16-060 ZABLUDOW").key()
    assert normalise_postal_code("kod 16 060") is None
    assert normalise_postal_code("16-060") == "16-060"
