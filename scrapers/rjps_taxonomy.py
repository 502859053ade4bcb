"""RJPS's own filter taxonomy (REGISTRIES.md §1.5): `podkategorie` ids -> (target group, service kind).

The listing endpoint filtered by a set of sub-category ids answers only the units offering those services,
so one request per target group and one per service kind tags every unit. Codes and Polish labels live in
catalog.types (TARGET_GROUPS, SERVICE_TAGS); only the RJPS-specific ids are kept here."""
from __future__ import annotations

# Columns: RJPS groups 1–8 in their order; rows: service kinds. None = RJPS has no such sub-category.
_GROUPS = ("dzieci-i-mlodziez", "niepelnosprawnosc", "rodzina", "seniorzy", "zdrowie", "uzaleznienia",
           "trudna-sytuacja-materialna", "przemoc")
_TABLE: dict[str, tuple[int | None, ...]] = {
    "calodobowe":         (3, 7, 16, 21, 25, None, 35, 41),
    "dzienne":            (4, 8, 13, 22, 26, 31, 36, 45),
    "aktywizujace":       (1, 9, 17, 23, 27, 32, 37, 42),
    "poradnictwo":        (2, 10, 18, 24, 28, 33, 38, 43),
    "grupy-wsparcia":     (5, 11, 14, 20, 29, 34, 39, 44),
    "wsparcie-finansowe": (6, 12, 15, 19, 30, None, 40, None),
}

# sub-category id -> (target group code, service tag code)
SUBCATEGORIES: dict[int, tuple[str, str]] = {
    sub_id: (group, service)
    for service, row in _TABLE.items()
    for group, sub_id in zip(_GROUPS, row, strict=False)
    if sub_id is not None
}


def ids_for_group(group: str) -> list[int]:
    return sorted(i for i, (g, _) in SUBCATEGORIES.items() if g == group)


def ids_for_service(service: str) -> list[int]:
    return sorted(i for i, (_, s) in SUBCATEGORIES.items() if s == service)


def podkategorie(ids: list[int]) -> str:
    """The filter value as RJPS's UI sends it: comma-separated ids in one string, e.g. "7,8,9,10,11,12"."""
    return ",".join(str(i) for i in ids)


def taxonomy_requests() -> list[tuple[str, str, str]]:
    """(dimension, code, podkategorie) for the 8 group requests then the 6 service-kind requests."""
    groups = [("target_groups", g, podkategorie(ids_for_group(g))) for g in _GROUPS]
    services = [("service_tags", s, podkategorie(ids_for_service(s))) for s in _TABLE]
    return groups + services
