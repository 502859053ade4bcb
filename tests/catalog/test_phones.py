"""Phone text from registries: numbers split, E.164 computed, the raw text kept as printed."""
from catalog.phones import normalise_phones, split_phone_text


def test_area_code_in_brackets_keeps_its_bracket():
    assert normalise_phones("(32) 296-21-31") == [{"raw": "(32) 296-21-31", "e164": "+48322962131"}]


def test_several_numbers_with_prefixes():
    assert [p["raw"] for p in normalise_phones("tel. (32) 296-21-31, fax (32) 296 21 32")] == [
        "(32) 296-21-31", "(32) 296 21 32"]


def test_old_trunk_prefix_and_plain_numbers():
    assert normalise_phones("(032) 296-21-31")[0]["e164"] == "+48322962131"
    assert normalise_phones("85 7188100")[0]["e164"] == "+48857188100"
    assert split_phone_text("tel. 85 7188100 85 7188118") == ["85 7188100", "85 7188118"]


def test_international_prefix_and_no_number():
    assert normalise_phones("+48 85 718 81 00")[0]["e164"] == "+48857188100"
    assert normalise_phones("brak") == []
