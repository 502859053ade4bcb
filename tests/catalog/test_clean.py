"""Ingest-time cleaning (catalog.clean): hostile invisible characters go, Polish text stays intact."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.clean import CAPS, INVISIBLE, clean_item, clean_text
from catalog.records import SourceItem

POLISH = "Zażółć gęślą jaźń — ŻÓŁW, „Ośrodek” nr 3/4 (A&B), e-mail: ops@gmina.pl; §12 ‘x’ 50% «»"


def test_polish_letters_and_punctuation_are_kept_exactly():
    assert clean_text(POLISH, "name") == (POLISH, [])


def test_decomposed_polish_letters_are_composed():
    decomposed = unicodedata.normalize("NFD", "Gminny Ośrodek w Łańcucie, ul. Źródlana")
    assert decomposed != "Gminny Ośrodek w Łańcucie, ul. Źródlana"
    assert clean_text(decomposed, "name")[0] == "Gminny Ośrodek w Łańcucie, ul. Źródlana"


@pytest.mark.parametrize("control", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_bidi_embeddings_overrides_and_isolates_are_removed(control):
    text, notes = clean_text(f"MOPS{control} w Zabłudowie{control}", "name")
    assert text == "MOPS w Zabłudowie"
    assert notes == ["removed bidi/invisible characters"]


def test_an_override_cannot_reverse_how_a_name_reads():
    # "\u202egpj.exe" displays as "exe.jpg": the override must not survive into any output.
    text, _ = clean_text("Ośrodek \u202egpj.exe\u202c", "name")
    assert text == "Ośrodek gpj.exe" and not any(unicodedata.bidirectional(c) in ("RLO", "PDF") for c in text)


def test_nul_and_other_controls_are_removed_in_single_line_fields():
    text, notes = clean_text("Gminny\x00 Ośrodek\x07\x1b[31m\x7f\x85 Pomocy\x9b", "name")
    assert text == "Gminny Ośrodek[31m Pomocy"
    assert notes == ["removed control characters"]
    assert "\x00" not in text and all(unicodedata.category(c) != "Cc" for c in text)


def test_line_breaks_become_spaces_in_single_line_fields_and_are_kept_in_notes():
    assert clean_text("ul. Rynek\r\n8\t lok.\u20282", "street")[0] == "ul. Rynek 8 lok. 2"
    assert clean_text("Czynne:\r\npn–pt 8–16\x00\n\n\n\nsob. nieczynne  ", "notes")[0] == (
        "Czynne:\npn–pt 8–16\n\nsob. nieczynne")


def test_whitespace_is_collapsed_including_unicode_spaces():
    assert clean_text("  Ośrodek\u00a0\u00a0Pomocy \u2003 Społecznej\u202f ", "name") == (
        "Ośrodek Pomocy Społecznej", [])


def test_absurd_lengths_are_cut_with_a_note():
    text, notes = clean_text("Ośrodek " * 700, "name")   # 5 600 characters
    assert len(text) == CAPS["name"] and text.endswith("…") and text.startswith("Ośrodek Ośrodek")
    assert notes == ["cut from 5599 to 300 characters"]
    assert clean_text("a" * 300, "name") == ("a" * 300, [])   # at the cap: untouched


def test_clean_item_cleans_nested_values_and_notes_per_field():
    item = SourceItem(source="rjps", source_key="7", fields={
        "name": "X" * 5700,
        "locality": "Zabłudów\u2067",
        "phones": [{"raw": "85\x00 718 81 00", "e164": "+48857188100"}],
        "target_groups": ["seniorzy", "\u202e"],
        "lat": 53.01,
    }, raw={"name": "X\x00" * 3})
    cleaned, notes = clean_item(item)
    assert len(cleaned.fields["name"]) == 300
    assert cleaned.fields["locality"] == "Zabłudów"
    assert cleaned.fields["phones"] == [{"raw": "85 718 81 00", "e164": "+48857188100"}]
    assert cleaned.fields["target_groups"] == ["seniorzy"]
    assert cleaned.fields["lat"] == 53.01
    assert cleaned.raw == {"name": "XXX"}
    assert item.fields["locality"] == "Zabłudów\u2067"     # the adapter's item is not mutated
    assert {"where": "rjps 7", "message": "name: cut from 5700 to 300 characters"} in notes
    assert {n["message"] for n in notes} >= {"locality: removed bidi/invisible characters",
                                             "phones: removed control characters"}

POLISH_LETTERS = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(sorted(INVISIBLE) + list(POLISH_LETTERS)),
               max_size=400), st.sampled_from(["name", "street", "notes", "email"]))
def test_cleaning_is_idempotent_bounded_and_keeps_polish_letters(text, field):
    cleaned, _ = clean_text(text, field)
    assert clean_text(cleaned, field)[0] == cleaned
    assert len(cleaned) <= CAPS[field]
    assert not any(c in INVISIBLE for c in cleaned)
    assert all(unicodedata.category(c) != "Cc" or (field == "notes" and c in "\n\t") for c in cleaned)
    if len(cleaned) < CAPS[field] - 1:   # nothing was cut: every Polish letter survives, composed
        assert sorted(c for c in cleaned if c in POLISH_LETTERS) == sorted(
            c for c in unicodedata.normalize("NFC", text) if c in POLISH_LETTERS)
