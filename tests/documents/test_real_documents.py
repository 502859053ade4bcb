"""parse_register on the real documents of four urzędy wojewódzkie (data/registries/real/wojewoda, the copy the offline snapshot ships).

Every expected value below was read from the document itself, not from the parser: `pdfplumber` page text
for the PDFs, xlrd / openpyxl cell values for the sheets, `antiword` text for the .doc. Counts:

* Śląskie OPS: 167 rows under one header (every gmina of the voivodeship).
* Małopolska DPS: l.p. "1." to "91.".
* Małopolska ŚDS: l.p. 1–58 (o zasięgu gminnym) and 59–87 (powiatowym), 2 Kluby Samopomocy, and a
  "Miejsca całodobowe" row that repeats ŚDS w Bieczu (its 4 places are part of its 41): 89 institutions.
* Violence-support base: 428 rows with text below the header and section rows, 1 of them the header;
  4 rows list numbered units ("1.GOPS … 2. Gminna Komisja … 3. … 4. …": Iwkowa 4, Wiśniowa 3, Radgoszcz 2,
  Stryszawa 2, so +7); 8 repeat a unit already listed under the same name and address (Mszana Dolna,
  Olkusz, Kraków …): 427 + 7 - 8 = 426.
* Kujawsko-Pomorskie: 50 home rows under 6 type sections; DPS w Chełmnie appears under 3 types and DPS
  Toruń, Szosa Chełmińska 220 under 2: 47 homes in each month.
* Podkarpackie DPS: l.p. 1–47 (powiat homes), 1–5 (gmina homes), 1 (a congregation's); a second or third
  type of home repeats the l.p. on the next row: 53 homes.
* Podkarpackie ŚDS (.doc): l.p. 1–72 with 56 and 65 absent from the document, then 1 Klub Samopomocy: 71.
"""
from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from scrapers.documents import RegisterRow, UnreadableDocument, parse_register
from scrapers.documents import doc as doc_reader

REAL = Path(__file__).resolve().parents[2] / "data" / "registries" / "real" / "wojewoda"
TODAY = date(2026, 8, 1)
needs_antiword = pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword not installed")


def parse(path: str, kind: str) -> list[RegisterRow]:
    file = REAL / path
    return parse_register(file.read_bytes(), file.name, kind, TODAY)


def one(rows: list[RegisterRow], **wanted) -> RegisterRow:
    found = [r for r in rows if all(getattr(r, key) == value for key, value in wanted.items())]
    assert len(found) == 1, (wanted, [r.name for r in found])
    return found[0]


def e164(row: RegisterRow) -> list[str | None]:
    return [p["e164"] for p in row.phones]


@pytest.fixture(scope="module")
def slaskie_ops() -> list[RegisterRow]:
    return parse("slaskie/ops_wykaz_2023-07-18.pdf", "ops")


def test_slaskie_ops_every_gmina(slaskie_ops):
    rows = slaskie_ops
    assert len(rows) == 167
    first, last = rows[0], rows[-1]
    assert (first.name, first.powiat_name, first.gmina_name) == (
        "Miejski Ośrodek Pomocy Społecznej w Będzinie", "będziński", "Będzin")
    assert (first.street, first.building, first.postal_code, first.locality) == (
        "ul. 11 Listopada", "1", "42-500", "Będzin")
    assert e164(first) == ["+48322962131"] and first.email == "sekretariat@mops.bedzin.pl"
    assert (last.name, last.street, last.building, last.postal_code) == (
        "Miejski Ośrodek Pomocy Społecznej w Żywcu", "ul. Zamkowa", "10", "34-300")
    # Rows of an OPS list are OPS unless the row says otherwise: three gminas run a CUS instead.
    assert {r.name for r in rows if r.type == "cus"} == {
        "Centrum Usług Społecznych w Bojszowach", "Centrum Usług Społecznych w Goleszowie",
        "Centrum Usług Społecznych w Łaziskach Górnych"}
    assert {r.type for r in rows} == {"ops", "cus"}


@pytest.fixture(scope="module")
def malopolska_dps() -> list[RegisterRow]:
    return parse("malopolskie/dps_wykaz_2026-03-27.pdf", "dps")


def test_malopolska_dps_types_places_contacts(malopolska_dps):
    rows = malopolska_dps
    assert len(rows) == 91
    assert {r.as_of for r in rows} == {date(2026, 3, 27)}        # "wg stanu na 27.03.2026" above the table
    bochnia = rows[0]
    assert (bochnia.street, bochnia.building, bochnia.postal_code, bochnia.locality) == (
        "ul. Karolina", "14G", "32-700", "Bochnia")
    assert bochnia.building != "pomocy"          # the "typ domu" column no longer spills into the number
    assert bochnia.home_types == ["podeszly-wiek", "przewlekle-psychicznie-chorzy"]
    assert bochnia.places_total == 157           # "… w podeszłym wieku 90 miejsc … chorych 67 miejsc"
    assert e164(bochnia) == ["+48146125990"] and bochnia.email == "dps@powiat.bochnia.pl"
    assert bochnia.epuap == "/dpsbochnia/SkrytkaESP"
    assert bochnia.operator_name == "Powiat Bocheński Starostwo Powiatowe w Bochni"
    assert bochnia.operator_address == "ul. K. Wielkiego 31, 32-700 Bochnia"
    borzecin = one(rows, postal_code="32-825")   # 48 + 50 + 2 short-term places in one wrapped cell
    assert borzecin.places_total == 100 and borzecin.home_types == ["podeszly-wiek", "niepelnosprawni-fizycznie"]
    praska = one(rows, street="ul. Praska", building="25")   # "(łącznie 100)" wins over the parts
    assert praska.places_total == 100 and len(praska.home_types) == 3
    farma = one(rows, places_total=10)                       # letter-spaced "d l a o s ó b d o r o s ły c h"
    assert farma.home_types == ["dorosli-niepelnosprawni-intelektualnie"]
    dabrowa = one(rows, postal_code="33-200")                # house number wrapped onto its own line
    assert (dabrowa.street, dabrowa.building) == ("ul. Św. Br. A. Chmielowskiego", "16")
    wapienne = one(rows, postal_code="38-307")                # "w Wapiennem, Wapienne 70" on one line
    assert (wapienne.name, wapienne.street, wapienne.building) == ("Dom Pomocy Społecznej w Wapiennem", "Wapienne", "70")
    last = rows[-1]
    assert (last.locality, last.building, last.places_total) == ("Niepołomice", "287", 24)
    assert all(r.type == "dps" for r in rows)


@pytest.fixture(scope="module")
def malopolska_sds() -> list[RegisterRow]:
    return parse("malopolskie/sds_wykaz_2026-05-04.xlsx", "sds")


def test_malopolska_sds_sections_branches_and_repeats(malopolska_sds):
    rows = malopolska_sds
    assert len(rows) == 89
    assert sum(r.type == "sds" for r in rows) == 87
    assert [r.name for r in rows if r.type != "sds"] == ["Klub Samopomocy", 'Klub Samopomocy "Cafe Hamlet"']
    assert {r.type for r in rows if r.type != "sds"} == {"klub-samopomocy"}
    assert {r.as_of for r in rows} == {date(2026, 5, 4)}           # title row: "wg stanu na 4 maja 2026 r."
    assert sum(r.scope == "gmina" for r in rows) == 58 and sum(r.scope == "powiat" for r in rows) == 29
    biecz = rows[0]
    assert (biecz.name, biecz.gmina_name, biecz.powiat_name) == ("ŚDS w Bieczu", "Biecz", "gorlicki")
    assert (biecz.street, biecz.building, biecz.postal_code) == ("ul. Parkowa", "1", "38-340")
    assert [(b["street"], b["building"], b["postal_code"], b["locality"]) for b in biecz.branches] == [
        ("ul. Wyszyńskiego", "18", "38-300", "Gorlice")]
    assert biecz.home_types == ["B", "C"] and biecz.places_total == 41      # the 24-hour row adds no places
    assert e164(biecz) == ["+48134406122", "+48185346101"]
    assert (biecz.epuap, biecz.e_delivery) == ("/SDSwBieczu/domyslna", "AE:PL-66073-76945-GHIEH-20")
    assert biecz.operator_name.startswith("Stowarzyszeniu na Rzecz Pomocy Rodzinie")   # "… zlecił Stowarzyszeniu"
    assert biecz.operator_address.startswith("ul. Kazimierza Wielkiego 31")
    assert len(biecz.source_rows) == 2
    # Same address, two homes: the gmina's (20 places) and the powiat's (30), told apart by their ePUAP.
    winiary = [r for r in rows if r.locality == "Pałecznica" and r.building == "63"]
    assert sorted((r.scope, r.places_total) for r in winiary) == [("gmina", 20), ("powiat", 30)]
    vita = one(rows, name='ŚDS "Vita"')
    assert [b["street"] for b in vita.branches] == ["os. Słoneczne", "al. Grottgera"]
    assert vita.home_types == ["A", "B", "C"] and vita.places_total == 102


@pytest.fixture(scope="module")
def violence_base() -> list[RegisterRow]:
    return parse("malopolskie/przemoc_baza_instytucji_2024-02-01.pdf", "mixed")


def test_violence_base_counts_per_type(violence_base):
    # The multi-type base types the units residents look for, not only social-assistance offices: police,
    # consultation points, alcohol commissions, NGOs. Each list below was read name by name.
    counts = Counter(r.type for r in violence_base)
    assert counts == {"ops": 172, "punkt-konsultacyjny": 84, "other": 79, "gkrpa": 23, "oik": 18, "pcpr": 15,
                      "organizacja-pozarzadowa": 15, "policja": 12, "cus": 6, "dps": 1, "kis": 1}
    police = [r.name for r in violence_base if r.type == "policja"]
    assert all(re.match(r"(Komisariat|Komenda \w+|Posterunek) Policji", name) for name in police)
    assert "Komisariat Policji w Kalwarii Zebrzydowskiej" in police
    commissions = [r.name for r in violence_base if r.type == "gkrpa"]
    assert all("Alkohol" in name or "GKRPA" in name for name in commissions)
    assert one(violence_base, name="Gminna Komisja ds. Profilaktyki i Rozwiązywania Problemów Alkoholowych "
                                   "w Rzezawie").type == "gkrpa"
    points = [r.name for r in violence_base if r.type == "punkt-konsultacyjny"]
    assert all(re.search(r"(?i)pu\w?nkt|konsultacyjn", name) for name in points)
    # A unit attached to another ("… działający przy …") is the unit, not its host; a KIS run by an
    # association is a KIS; a foundation's own help point is the foundation's.
    assert one(violence_base, name='Andrychowskie Stowarzyszenie Trzeźwości Klub Integracji Społecznej "Watra').type == "kis"
    assert {r.type for r in violence_base if r.name.startswith("Zespół Interdyscyplinarny")} == {"other"}


def test_violence_base_types_per_row(violence_base):
    rows = violence_base
    assert len(rows) == 426
    assert all(r.name for r in rows) and sum(1 for r in rows if not r.postal_code) <= 10
    assert {r.as_of for r in rows} == {date(2024, 2, 1)}             # "… – stan na 1 lutego 2024 r."
    oik = rows[0]                                                     # 2 pt type: lines were interleaved before
    assert (oik.name, oik.type, oik.powiat_name) == ("Ośrodek Interwencji Kryzysowej w Bochni", "oik", "bocheński")
    assert (oik.street, oik.building, oik.postal_code) == ("ul. Karolina", "14D", "32-700")
    assert e164(oik)[:2] == ["+48146112892", "+48503389447"] and oik.email == "oik@powiat.bochnia.pl"
    mops = rows[1]
    assert (mops.name, mops.type, mops.gmina_name) == ("Miejski Ośrodek Pomocy Społecznej w Bochni", "ops", "Bochnia")
    pcpr = one(rows, name="Powiatowe Centrum Pomocy Rodzinie (Ośrodek Interwencji Kryzysowej)")
    assert (pcpr.type, pcpr.powiat_name, pcpr.gmina_name) == ("pcpr", "brzeski", None)   # powiat from the section row
    assert one(rows, name="Centrum Usług Społecznych w Tarnowie").type == "cus"
    iwkowa = [r for r in rows if r.postal_code == "32-861"]        # one row, four numbered units
    assert [(r.name, r.type) for r in iwkowa] == [
        ("Gminny Ośrodek Pomocy Społecznej w Iwkowej", "ops"),
        ("Gminna Komisja Rozwiązywania Problemów Alkoholowych", "gkrpa"),
        ("Zespół Interdyscyplinarny", "other"), ("Poradnia Rodzinna przy Parafii w Iwkowej", "other")]
    assert e164(iwkowa[3]) == ["+48695916898"] and iwkowa[3].email == "grzymek@wp.pl"
    assert one(rows, name='Telefon zaufania "Życzliwa dłoń"').phones == [{"raw": "733 712 112", "e164": "+48733712112"}]
    # The "Powiat limanowski" heading reads "… 18:00-20:00. Powiat limanowski": the row above overflows into
    # its band. Its rows are filed under their own powiat, not the krakowski section before it.
    per_powiat = Counter(r.powiat_name for r in rows)
    assert (per_powiat["krakowski"], per_powiat["limanowski"]) == (54, 46)
    assert {r.powiat_name for r in rows if r.postal_code == "34-600"} == {"limanowski"}   # Limanowa
    assert {r.powiat_name for r in rows if r.gmina_name == "Mszana Dolna"} == {"limanowski"}
    # A page whose empty "Powiat" column was not drawn is realigned, not dropped.
    igolomia = one(rows, email="gops_igwa@wp.pl")
    assert (igolomia.name, igolomia.gmina_name, igolomia.postal_code) == (
        "Gminny Ośrodek Pomocy Społecznej", "Igołomia-Wawrzeńczyce", "32-125")


KP = ("kujawsko-pomorskie/dps_wolne_miejsca_2026-06-20.xls", "kujawsko-pomorskie/dps_wolne_miejsca_2026-07-05.xls",
      "kujawsko-pomorskie/dps_wolne_miejsca_2026-08-05.xls")


@pytest.fixture(scope="module")
def kp_months() -> list[list[RegisterRow]]:
    return [parse(path, "dps") for path in KP]


def test_kujawsko_pomorskie_no_address_list(kp_months):
    rows = kp_months[0]
    assert len(rows) == 47
    assert {r.as_of for r in rows} == {date(2026, 5, 31)}            # cell B1: "stan na dzień 31 maja 2026 r."
    zakrzewo = rows[0]                                               # empty column A, name + phone in one cell
    assert (zakrzewo.name, zakrzewo.powiat_name) == ("Dom Pomocy Społecznej w Zakrzewie", "aleksandrowski")
    assert e164(zakrzewo) == ["+48542720015"] and zakrzewo.postal_code is None
    assert zakrzewo.home_types == ["przewlekle-psychicznie-chorzy"]  # from the section row above
    # Month columns I–XII: the latest filled month (V): 100 residents, 7 waiting, 0 free of 100 places.
    assert (zakrzewo.places_total, zakrzewo.residents, zakrzewo.waiting, zakrzewo.places_free) == (100, 100, 7, 0)
    chelmno = one(rows, name="Dom Pomocy Społecznej w Chełmnie")   # one home under three type sections
    assert chelmno.home_types == ["dzieci-niepelnosprawne-intelektualnie", "przewlekle-somatycznie-chorzy",
                                  "dorosli-niepelnosprawni-intelektualnie"]
    assert chelmno.places_total == 19 + 37 + 87 and chelmno.places_free == 0 + 2 + 0
    torun = [r for r in rows if r.powiat_name == "Toruń"]
    assert sorted(r.street for r in torun) == ["ul. Rydygiera", "ul. Szosa Chełmińska"]
    assert not any(r.name.upper().startswith("RAZEM") or "sporządziła" in r.name for r in rows)
    # Name, street, a second site and phones in one cell: "…, ul. Parkowa 12 / z ZTO V przy ul.Armii Krajowej 39".
    parkowa = one(rows, street="ul. Parkowa")
    assert (parkowa.name, parkowa.building, e164(parkowa)) == ("Dom Pomocy Społecznej w Grudziądzu", "12", ["+48564517520"])
    assert [(b["street"], b["building"]) for b in parkowa.branches] == [("ul. Armii Krajowej", "39")]
    assert rows[-1].name == "Dom Pomocy Społecznej w Podobowicach"
    assert rows[-1].home_types == ["niepelnosprawni-fizycznie"]


def test_kujawsko_pomorskie_months_same_homes_different_free_places(kp_months):
    june, july, august = kp_months
    assert [(r.name, r.street, r.powiat_name) for r in june] == [(r.name, r.street, r.powiat_name) for r in july] \
        == [(r.name, r.street, r.powiat_name) for r in august]
    assert [r.as_of for r in (june[0], july[0], august[0])] == [date(2026, 5, 31), date(2026, 6, 30), date(2026, 6, 30)]
    changed = [(a.name, a.places_free, b.places_free) for a, b in zip(june, july, strict=True) if a.places_free != b.places_free]
    assert ("Dom Pomocy Społecznej w Zakrzewie", 0, 1) in changed and len(changed) >= 5
    assert [r.places_total for r in june] == [r.places_total for r in july]


@pytest.fixture(scope="module")
def podkarpackie_dps() -> list[RegisterRow]:
    return parse("podkarpackie/dps_frekwencja_2026-06-20.xls", "dps")


def test_podkarpackie_dps_continuation_rows(podkarpackie_dps):
    rows = podkarpackie_dps
    assert len(rows) == 53
    assert {r.as_of for r in rows} == {date(2026, 5, 31)}            # "ilość wolnych miejsc wg. 31.05.2026"
    moczary = rows[0]
    # "Moczary 41, 38-700 Ustrzyki Dolne": catalog.address reads a village next to another post town as a street.
    assert (moczary.name, moczary.street, moczary.building, moczary.postal_code, moczary.locality) == (
        "Dom Pomocy Społecznej w Moczarach", "Moczary", "41", "38-700", "Ustrzyki Dolne")
    assert (moczary.places_total, moczary.places_free, moczary.head) == (146, 10, "Stanisław Leszega")
    assert e164(moczary) == ["+48134611107", "+48134613482"] and moczary.powiat_name == "bieszczadzki"
    spokojna = one(rows, name='Dom Pomocy Społecznej "Spokojna Przystań"')   # two rows, two types of home
    assert spokojna.home_types == ["podeszly-wiek", "przewlekle-somatycznie-chorzy"]
    assert (spokojna.places_total, spokojna.places_free) == (56 + 32, 14 + 2)
    stara_wies = rows[1]                                              # "/Zgromadzenie …/" line in the name cell
    assert stara_wies.operator_name == "Zgromadzenie Sióstr Służebniczek NMP NP"
    sucharskiego = one(rows, street="ul. mjr H. M Sucharskiego")
    assert [(b["street"], b["building"], b["postal_code"]) for b in sucharskiego.branches] == [
        ("ul. Łabędzia", "9", "35-207")]
    assert one(rows, postal_code="38-213").gmina_name == "Kołaczyce"   # the second part names gminas
    assert rows[-1].name == 'Dom Pomocy Społecznej "u Aniołów"' and rows[-1].places_total == 18


@needs_antiword
def test_podkarpackie_sds_word97_doc():
    rows = parse("podkarpackie/sds_wykaz_2024-10.doc", "sds")
    assert len(rows) == 71
    first = rows[0]
    assert (first.name, first.street, first.building, first.postal_code, first.locality) == (
        "Środowiskowy Dom Samopomocy", "ul. Wyzwolenia", "7", "38-700", "Ustrzyki Dolne")
    assert e164(first) == ["+48134611947"] and first.email == "sekretariat@sds.ustrzyki-dolne.pl"
    assert first.head == "Ryszard Urban (dyrektor)"
    brzozow = rows[1]                                          # "POWIAT BRZOZOWSKI" band above it
    assert brzozow.powiat_name == "brzozowski" and brzozow.emails == ["bs@sdsbrzozow.pl", "kontakt@sdsbrzozow.pl"]
    krosno = [r for r in rows if r.powiat_name == "Krosno"]  # "MIASTO KROSNO": a city with powiat rights
    assert len(krosno) == 2
    klub = rows[-1]
    assert (klub.name, klub.type, klub.postal_code) == ("Klub Samopomocy „Integra”", "klub-samopomocy", "35-016")
    # Where antiword lost a heading (a band reading only "lp."), the rows below have no section powiat
    # rather than the previous section's: Przeworsk is not in powiat niżański, Ropczyce not in przemyski.
    assert [(r.postal_code, r.powiat_name) for r in rows if r.postal_code in ("37-200", "39-100")] == [
        ("37-200", None), ("39-100", None)]
    assert first.powiat_name is None
    assert one(rows, email="info@sdsnisko.pl").powiat_name == "niżański"


def test_doc_without_antiword_names_the_package(monkeypatch):
    monkeypatch.setattr(doc_reader.shutil, "which", lambda name: None)
    data = (REAL / "podkarpackie" / "sds_wykaz_2024-10.doc").read_bytes()
    with pytest.raises(UnreadableDocument, match="antiword"):
        parse_register(data, "wykaz.doc", "sds", TODAY)


def test_untrusted_cells_stay_text(tmp_path):
    """Template syntax, markup, formulas and bidi controls from a source are kept as inert text."""
    import openpyxl
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Lp.", "Nazwa i siedziba DPS", "powiat", "ilość miejsc", "typ domu"])
    sheet.append(["1", "{{ 7*7 }} <script>x</script>\nul. Długa 1\n38-440 Iwonicz", "@SUM(A1)", "10",
                  "dla osób w podeszłym wieku\u202e"])
    sheet.append(["2", "Dom Pomocy Społecznej\nul. Krótka 2\n38-440 Iwonicz", "krośnieński", "5", ""])
    sheet.append(["3", "Dom Pomocy Społecznej\nul. Wąska 3\n38-440 Iwonicz", "krośnieński", "7", ""])
    path = tmp_path / "lista.xlsx"
    workbook.save(path)
    rows = parse_register(path.read_bytes(), path.name, "dps", TODAY)
    assert rows[0].name == "{{ 7*7 }} <script>x</script>" and rows[0].powiat_name == "@SUM(A1)"
    assert rows[0].home_types == ["podeszly-wiek"]
