"""Badge colours and texts come from catalog/types.py: the stylesheet is generated, not hand-copied, so a new
or changed type needs no CSS or template edit (the one-file rule of catalog/types.py)."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from catalog import types
from catalog.types import TYPES, InstitutionType, contrast_on_white
from scrapers.documents import institutions
from webapp import type_styles

ROOT = Path(__file__).resolve().parents[2]
_RULE = re.compile(r"\.badge-([a-z-]+) \{ background: (#[0-9a-f]{6}); \}")


def _rules(css: str) -> dict[str, str]:
    return dict(_RULE.findall(css))


def test_stylesheet_has_every_type_with_readable_badges(client):
    response = client.get("/static-gen/types.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    rules = _rules(response.get_data(as_text=True))
    assert set(rules) == {code.value for code in InstitutionType}
    for code, colour in rules.items():
        assert colour == TYPES[InstitutionType(code)].badge_colour
        assert contrast_on_white(colour) >= 4.5, (code, colour)   # white bold 0.85rem text on it


def test_stylesheet_is_cached_long_and_revalidated(client):
    first = client.get("/static-gen/types.css")
    assert first.headers["ETag"] and "max-age=31536000" in first.headers["Cache-Control"]
    again = client.get("/static-gen/types.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()


def test_pages_link_the_versioned_stylesheet_and_csp_allows_it(client):
    page = client.get("/instytucje")
    html = page.get_data(as_text=True)
    etag = client.get("/static-gen/types.css").headers["ETag"].strip('"')
    assert f'<link rel="stylesheet" href="/static-gen/types.css?v={etag}">' in html
    style_src = next(p for p in page.headers["Content-Security-Policy"].split("; ") if p.startswith("style-src"))
    assert "'self'" in style_src and "unsafe-inline" not in style_src
    assert '<span class="badge badge-ops">OPS</span>' in html


def test_no_type_code_is_hand_copied_into_css_or_templates():
    codes = "|".join(re.escape(code.value) for code in InstitutionType)
    copied = re.compile(rf"badge-(?:{codes})\b")
    files = [*ROOT.glob("webapp/static/css/*.css"), *ROOT.glob("templates/**/*.html")]
    assert files
    offenders = [str(f.relative_to(ROOT)) for f in files if copied.search(f.read_text(encoding="utf-8"))]
    assert not offenders, offenders


@pytest.fixture
def changed_type(monkeypatch):
    """OHP given a new abbreviation, colour and name pattern in the registry only, as a new type would be."""
    ohp = TYPES[InstitutionType.OHP]
    changed = dataclasses.replace(ohp, abbreviations=("ZNX",), colour="#0077aa",
                                  name_patterns=(r"\bzakat\w* nadziei\b",), label_phrases=("zakatek nadziei",))
    monkeypatch.setitem(TYPES, InstitutionType.OHP, changed)
    for cached in (type_styles.stylesheet, institutions._compile_tiers):
        cached.cache_clear()
    yield changed
    monkeypatch.undo()
    for cached in (type_styles.stylesheet, institutions._compile_tiers):
        cached.cache_clear()


def test_a_type_changed_only_in_the_registry_reaches_css_badge_and_readers(app, changed_type):
    client = app.test_client()
    rules = _rules(client.get("/static-gen/types.css").get_data(as_text=True))
    assert rules["ohp"] == changed_type.badge_colour != TYPES[InstitutionType.OTHER].badge_colour
    with app.test_request_context():
        badge = app.jinja_env.get_template("macros.html").module.type_badge("ohp")
    assert str(badge) == '<span class="badge badge-ohp">ZNX</span>'
    assert institutions.classify("Świetlica „Zakątek Nadziei” w Gorlicach") == "ohp"
    assert types.type_from_label("Zakątek Nadziei") is InstitutionType.OHP


def test_unknown_type_code_gets_the_other_badge(app):
    with app.test_request_context():
        badge = app.jinja_env.get_template("macros.html").module.type_badge('x" onclick="alert(1)')
    assert str(badge) == '<span class="badge badge-other">Inna jednostka</span>'
