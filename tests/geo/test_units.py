"""Powiat names as written in lists -> TERYT codes: a city with powiat rights vs the land powiat around it."""
from __future__ import annotations

import pytest

from geo.units import resolve_powiat, resolve_powiaty


@pytest.mark.parametrize(("name", "woj", "code"), [
    ("m. Kraków", "12", "1261"), ("miasto Kraków", "12", "1261"), ("Kraków", "12", "1261"),
    ("Kraków (miasto na prawach powiatu)", "12", "1261"), ("krakowski", "12", "1206"),
    ("powiat krakowski", "12", "1206"), ("m. st. Warszawa", "14", "1465"),
    ("miasto stołeczne Warszawa", "14", "1465"), ("powiat m. Białystok", "20", "2061"),
    ("białostocki", None, "2002"), ("Krakowski", "12", "1206"), ("Atlantyda", "12", None),
])
def test_resolve_powiat(name, woj, code):
    assert resolve_powiat(name, woj) == code


def test_lists_with_subregion_wrapper_and_conjunctions():
    assert resolve_powiaty("subregion południowy (powiaty: człuchowski, chojnicki, kościerski)", "22") == (
        ["2203", "2202", "2206"], [])
    assert resolve_powiaty("miasto Białystok i powiat białostocki; Xyz", "20") == (["2061", "2002"], ["Xyz"])
