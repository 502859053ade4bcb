"""Crisis help first: the national helplines (data/helplines.toml, curated; sources in helplines.SOURCE.md)
and when a page shows them before any result — a query the needs thesaurus marks as crisis ("mąż mnie bije",
"myśli samobójcze"), a crisis need (`potrzeba=przemoc`), a list of crisis-type institutions, the page of one.

Every such page also gets the quick-exit button (templates/_helplines.html, static/js/quick-exit.js)."""
from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app

from catalog.settings import REPO_ROOT
from catalog.types import InstitutionType
from index import needs

log = logging.getLogger(__name__)

HELPLINES_FILE = REPO_ROOT / "data" / "helplines.toml"
_DIGITS = re.compile(r"^\d{3,12}$")


@dataclass(frozen=True)
class Helpline:
    number: str      # digits as dialled: the tel: link
    display: str     # as printed ("116 123")
    name: str
    who: str
    hours: str       # as the operator publishes them
    free: bool
    source: str      # the operator's official page (not linked from the crisis box: no detour)


@dataclass(frozen=True)
class HelplineData:
    helplines: tuple[Helpline, ...]
    quick_exit_url: str
    crisis_types: frozenset[str]


def load(path: Path = HELPLINES_FILE) -> HelplineData:
    """Read and check the curated file: digits-only numbers, an https exit target, known type codes."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    lines = tuple(Helpline(**entry) for entry in raw["helpline"])
    for line in lines:
        if not _DIGITS.match(line.number) or re.sub(r"\D", "", line.display) != line.number:
            raise ValueError(f"{path}: helpline {line.display!r} must be dialled as its digits ({line.number!r})")
    exit_url = raw["quick_exit_url"]
    if not exit_url.startswith("https://"):
        raise ValueError(f"{path}: quick_exit_url must be an https:// address")
    types = frozenset(raw.get("crisis_types", ()))
    unknown = types - {t.value for t in InstitutionType}
    if unknown:
        raise ValueError(f"{path}: unknown crisis_types {sorted(unknown)}")
    return HelplineData(lines, exit_url, types)


@lru_cache(maxsize=1)
def data() -> HelplineData:
    return load()


def is_crisis_query(text: str | None) -> bool:
    """The words are about violence, suicide or acute crisis (index.needs decides, from its thesaurus).
    Should the thesaurus fail, the helplines are shown: needless help on a page harms no one."""
    if not text or not text.strip():
        return False
    try:
        return needs.detect(text).crisis
    except Exception:
        log.exception("crisis detection failed: the helplines are shown")
        return True


def is_crisis_need(need: str | None) -> bool:
    return bool(need) and need in needs.CRISIS_NEEDS


def is_crisis_type(code: str | None) -> bool:
    return bool(code) and code in data().crisis_types


def crisis_page(text: str | None = None, need: str | None = None, types: Iterable[str] = ()) -> bool:
    """Whether a search page (its text, its need, its type filter) shows the helplines first."""
    return is_crisis_need(need) or any(is_crisis_type(t) for t in types) or is_crisis_query(text)


def quick_exit_url() -> str:
    """Where "Szybkie wyjście" goes: the curated neutral site (config QUICK_EXIT_URL overrides it, e.g. in tests)."""
    return current_app.config.get("QUICK_EXIT_URL") or data().quick_exit_url


def box(show: bool) -> dict | None:
    """What templates/_helplines.html needs, or None when the page is not about a crisis."""
    if not show:
        return None
    return {"helplines": data().helplines, "exit_url": quick_exit_url()}
