"""The one place that knows the institution types (GUIDE §2): codes, Polish labels,
abbreviations, what each does, who may use it, how to get in, its territorial level, its map colour and
icon, the needs it serves and how the site treats it (referral units, nearby offers, coverage, ranking).

Adding a type touches this file only: a member of InstitutionType and its TypeInfo in TYPES, with the
name patterns the document readers and the registry labels use. The badge text and colour, the generated
stylesheet (webapp/type_styles.py) and the role headings are derived from it;
tests/catalog/test_types_complete.py checks every type is complete."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from catalog.text import fold_spaces, strip_diacritics


class InstitutionType(enum.StrEnum):
    OPS = "ops"            # ośrodek pomocy społecznej (OPS/MOPS/GOPS/MGOPS, MOPR)
    CUS = "cus"            # centrum usług społecznych
    PCPR = "pcpr"          # powiatowe centrum pomocy rodzinie
    PUP = "pup"            # powiatowy urząd pracy (GUP, SUP, UP m.st. Warszawy)
    CIS = "cis"            # centrum integracji społecznej
    KIS = "kis"            # klub integracji społecznej
    ZAZ = "zaz"            # zakład aktywności zawodowej
    WTZ = "wtz"            # warsztat terapii zajęciowej
    OWES = "owes"          # ośrodek wsparcia ekonomii społecznej
    PS = "ps"              # przedsiębiorstwo społeczne (statutory status)
    SPOLDZIELNIA = "spoldzielnia-socjalna"
    DPS = "dps"            # dom pomocy społecznej
    SDS = "sds"            # środowiskowy dom samopomocy
    OIK = "oik"            # ośrodek interwencji kryzysowej
    OHP = "ohp"            # ochotnicze hufce pracy
    ROPS = "rops"          # regionalny ośrodek polityki społecznej
    WUP = "wup"            # wojewódzki urząd pracy
    AGENCJA = "agencja-zatrudnienia"
    KLUB_SAMOPOMOCY = "klub-samopomocy"            # ośrodek wsparcia for people with mental disorders
    PUNKT_KONSULTACYJNY = "punkt-konsultacyjny"    # punkt konsultacyjny / informacyjno-konsultacyjny
    GKRPA = "gkrpa"        # gminna komisja rozwiązywania problemów alkoholowych
    POLICJA = "policja"    # komenda / komisariat / posterunek policji
    NGO = "organizacja-pozarzadowa"                # fundacja, stowarzyszenie
    OTHER = "other"


class Level(enum.StrEnum):
    GMINA = "gmina"
    POWIAT = "powiat"
    SUBREGION = "subregion"
    WOJEWODZTWO = "wojewodztwo"
    NONE = "none"


@dataclass(frozen=True)
class TypeInfo:
    code: InstitutionType
    label: str                    # singular Polish label
    plural: str                   # heading for lists
    abbreviations: tuple[str, ...]
    what: str                     # what it does, in plain Polish
    who: str                      # who can use it
    how_to_get_in: str            # access / referral path
    level: Level                  # territorial competence
    colour: str                   # marker colour: at least 3:1 against white (WCAG non-text contrast)
    needs: tuple[str, ...] = ()   # need keys (see NEEDS) this type serves
    icon: str = ""                # legend symbol: a second cue besides colour (WCAG 1.4.1)
    needs_referral: bool = False  # the detail page lists the units that issue the referral
    nearby: bool = False          # offered as "near you" after the competent offices (geo.resolve)
    reintegration: bool = False   # counted on the "powiaty bez CIS/KIS/ZAZ/WTZ" coverage map
    competent_label: str = ""     # heading when geo.resolve names it as the unit competent for a place
    search_boost: float = 0.0     # constant added to matching hits (index.plan): first contact first
    # How a name in a real document states the type (scrapers/documents/institutions.classify): regex
    # sources on text folded to lower-case ASCII words. The earliest match in a name wins within a tier;
    # a later tier wins only when no earlier one is named (or, in the reader, when attached to it).
    name_patterns: tuple[str, ...] = ()
    name_tier: int = 0            # 0 a unit of its own, 1 usually part of one, 2 its operator, 3 catch-all
    # Phrases of registry labels: RJPS "Typ jednostki", headings of other sources (type_from_label), folded.
    label_phrases: tuple[str, ...] = ()

    @property
    def badge(self) -> str:
        """Short text of the type badge: the first abbreviation, or the label when there is none."""
        return self.abbreviations[0] if self.abbreviations else self.label

    @property
    def badge_colour(self) -> str:
        """Badge background under white bold small text: the marker colour, darkened until it reaches the
        4.5:1 WCAG text contrast (markers need only 3:1), so the badge keeps the type's hue."""
        return darken_to_contrast(self.colour, BADGE_CONTRAST)


BADGE_CONTRAST = 4.5   # WCAG 1.4.3 for normal-size text (the badge is 0.85rem bold)


def contrast_on_white(colour: str) -> float:
    """WCAG 2.x contrast ratio of a '#rrggbb' colour against white."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def darken_to_contrast(colour: str, ratio: float) -> str:
    """The colour scaled towards black in 2% steps until white on it reaches `ratio` (black always does)."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    candidate = colour.lower()
    for step in range(51):
        scale = 1 - step / 50
        candidate = "#" + "".join(f"{round(v * scale):02x}" for v in rgb)
        if contrast_on_white(candidate) >= ratio:
            break
    return candidate


NEEDS: dict[str, str] = {
    "praca": "Praca",
    "pomoc-spoleczna": "Pomoc społeczna",
    "niepelnosprawnosc": "Niepełnosprawność",
    "uzaleznienia": "Uzależnienia",
    "bezdomnosc": "Bezdomność",
    "rodzina": "Rodzina",
    "seniorzy": "Seniorzy",
    "przemoc": "Przemoc",
    "kryzys": "Kryzys psychiczny",
    "ekonomia-spoleczna": "Ekonomia społeczna",
}

# Who a unit serves and what it offers, as tagged by RJPS's filter taxonomy (scrapers/rjps_taxonomy.py).
TARGET_GROUPS: dict[str, str] = {
    "dzieci-i-mlodziez": "Dzieci i młodzież",
    "niepelnosprawnosc": "Osoby z niepełnosprawnością",
    "rodzina": "Rodzina",
    "seniorzy": "Seniorzy",
    "zdrowie": "Zdrowie",
    "uzaleznienia": "Uzależnienia",
    "trudna-sytuacja-materialna": "Trudna sytuacja materialna",
    "przemoc": "Przemoc",
}

SERVICE_TAGS: dict[str, str] = {
    "calodobowe": "Usługi opiekuńcze całodobowe",
    "dzienne": "Usługi dzienne",
    "aktywizujace": "Usługi aktywizujące",
    "poradnictwo": "Poradnictwo",
    "grupy-wsparcia": "Grupy wsparcia",
    "wsparcie-finansowe": "Wsparcie finansowe i rzeczowe",
}


def tag_label(vocabulary: dict[str, str], code: str) -> str:
    """Polish label of a tag code; values from other sources (free text) are shown as they are."""
    return vocabulary.get(code, code)


T = InstitutionType
TYPES: dict[InstitutionType, TypeInfo] = {
    T.OPS: TypeInfo(
        T.OPS, "Ośrodek pomocy społecznej", "Ośrodki pomocy społecznej",
        ("OPS", "MOPS", "GOPS", "MGOPS", "MOPR", "MGOPR", "GOPR"),
        "Pierwszy adres, gdy brakuje pieniędzy, pracy, mieszkania lub sił: zasiłki, praca socjalna, "
        "kontrakt socjalny, pomoc w kryzysie, skierowania do CIS, KIS i domów pomocy społecznej.",
        "Mieszkańcy gminy w trudnej sytuacji życiowej oraz ich rodziny.",
        "Wystarczy przyjść lub zadzwonić do ośrodka w swojej gminie. Pracownik socjalny umówi wywiad "
        "środowiskowy.",
        Level.GMINA, "#1f5fa8",
        ("pomoc-spoleczna", "rodzina", "bezdomnosc", "uzaleznienia", "seniorzy", "przemoc"),
        icon="●", competent_label="Ośrodek pomocy społecznej w Twojej gminie", search_boost=1.0,
        name_patterns=(r"\bosrod\w* pomocy (?:spolecznej|rodzinie)\b", r"\b(?:m|g|mg|gm)?ops\b", r"\bmopr\b", r"\bmgopr\b"),
        label_phrases=("osrodek pomocy spolecznej", "miejski osrodek pomocy", "gminny osrodek pomocy", "miejsko-gminny osrodek pomocy"),
    ),
    T.CUS: TypeInfo(
        T.CUS, "Centrum usług społecznych", "Centra usług społecznych", ("CUS",),
        "Gminna jednostka, która zastąpiła ośrodek pomocy społecznej i łączy pomoc społeczną z innymi "
        "usługami dla mieszkańców (opieka, aktywizacja, wsparcie rodzin).",
        "Mieszkańcy gminy.",
        "Tak jak do ośrodka pomocy społecznej: przyjdź lub zadzwoń do centrum w swojej gminie.",
        Level.GMINA, "#1f5fa8",
        ("pomoc-spoleczna", "rodzina", "seniorzy", "przemoc"),
        icon="◉", competent_label="Centrum usług społecznych w Twojej gminie", search_boost=1.0,
        name_patterns=(r"\bcentrum\w* uslug spolecznych\b", r"\bcus\b"),
        label_phrases=("centrum uslug spolecznych",),
    ),
    T.PCPR: TypeInfo(
        T.PCPR, "Powiatowe centrum pomocy rodzinie", "Powiatowe centra pomocy rodzinie", ("PCPR", "MOPR"),
        "Pomoc na poziomie powiatu: piecza zastępcza, dofinansowania z PFRON dla osób "
        "z niepełnosprawnością, interwencja kryzysowa, kierowanie do warsztatów terapii zajęciowej.",
        "Mieszkańcy powiatu, rodziny zastępcze, osoby z niepełnosprawnością.",
        "Zgłoś się do centrum w swoim powiecie. W miastach na prawach powiatu te zadania wykonuje "
        "miejski ośrodek pomocy społecznej (MOPS lub MOPR).",
        Level.POWIAT, "#6a3d9a",
        ("niepelnosprawnosc", "rodzina", "przemoc"),
        icon="■", competent_label="Powiatowe centrum pomocy rodzinie", search_boost=0.5,
        name_patterns=(r"\bcentrum\w* pomocy rodzin\w*", r"\bpcpr\b"),
        label_phrases=("powiatowe centrum pomocy rodzinie", "centrum pomocy rodzinie"),
    ),
    T.PUP: TypeInfo(
        T.PUP, "Powiatowy urząd pracy", "Powiatowe urzędy pracy", ("PUP", "GUP", "SUP", "MUP", "UP"),
        "Rejestracja osób bezrobotnych i poszukujących pracy, oferty pracy, doradztwo zawodowe, "
        "szkolenia, staże, dotacje na założenie firmy, skierowania do CIS.",
        "Osoby bezrobotne i szukające pracy, pracodawcy.",
        "Zarejestruj się w urzędzie pracy właściwym dla miejsca zamieszkania (osobiście lub przez "
        "praca.gov.pl).",
        Level.POWIAT, "#b15928",
        ("praca",),
        icon="▲", competent_label="Powiatowy urząd pracy", search_boost=0.5,
        name_patterns=(r"\burzad\w* pracy\b",),
        label_phrases=("powiatowy urzad pracy", "grodzki urzad pracy", "miejski urzad pracy", "urzad pracy"),
    ),
    T.CIS: TypeInfo(
        T.CIS, "Centrum integracji społecznej", "Centra integracji społecznej", ("CIS",),
        "Kilkumiesięczny program powrotu do pracy i do ludzi (zwykle do 12 miesięcy, z możliwością "
        "przedłużenia o 6): warsztaty zawodowe, wsparcie psychologa, świadczenie integracyjne.",
        "Osoby zagrożone wykluczeniem: długotrwale bezrobotne, bezdomne, wychodzące z uzależnienia, "
        "po wyjściu z zakładu karnego, uchodźcy, osoby z niepełnosprawnością.",
        "Potrzebne skierowanie z ośrodka pomocy społecznej (OPS) albo z powiatowego urzędu pracy (PUP). "
        "Można też zgłosić się samemu, a CIS pomoże uzyskać skierowanie.",
        Level.NONE, "#33a02c",
        ("praca", "bezdomnosc", "uzaleznienia", "ekonomia-spoleczna"),
        icon="◆", needs_referral=True, nearby=True, reintegration=True,
        name_patterns=(r"\bcentrum\w* integracji spolecznej\b",),
        label_phrases=("centrum integracji spolecznej",),
    ),
    T.KIS: TypeInfo(
        T.KIS, "Klub integracji społecznej", "Kluby integracji społecznej", ("KIS",),
        "Lżejsza forma wsparcia niż CIS: poradnictwo, zajęcia grupowe, przygotowanie do pracy, "
        "prace społecznie użyteczne.",
        "Osoby zagrożone wykluczeniem społecznym i ich rodziny.",
        "Zwykle na podstawie skierowania z OPS lub PUP (często w ramach kontraktu socjalnego); "
        "zapytaj w klubie.",
        Level.NONE, "#1b7a1b",
        ("praca", "uzaleznienia", "bezdomnosc", "ekonomia-spoleczna"),
        icon="◇", needs_referral=True, nearby=True, reintegration=True,
        name_patterns=(r"\bklub\w* integracji spolecznej\b",),
        label_phrases=("klub integracji spolecznej",),
    ),
    T.ZAZ: TypeInfo(
        T.ZAZ, "Zakład aktywności zawodowej", "Zakłady aktywności zawodowej", ("ZAZ",),
        "Zatrudnienie chronione i rehabilitacja zawodowa dla osób ze znacznym stopniem "
        "niepełnosprawności.",
        "Osoby ze znacznym (a w części przypadków umiarkowanym) stopniem niepełnosprawności.",
        "Potrzebne orzeczenie o niepełnosprawności; skierowanie przez PCPR lub urząd pracy.",
        Level.NONE, "#e31a1c",
        ("niepelnosprawnosc", "praca"),
        icon="★", needs_referral=True, nearby=True, reintegration=True,
        name_patterns=(r"\bzaklad\w* aktywnosci zawodowej\b",),
        label_phrases=("zaklad aktywnosci zawodowej",),
    ),
    T.WTZ: TypeInfo(
        T.WTZ, "Warsztat terapii zajęciowej", "Warsztaty terapii zajęciowej", ("WTZ",),
        "Terapia zajęciowa i rehabilitacja społeczna dla dorosłych osób z niepełnosprawnością, które "
        "nie mogą podjąć pracy.",
        "Osoby z orzeczeniem o niepełnosprawności ze wskazaniem do terapii zajęciowej.",
        "Potrzebne orzeczenie ze wskazaniem do uczestnictwa w terapii zajęciowej; uczestników kieruje "
        "PCPR (lub MOPS/MOPR w mieście na prawach powiatu).",
        Level.NONE, "#c2185b",
        ("niepelnosprawnosc",),
        icon="☆", needs_referral=True, nearby=True, reintegration=True,
        name_patterns=(r"\bwarsztat\w* terapii zajeciowej\b",),
        label_phrases=("warsztat terapii zajeciowej", "warsztaty terapii zajeciowej"),
    ),
    T.OWES: TypeInfo(
        T.OWES, "Ośrodek wsparcia ekonomii społecznej", "Ośrodki wsparcia ekonomii społecznej", ("OWES",),
        "Doradztwo, szkolenia i dotacje dla spółdzielni socjalnych, organizacji pozarządowych "
        "i przedsiębiorstw społecznych; pomoc w uzyskaniu statusu przedsiębiorstwa społecznego.",
        "Podmioty ekonomii społecznej, grupy inicjatywne, osoby chcące założyć spółdzielnię socjalną.",
        "Skontaktuj się z OWES obsługującym Twój subregion (powiat).",
        Level.SUBREGION, "#c75f00",
        ("ekonomia-spoleczna", "praca"),
        icon="⬢", competent_label="Ośrodek wsparcia ekonomii społecznej dla Twojego subregionu",
        name_patterns=(r"\bosrod\w* wsparcia ekonomii spolecznej\b",),
        label_phrases=("osrodek wsparcia ekonomii spolecznej",),
    ),
    T.PS: TypeInfo(
        T.PS, "Przedsiębiorstwo społeczne", "Przedsiębiorstwa społeczne", ("PS",),
        "Firma, która zatrudnia osoby zagrożone wykluczeniem lub świadczy usługi społeczne, a zysk "
        "przeznacza na cele społeczne. Status nadaje wojewoda.",
        "Osoby szukające zatrudnienia wspieranego; klienci i kontrahenci.",
        "Zapytaj o pracę bezpośrednio w przedsiębiorstwie lub przez OWES.",
        Level.NONE, "#a6761d",
        ("ekonomia-spoleczna", "praca"),
        icon="▼", nearby=True,
        name_patterns=(r"\bprzedsiebiorstw\w* spoleczn\w*\b",),
        label_phrases=("przedsiebiorstwo spoleczne",),
    ),
    T.SPOLDZIELNIA: TypeInfo(
        T.SPOLDZIELNIA, "Spółdzielnia socjalna", "Spółdzielnie socjalne", ("SS",),
        "Wspólne przedsiębiorstwo osób, które chcą wrócić na rynek pracy.",
        "Osoby bezrobotne, z niepełnosprawnością, zagrożone wykluczeniem.",
        "Skontaktuj się ze spółdzielnią albo z OWES, który pomaga założyć nową.",
        Level.NONE, "#a6761d",
        ("ekonomia-spoleczna", "praca"),
        icon="▽",
        name_patterns=(r"\bspoldzielni\w* socjaln\w*\b",),
        label_phrases=("spoldzielnia socjalna",),
    ),
    T.DPS: TypeInfo(
        T.DPS, "Dom pomocy społecznej", "Domy pomocy społecznej", ("DPS",),
        "Całodobowa opieka i mieszkanie dla osób, które nie mogą samodzielnie funkcjonować.",
        "Osoby starsze, przewlekle chore, z niepełnosprawnością.",
        "Wniosek składa się w ośrodku pomocy społecznej swojej gminy; to on wydaje skierowanie.",
        Level.NONE, "#555555",
        ("seniorzy", "niepelnosprawnosc"),
        icon="⌂", needs_referral=True,
        name_patterns=(r"\bdom\w* pomocy spolecznej\b", r"\bdps\b"),
        label_phrases=("dom pomocy spolecznej",),
    ),
    T.SDS: TypeInfo(
        T.SDS, "Środowiskowy dom samopomocy", "Środowiskowe domy samopomocy", ("ŚDS", "SDS"),
        "Dzienne wsparcie dla osób z zaburzeniami psychicznymi i niepełnosprawnością intelektualną.",
        "Osoby z zaburzeniami psychicznymi.",
        "Skierowanie wydaje ośrodek pomocy społecznej.",
        Level.NONE, "#555555",
        ("niepelnosprawnosc",),
        icon="□", needs_referral=True,
        name_patterns=(r"\bsrodowiskow\w* dom\w* samopomocy\b", r"\bsds\b"),
        label_phrases=("srodowiskowy dom samopomocy",),
    ),
    T.OIK: TypeInfo(
        T.OIK, "Ośrodek interwencji kryzysowej", "Ośrodki interwencji kryzysowej", ("OIK",),
        "Natychmiastowa pomoc w kryzysie: przemoc, żałoba, nagła utrata domu; często schronienie.",
        "Każdy w sytuacji kryzysowej.",
        "Bez skierowania: przyjdź lub zadzwoń.",
        Level.POWIAT, "#555555",
        ("przemoc", "kryzys", "rodzina"),
        icon="✚",
        name_patterns=(r"\b(?:osrod\w*|punkt\w*|centrum) interwencji kryzysowej\b", r"\bp?oik\b"),
        label_phrases=("osrodek interwencji kryzysowej",),
    ),
    T.OHP: TypeInfo(
        T.OHP, "Ochotnicze Hufce Pracy", "Ochotnicze Hufce Pracy", ("OHP",),
        "Pomoc młodzieży w nauce zawodu i znalezieniu pracy.",
        "Młodzież 15–25 lat.",
        "Zgłoś się do najbliższej jednostki OHP.",
        Level.NONE, "#555555",
        ("praca",),
        icon="△",
        name_patterns=(r"\bochotnicz\w* hufc\w* pracy\b", r"\bohp\b"),
        label_phrases=("ochotnicze hufce pracy",),
    ),
    T.ROPS: TypeInfo(
        T.ROPS, "Regionalny ośrodek polityki społecznej", "Regionalne ośrodki polityki społecznej",
        ("ROPS",), "Koordynacja polityki społecznej w województwie.", "Instytucje i organizacje.",
        "Kontakt przez stronę ośrodka.", Level.WOJEWODZTWO, "#555555", ("ekonomia-spoleczna",),
        icon="▪",
        name_patterns=(r"\bregionaln\w* osrod\w* polityki spolecznej\b", r"\brops\b"),
        label_phrases=("regionalny osrodek polityki spolecznej",),
    ),
    T.WUP: TypeInfo(
        T.WUP, "Wojewódzki urząd pracy", "Wojewódzkie urzędy pracy", ("WUP",),
        "Regionalne programy rynku pracy, fundusze europejskie, poradnictwo zawodowe.",
        "Osoby szukające pracy, pracodawcy, instytucje.", "Kontakt przez stronę urzędu.",
        Level.WOJEWODZTWO, "#555555", ("praca",),
        icon="▫",
        name_patterns=(r"\bwojewodzk\w* urzad\w* pracy\b", r"\bwup\b"),
        label_phrases=("wojewodzki urzad pracy",),
    ),
    T.AGENCJA: TypeInfo(
        T.AGENCJA, "Agencja zatrudnienia", "Agencje zatrudnienia", ("KRAZ",),
        "Pośrednictwo pracy i praca tymczasowa (wpis do rejestru KRAZ).", "Osoby szukające pracy.",
        "Kontakt bezpośrednio z agencją.", Level.NONE, "#555555", ("praca",),
        icon="✉",
        name_patterns=(r"\bagencj\w* zatrudnienia\b",),
        label_phrases=("agencja zatrudnienia",),
    ),
    T.KLUB_SAMOPOMOCY: TypeInfo(
        T.KLUB_SAMOPOMOCY, "Klub samopomocy", "Kluby samopomocy", ("KS",),
        "Spotkania, wspólne zajęcia i wzajemne wsparcie dla osób z zaburzeniami psychicznymi, często "
        "przy środowiskowym domu samopomocy.",
        "Osoby z zaburzeniami psychicznymi, także po pobycie w ŚDS.",
        "Skierowanie wydaje ośrodek pomocy społecznej (jak do środowiskowego domu samopomocy); zapytaj "
        "też bezpośrednio w klubie.",
        Level.NONE, "#3949ab", ("niepelnosprawnosc",), icon="◈", needs_referral=True,
        name_patterns=(r"\bklub\w* samopomocy\b",), name_tier=1,
        label_phrases=("klub samopomocy",),
    ),
    T.PUNKT_KONSULTACYJNY: TypeInfo(
        T.PUNKT_KONSULTACYJNY, "Punkt konsultacyjny", "Punkty konsultacyjne", ("PK", "PIK"),
        "Bezpłatne rozmowy z psychologiem, terapeutą lub prawnikiem dla osób doznających przemocy, "
        "z problemem alkoholowym lub innym uzależnieniem i ich bliskich.",
        "Mieszkańcy gminy: osoby doznające przemocy, uzależnione i ich rodziny.",
        "Bez skierowania: sprawdź godziny dyżurów i przyjdź albo zadzwoń.",
        Level.GMINA, "#00838f", ("przemoc", "uzaleznienia", "kryzys", "rodzina"), icon="◐",
        name_patterns=(r"\bpu\w?nkt\w* (?:\w+ )?(?:konsult|konsylt|wsparcia|informac\w*[ ,-]*(?:i |- )?(?:wsparcia|konsult))", r"\bkonsultacyjn\w* punkt\w*"), name_tier=1,
        label_phrases=("punkt konsultacyjny", "punkt informacyjno-konsultacyjny"),
    ),
    T.GKRPA: TypeInfo(
        T.GKRPA, "Gminna komisja rozwiązywania problemów alkoholowych",
        "Gminne komisje rozwiązywania problemów alkoholowych", ("GKRPA", "MKRPA", "KRPA"),
        "Rozmowy motywujące do leczenia, wniosek do sądu o zobowiązanie do leczenia odwykowego, pomoc "
        "rodzinom osób uzależnionych i doznających przemocy.",
        "Mieszkańcy gminy: osoby z problemem alkoholowym i ich bliscy.",
        "Zgłoś sprawę osobiście lub pisemnie w urzędzie gminy albo w ośrodku pomocy społecznej; może to "
        "zrobić także członek rodziny.",
        Level.GMINA, "#827717", ("uzaleznienia", "przemoc", "rodzina"), icon="◎",
        name_patterns=(r"\bkomisj\w* (?:[\w.]+ ){0,3}?rozwiazywania problemow alkoholow\w*", r"\bg?krpa\b", r"\bkomisj\w* alkoholow\w*"), name_tier=1,
        label_phrases=("komisja rozwiazywania problemow alkoholowych",),
    ),
    T.POLICJA: TypeInfo(
        T.POLICJA, "Jednostka policji", "Jednostki policji", ("KPP", "KMP", "KP"),
        "Interwencja, gdy dzieje się przemoc lub grozi niebezpieczeństwo; przyjmuje zawiadomienia "
        "i zakłada Niebieską Kartę.",
        "Każdy.",
        "W nagłej sytuacji dzwoń pod 112. Zawiadomienie można złożyć na każdym komisariacie, także poza "
        "miejscem zamieszkania.",
        Level.NONE, "#37474f", ("przemoc",), icon="⚑",
        name_patterns=(r"\b(?:komisariat\w*|komend\w*(?: \w+)?|posterun\w*|jednost\w*) policji\b",), name_tier=1,
        label_phrases=("komisariat policji", "komenda powiatowa policji", "komenda miejska policji", "posterunek policji",
                       "jednostka policji"),
    ),
    T.NGO: TypeInfo(
        T.NGO, "Organizacja pozarządowa", "Organizacje pozarządowe", ("NGO",),
        "Fundacja lub stowarzyszenie: poradnictwo, grupy wsparcia, pomoc rzeczowa, zajęcia — zależnie "
        "od organizacji.",
        "Zależnie od organizacji; zwykle każdy potrzebujący.",
        "Skontaktuj się z organizacją bezpośrednio; pomoc jest zwykle bezpłatna.",
        Level.NONE, "#795548", ("pomoc-spoleczna", "ekonomia-spoleczna"), icon="♣",
        name_patterns=(r"\bfundacj\w*\b", r"\bstowarzyszen\w*\b", r"\borganizacj\w* pozarzadow\w*"), name_tier=2,
        label_phrases=("fundacja", "stowarzyszenie", "organizacja pozarzadowa"),
    ),
    T.OTHER: TypeInfo(
        T.OTHER, "Inna jednostka", "Inne jednostki", (),
        "Inna jednostka wsparcia społecznego.", "Zależnie od jednostki.",
        "Skontaktuj się z jednostką.", Level.NONE, "#555555", (),
        icon="○",
        name_patterns=(r"\bpolicj\w*\b", r"\bpunkt\w* (?:informac|pomocy|wsparcia)\w*", r"\bkomisj\w* rozwiazywania\b", r"\bzesp\w* interdyscyplinarn\w*", r"\bporadni\w*\b", r"\bprokuratur\w*\b", r"\bsad\w* rejonow\w*"), name_tier=3,
        label_phrases=(),
    ),
}


def info(code: str | InstitutionType) -> TypeInfo:
    """TypeInfo for a type code; unknown codes map to OTHER instead of failing."""
    try:
        return TYPES[InstitutionType(code)]
    except ValueError:
        return TYPES[InstitutionType.OTHER]


def type_from_label(label: str | None) -> InstitutionType:
    """Map a registry label such as 'Ośrodek pomocy społecznej' to a type; OTHER when unknown.

    The phrase of the lowest name tier wins, then the one starting earliest, then the longest one, so
    "Wojewódzki Urząd Pracy" is a WUP (not a PUP) and "Fundacja … Warsztat Terapii Zajęciowej" a WTZ."""
    folded = fold_spaces(label)
    if not folded:
        return T.OTHER
    best: tuple[int, int, int, InstitutionType] | None = None
    for code, type_info in TYPES.items():
        for phrase in type_info.label_phrases:
            at = folded.find(phrase)
            if at >= 0:
                key = (type_info.name_tier, at, -len(phrase), code)
                if best is None or key[:3] < best[:3]:
                    best = key
    if best is not None:
        return best[3]
    for code, type_info in TYPES.items():
        if any(folded == strip_diacritics(abbr) for abbr in type_info.abbreviations):
            return code
    return T.OTHER


class Status(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CLOSED = "closed"
    POSSIBLY_CLOSED = "possibly-closed"


STATUS_LABELS = {
    Status.ACTIVE: "działa",
    Status.EXPIRED: "status wygasł",
    Status.CLOSED: "zamknięta",
    Status.POSSIBLY_CLOSED: "możliwe, że zamknięta (brak w ostatnich danych źródła)",
}


class Precision(enum.StrEnum):
    """How precise a point is, best first."""
    SOURCE = "source"        # coordinates given by the registry itself
    ADDRESS = "address"      # building-level geocode
    STREET = "street"
    POSTCODE = "postcode"
    LOCALITY = "locality"
    GMINA = "gmina"
    POWIAT = "powiat"        # only for placeholders placed at a powiat's reference point


PRECISION_LABELS = {
    Precision.SOURCE: "współrzędne podane przez rejestr",
    Precision.ADDRESS: "dokładny adres",
    Precision.STREET: "ulica",
    Precision.POSTCODE: "kod pocztowy (przybliżenie)",
    Precision.LOCALITY: "miejscowość (przybliżenie)",
    Precision.GMINA: "gmina (przybliżenie)",
    Precision.POWIAT: "powiat (przybliżenie)",
}


def codes_where(flag: str) -> tuple[str, ...]:
    """Type codes whose TypeInfo has `flag` set (needs_referral, nearby, reintegration), in TYPES order."""
    return tuple(code.value for code, type_info in TYPES.items() if getattr(type_info, flag))
