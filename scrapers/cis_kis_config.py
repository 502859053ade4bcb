"""Where each wojewoda publishes the CIS and KIS registers, and how to find the document(s).

One entry per voivodeship (TERYT code). To add or fix a register, edit its entry only:

* ``base_url``: the office's host; override it with the env var ``CIS_KIS_<woj>_BASE_URL``
  (read by catalog.settings into ``settings.source_base_urls["cis_kis_<woj>"]``).
* ``landing_paths``: page(s) on that host listing the register(s).
* ``documents``: rules saying which links on a landing page are register documents and what they hold.
  A rule with ``inline=True`` means the register is an HTML table on the landing page itself.
* ``formats``: the format family the office is known (or expected) to use; informative, the readers
  detect the real format from the bytes.
* ``verified``: False where the URL comes from a procedure page or a naming pattern, not from a seen
  register (REGISTRIES.md §3.3); such entries must be checked at the first online run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.settings import Settings

# File extensions the document readers understand (scrapers.documents).
DOCUMENT_EXTENSIONS = ("pdf", "docx", "doc", "xlsx", "xls", "ods", "odt", "csv", "htm", "html", "rtf")

_ANY_REGISTER = r"rejestr|wykaz|lista|zestawienie"


@dataclass(frozen=True)
class DocumentRule:
    kind: str                           # "cis", "kis" or "cis+kis" (one document holding both)
    pattern: str = _ANY_REGISTER        # regex on the link text + href (case-insensitive, folded)
    inline: bool = False                # the landing page itself carries the register table

    def matches(self, text: str) -> bool:
        return re.search(self.pattern, text, re.IGNORECASE) is not None


CIS_RULE = DocumentRule("cis", r"(rejestr|wykaz|lista).{0,60}(centr|cis\b)|(centr|cis\b).{0,60}(rejestr|wykaz)")
KIS_RULE = DocumentRule("kis", r"(rejestr|wykaz|lista).{0,60}(klub|kis\b)|(klub|kis\b).{0,60}(rejestr|wykaz)")


@dataclass(frozen=True)
class RegisterConfig:
    woj: str                            # TERYT code, "20"
    office: str                         # "Wojewoda Podlaski"
    base_url: str
    landing_paths: tuple[str, ...]
    documents: tuple[DocumentRule, ...] = (CIS_RULE, KIS_RULE)
    formats: tuple[str, ...] = ("pdf",)
    verified: bool = False
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def source_key(self) -> str:
        return f"cis-kis-{self.woj}"

    @property
    def settings_key(self) -> str:
        return f"cis_kis_{self.woj}"

    def base(self, settings: Settings) -> str:
        return (settings.source_base_urls.get(self.settings_key) or self.base_url).rstrip("/")

    def landing_urls(self, settings: Settings) -> list[str]:
        base = self.base(settings)
        return [base + path for path in self.landing_paths]


def _gov(slug: str, path: str) -> tuple[str, tuple[str, ...]]:
    # Offices that moved to gov.pl publish under /web/uw-<region>/...; the exact page is unverified.
    return "https://www.gov.pl", (f"/web/uw-{slug}/{path}",)


CONFIGS: dict[str, RegisterConfig] = {
    "02": RegisterConfig(
        "02", "Wojewoda Dolnośląski", "https://bip.duw.pl",
        (("/bip/rejestry-ewidencje-arc/wydzial-zdrowia-i-polit/rejestry/2048,Rejestr-klubowcentrow-integracji-"
         "spolecznej.html"),),
        documents=(DocumentRule("cis+kis"),), formats=("doc", "pdf"), verified=True,
        notes="One BIP page for KIS and CIS with one attachment (REGISTRIES.md §3.3, P10); archived path.",
    ),
    "04": RegisterConfig(
        "04", "Wojewoda Kujawsko-Pomorski", *_gov("kujawsko-pomorski", "rejestry-cis-i-kis"),
        formats=("pdf",),
    ),
    "06": RegisterConfig(
        "06", "Wojewoda Lubelski", *_gov("lubelski", "rejestry-cis-i-kis"), formats=("pdf",),
        notes="LUW accepts CIS applications in fixed windows (P17); register page not seen.",
    ),
    "08": RegisterConfig(
        "08", "Wojewoda Lubuski", "https://bip.lubuskie.uw.gov.pl",
        ("/rynek_pracy/przyznanie_statusu_centrum_integracji_spolecznej",
         "/rynek_pracy/Rejestracja_Klubu_Integracji_Spolecznej.html"),
        formats=("pdf", "docx"), notes="Service cards seen (P11, P12); the register link on them is unseen.",
    ),
    "10": RegisterConfig(
        "10", "Wojewoda Łódzki", "https://bip.lodzkie.eu", ("/page/4288,kluby-integracji-spolecznej.html",),
        formats=("xlsx", "pdf"), notes="KIS procedure page seen (P16).",
    ),
    "12": RegisterConfig(
        "12", "Wojewoda Małopolski", "https://bip.malopolska.pl", ("/muw,a,rejestr-cis-i-kis.html",),
        formats=("xlsx", "pdf"),
        notes="BIP renders with JavaScript; attachments also via /api/articles/<id> (REGISTRIES.md §3.3).",
    ),
    "14": RegisterConfig(
        "14", "Wojewoda Mazowiecki", "https://www.gov.pl", ("/web/uw-mazowiecki/rejestry-i-wykazy",),
        formats=("xlsx", "pdf"), notes="MUW 'Rejestry i wykazy' section (P25); register URL unknown.",
    ),
    "16": RegisterConfig("16", "Wojewoda Opolski", *_gov("opolski", "rejestry-cis-i-kis"), formats=("pdf",)),
    "18": RegisterConfig(
        "18", "Wojewoda Podkarpacki", *_gov("podkarpacki", "rejestry-cis-i-kis"), formats=("pdf", "ods"),
    ),
    "20": RegisterConfig(
        "20", "Wojewoda Podlaski", *_gov("podlaski", "rejestry-cis-i-kis"), formats=("html",),
        documents=(DocumentRule("cis+kis", inline=True), CIS_RULE, KIS_RULE),
    ),
    "22": RegisterConfig(
        "22", "Wojewoda Pomorski", "https://www.gdansk.uw.gov.pl",
        ("/dla-klienta/sprawy-realizowane-w-urzedzie/1043-centrum-integracji-spolecznej",),
        formats=("pdf",), notes="CIS procedure page seen (P14).",
    ),
    "24": RegisterConfig(
        "24", "Wojewoda Śląski", "https://www.katowice.uw.gov.pl",
        ("/usluga/zabezpieczenie-spoleczne/centrum-integracji-spolecznej",
         "/usluga/zabezpieczenie-spoleczne/klub-integracji-spolecznej"),
        formats=("xlsx", "pdf"), notes="Procedure pages seen (P13).",
    ),
    "26": RegisterConfig(
        "26", "Wojewoda Świętokrzyski", *_gov("swietokrzyski", "rejestry-cis-i-kis"), formats=("docx", "pdf"),
    ),
    "28": RegisterConfig(
        "28", "Wojewoda Warmińsko-Mazurski", *_gov("warminsko-mazurski", "rejestry-cis-i-kis"),
        formats=("pdf",), notes="ROPS yearly PDF annexes with mojibake file names (P18).",
    ),
    "30": RegisterConfig(
        "30", "Wojewoda Wielkopolski", "https://www.poznan.uw.gov.pl",
        ("/rynek-pracy/centra-integracji-spolecznej-nadawanie-statusu",),
        formats=("pdf", "xlsx"), notes="Procedure page seen (P15).",
    ),
    "32": RegisterConfig(
        "32", "Wojewoda Zachodniopomorski", *_gov("zachodniopomorski", "rejestry-cis-i-kis"),
        formats=("pdf",),
    ),
}

WOJ_CODES: tuple[str, ...] = tuple(sorted(CONFIGS))


def config(woj: str) -> RegisterConfig:
    return CONFIGS[woj]
