"""Where the wojewodas publish their lists of institutions: the DPS register, ŚDS and OPS lists, and
mixed support bases. One entry per published list; each is its own source (own ScrapeRun), like the
CIS/KIS registers in scrapers.cis_kis_config.

* ``key``: the source key, "<kind>-<woj>" ("dps-12", "sds-12", "ops-24", "przemoc-12"); the operator's
  `wsparcie import-document --source KEY` of a hand-downloaded file is the next run of the same source.
* ``kind``: the `parse_register` kind; "mixed" types each row by its own name.
* ``base_url`` + ``document_paths``: direct links to the document (the URL recorded next to the real file);
  ``landing_paths`` + ``rule``: a page whose links are searched for the document (offices move attachments
  every month, so a landing page is the durable address). Override the host with ``<KEY>_BASE_URL``
  (e.g. ``DPS_04_BASE_URL``, read by catalog.settings into ``settings.source_base_urls["dps_04"]``).
* ``newest_only``: the landing page lists monthly versions of one list: only the newest as-of is read.
* ``verified``: False where the address was not seen with the document (guessed from the office's site
  layout); such entries must be checked at the first online run, as for the CIS/KIS registers.
* ``bundled``: the real copy in data/registries/real/wojewoda/ that the offline snapshot imports.
"""
from __future__ import annotations

from dataclasses import dataclass

from catalog.settings import Settings
from catalog.voivodeships import by_code, voivodeships
from scrapers.cis_kis_config import DocumentRule


@dataclass(frozen=True)
class ListConfig:
    key: str
    woj: str
    kind: str                              # parse_register kind: dps / sds / ops / mixed
    office: str                            # "Małopolski Urząd Wojewódzki"
    title: str                             # shown on the sources page
    base_url: str
    document_paths: tuple[str, ...] = ()
    landing_paths: tuple[str, ...] = ()
    rule: DocumentRule | None = None
    newest_only: bool = False
    verified: bool = False
    bundled: tuple[str, ...] = ()          # paths under data/registries/real/, oldest first
    notes: str = ""

    @property
    def settings_key(self) -> str:
        return self.key.replace("-", "_")

    def base(self, settings: Settings) -> str:
        return (settings.source_base_urls.get(self.settings_key) or self.base_url).rstrip("/")

    @property
    def documents(self) -> tuple[DocumentRule, ...]:
        """For scrapers.cis_kis.find_documents: the rule that picks this list's links on a landing page."""
        return (self.rule,) if self.rule else ()

    @property
    def url(self) -> str:
        paths = self.document_paths or self.landing_paths
        return self.base_url + (paths[0] if paths else "/")


_DPS_RULE = DocumentRule("dps", r"(wykaz|rejestr|lista|wolne).{0,60}(dom|dps)|(dom|dps).{0,60}(wykaz|rejestr|wolnych)")
_SDS_RULE = DocumentRule("sds", r"(wykaz|lista).{0,60}(srodowiskow|sds)|(srodowiskow|sds).{0,60}(wykaz|lista)")

# The 16 wojewodas keep the DPS register (ustawa o pomocy społecznej, art. 57); where the register was not
# seen, the gov.pl page is guessed from the office's layout and marked unverified.
_GOV_SLUGS = {v.code: v.office_slug for v in voivodeships()}


def _office(woj: str) -> str:
    return by_code(woj).office


def _guessed_dps(woj: str) -> ListConfig:
    return ListConfig(
        f"dps-{woj}", woj, "dps", _office(woj), f"Rejestr domów pomocy społecznej — {_office(woj)}",
        "https://www.gov.pl", landing_paths=(f"/web/uw-{_GOV_SLUGS[woj]}/domy-pomocy-spolecznej",),
        rule=_DPS_RULE, newest_only=True,
    )


_KNOWN: tuple[ListConfig, ...] = (
    ListConfig(
        "ops-24", "24", "ops", _office("24"), "Wykaz ośrodków pomocy społecznej — Śląski Urząd Wojewódzki",
        "https://www.katowice.uw.gov.pl", document_paths=("/download/441",), verified=True,
        bundled=("wojewoda/slaskie/ops_wykaz_2023-07-18.pdf",),
        notes="'OPS_PCPR - wykaz', every gmina of the voivodeship (katowice.uw.gov.pl/download/441).",
    ),
    ListConfig(
        "dps-12", "12", "dps", _office("12"), "Wykaz domów pomocy społecznej — Małopolski Urząd Wojewódzki",
        "https://www.malopolska.uw.gov.pl", document_paths=("/doc/wykaz%20dps.pdf",), verified=True,
        bundled=("wojewoda/malopolskie/dps_wykaz_2026-03-27.pdf",),
        notes="PDF made from Excel, places per type of home (malopolska.uw.gov.pl/doc/wykaz dps.pdf).",
    ),
    ListConfig(
        "sds-12", "12", "sds", _office("12"),
        "Wykaz środowiskowych domów samopomocy — Małopolski Urząd Wojewódzki",
        "https://www.malopolska.uw.gov.pl", landing_paths=("/pomoc-spoleczna/srodowiskowe-domy-samopomocy",),
        rule=_SDS_RULE, newest_only=True,
        bundled=("wojewoda/malopolskie/sds_wykaz_2026-05-04.xlsx",),
        notes="XLSX as of 4 May 2026; the page address is not recorded with the file.",
    ),
    ListConfig(
        "przemoc-12", "12", "mixed", _office("12"),
        "Baza instytucji pomagających osobom doznającym przemocy domowej — Małopolski Urząd Wojewódzki",
        "https://www.malopolska.uw.gov.pl", landing_paths=("/przeciwdzialanie-przemocy-domowej",),
        rule=DocumentRule("mixed", r"baza.{0,40}instytucji|przemoc"), newest_only=True,
        bundled=("wojewoda/malopolskie/przemoc_baza_instytucji_2024-02-01.pdf",),
        notes="OPS, PCPR, OIK, consultation points, NGOs, police per powiat and gmina; each row typed by name.",
    ),
    ListConfig(
        "dps-04", "04", "dps", _office("04"),
        "Wolne miejsca w domach pomocy społecznej — Kujawsko-Pomorski Urząd Wojewódzki",
        "https://bip.bydgoszcz.uw.gov.pl", landing_paths=("/domy-pomocy-spolecznej",), rule=_DPS_RULE,
        newest_only=True,
        bundled=("wojewoda/kujawsko-pomorskie/dps_wolne_miejsca_2026-06-20.xls",
                 "wojewoda/kujawsko-pomorskie/dps_wolne_miejsca_2026-07-05.xls",
                 "wojewoda/kujawsko-pomorskie/dps_wolne_miejsca_2026-08-05.xls"),
        notes="Monthly XLS of places and free places, no addresses (powiat only): placed by name + powiat.",
    ),
    ListConfig(
        "dps-18", "18", "dps", _office("18"),
        "Wykaz domów pomocy społecznej i wolnych miejsc — Podkarpacki Urząd Wojewódzki",
        "https://rzeszow.uw.gov.pl", landing_paths=("/domy-pomocy-spolecznej/",), rule=_DPS_RULE,
        newest_only=True, bundled=("wojewoda/podkarpackie/dps_frekwencja_2026-06-20.xls",),
        notes="XLS with free places and the head of each home; the page address is not recorded.",
    ),
    ListConfig(
        "sds-18", "18", "sds", _office("18"), "Wykaz środowiskowych domów samopomocy — Podkarpacki Urząd Wojewódzki",
        "https://rzeszow.uw.gov.pl", document_paths=("/wp-content/uploads/2024/10/Wykaz-SDS.doc",), verified=True,
        bundled=("wojewoda/podkarpackie/sds_wykaz_2024-10.doc",),
        notes="Word 97–2003 .doc (rzeszow.uw.gov.pl/wp-content/uploads/2024/10/Wykaz-SDS.doc).",
    ),
)

CONFIGS: dict[str, ListConfig] = {c.key: c for c in _KNOWN}
for _woj in _GOV_SLUGS:
    CONFIGS.setdefault(f"dps-{_woj}", _guessed_dps(_woj))
CONFIGS = dict(sorted(CONFIGS.items()))

GROUPS: dict[str, list[str]] = {
    "dps": [k for k in CONFIGS if k.startswith("dps-")],
    "sds": [k for k in CONFIGS if k.startswith("sds-")],
    "ops-lists": [k for k in CONFIGS if k.startswith(("ops-", "przemoc-"))],
}


def config(key: str) -> ListConfig:
    return CONFIGS[key]
