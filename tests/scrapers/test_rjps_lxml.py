"""The RJPS fragment parser on lxml gives exactly what the BeautifulSoup parser it replaced gave: on every
fixture and real capture, on hostile markup, and on random cuts of the real fragment; and only text."""
from __future__ import annotations

import random
import re
import warnings
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from scrapers.rjps import parse_fragment

from .conftest import FIXTURES, REAL, REAL_FRAGMENTS

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "rjps-replay"
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


# -- the BeautifulSoup parser (before lxml), kept as the reference ------------------------------------

def _clean(text):
    return " ".join((text or "").split())


def bs4_parse_fragment(html):
    if isinstance(html, bytes):
        try:
            html = html.decode("utf-8")
        except UnicodeDecodeError:
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    return [_bs4_unit(node) for node in soup.select("div.jednostka[data-id]")]


def _bs4_unit(node):
    def titled(title):
        return node.find(attrs={"title": title})

    def linked(title, prefix):
        block = titled(title)
        if block is None:
            return None
        text = _clean(block.get_text(" "))
        if not text:
            link = block.find_parent("a")
            href = _clean(link.get("href")) if link is not None else ""
            text = href[len(prefix):] if prefix and href.startswith(prefix) else href
        return text or None

    name, kind, address, phone = (titled(t) for t in ("Nazwa jednostki", "Typ jednostki", "Adres", "Telefon"))
    spans = [] if address is None else [s for s in address.find_all("span")
                                        if not any(c.startswith("fa") for c in s.get("class", []))]
    phone_text = None
    if phone is not None:
        span = phone.find("span", class_="wrap-anywhere")
        phone_text = _clean((span or phone).get_text(" ")) or None
    updated_text, updated = None, None
    for block in node.select(".data-aktualizacji, .data-aktualizacji-mobile"):
        text = _clean(block.get_text(" "))
        match = _DATE.search(text)
        if match:
            try:
                updated_text, updated = text, date(*(int(g) for g in match.groups()))
                break
            except ValueError:
                continue
    return {
        "id": _clean(node.get("data-id")), "type_id": _clean(node.get("data-typ-id")) or None,
        "name": _clean(name.get_text(" ")) if name else "", "type_label": _clean(kind.get_text(" ")) if kind else "",
        "address_lines": [_clean(s.get_text(" ")) for s in spans], "email": linked("Email", "mailto:"),
        "phone_text": phone_text, "www": linked("Strona www", None),
        "updated_text": updated_text, "updated": updated,
    }


# -- cases --------------------------------------------------------------------------------------------

def _documents() -> list[Path]:
    paths = sorted(FIXTURES.glob("*.html")) + list(REAL_FRAGMENTS.values()) + sorted(DEMO.rglob("*.html"))
    assert len(paths) >= 6
    return paths


REAL_3499 = REAL_FRAGMENTS["3499"].read_text(encoding="utf-8")
HOSTILE = {
    "empty": "", "blank": "  \n", "no units": "<p>x</p>", "nul": "\x00", "not utf-8": b"\xff\xfe \x9c\xa5",
    "windows-1250": REAL_3499.encode("cp1250", "replace"),
    "markup in the name": REAL_3499.replace("Miejski", "<!-- c -->Miej<script>alert(1)</script>ski<b>X</b>"),
    "escaped markup": REAL_3499.replace("Zabłudowie", "Zab&lt;script&gt;&amp;łudowie<style>p{}</style>"),
    "template and noscript": REAL_3499.replace("ul. Rynek 8", "ul.\tRynek\r\n 8 <template>t</template><noscript>n</noscript>"),
    "impossible date": REAL_3499.replace("2018-02-05", "2018-13-45"),
    "duplicate attribute": REAL_3499.replace('data-id="3499"', 'data-id="3499" data-id="1"'),
    "class spacing": REAL_3499.replace('class="jednostka', 'class="x  jednostka'),
    "cut in half": REAL_3499[: len(REAL_3499) // 2], "three times": REAL_3499 * 3,
    "xml declaration": '<?xml version="1.0" encoding="utf-8"?>' + REAL_3499,
    "unclosed divs": REAL_3499.replace("</div>", "", 3),
}


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_fixture_and_real_capture_parses_as_before(path):
    content = path.read_bytes()
    expected = bs4_parse_fragment(content)
    assert parse_fragment(content) == expected
    assert parse_fragment(content.decode("utf-8")) == expected
    assert expected or path.suffix != ".html"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_markup_parses_as_before(name):
    assert parse_fragment(HOSTILE[name]) == bs4_parse_fragment(HOSTILE[name])


def test_random_cuts_of_the_real_fragment_parse_as_before():
    rng = random.Random(14)
    for _ in range(60):
        a, b = sorted(rng.sample(range(len(REAL_3499)), 2))
        html = REAL_3499[:a] + REAL_3499[b:]
        assert parse_fragment(html) == bs4_parse_fragment(html)


def test_only_text_leaves_the_parser():
    [unit] = parse_fragment(HOSTILE["markup in the name"])
    assert unit["name"].startswith("Miej ski X Ośrodek")    # tags gone, script content dropped
    assert "alert" not in unit["name"] and "<" not in unit["name"]
    [unit] = parse_fragment(HOSTILE["escaped markup"])
    assert "Zab<script>&łudowie" in unit["name"]           # escaped text stays text (escaped again on output)
    assert "p{}" not in unit["name"]
    assert REAL.exists()
