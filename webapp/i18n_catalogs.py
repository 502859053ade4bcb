"""The translation catalogs of the interface: extract the msgids, merge them into the .po files, compile
the .mo files the site loads (committed, so a fresh clone shows Ukrainian at /uk/ with no build step).

    python -m webapp.i18n_catalogs update    # extract (babel.cfg) and merge into uk/en messages.po
    python -m webapp.i18n_catalogs compile   # .po -> .mo
    python -m webapp.i18n_catalogs check     # exit 1 when a msgid is untranslated or a .mo is stale

tests/web/test_i18n_catalogs.py runs `problems()`: the same check, in the test suite."""
from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from catalog.settings import REPO_ROOT
from webapp.i18n import DEFAULT_LOCALE, LANGUAGE_NAMES, LOCALES

BABEL_CFG = REPO_ROOT / "babel.cfg"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
TRANSLATED = tuple(locale for locale in LOCALES if locale != DEFAULT_LOCALE)


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def extract() -> Catalog:
    """Every msgid of the templates, the webapp's code and the lower layers' vocabulary (babel.cfg)."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(BABEL_CFG))
    template = Catalog(project="Mapa Wsparcia", locale=DEFAULT_LOCALE, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def write(locale: str, catalog: Catalog) -> None:
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, omit_header=False, sort_output=False, include_previous=False)
    path.write_bytes(buf.getvalue())


def update() -> None:
    """Merge the extracted msgids into each .po: new ones arrive untranslated, gone ones are dropped."""
    template = extract()
    for locale in TRANSLATED:
        catalog = read(locale) if po_path(locale).exists() else Catalog(locale=locale, project="Mapa Wsparcia")
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.creation_date = created   # no churn in the files when nothing changed
        catalog.fuzzy = False   # a fuzzy header is left out of the .mo, and with it the charset
        catalog.version, catalog.last_translator = "1", "Mapa Wsparcia"
        catalog.language_team = f"{LANGUAGE_NAMES[locale]} <{locale}>"
        write(locale, catalog)


def compiled(locale: str) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, read(locale), use_fuzzy=False)
    return buf.getvalue()


def compile_all() -> None:
    for locale in TRANSLATED:
        mo_path(locale).write_bytes(compiled(locale))


def _messages(catalog: Catalog) -> dict[str, str]:
    """The translations a .mo carries: translated, not fuzzy (untranslated ones fall back to Polish)."""
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def problems() -> list[str]:
    """What keeps the catalogs from being complete: untranslated, fuzzy or missing msgids, stale .mo."""
    wanted = {m.id for m in extract() if m.id}
    found: list[str] = []
    for locale in TRANSLATED:
        catalog = read(locale)
        have = {m.id: m for m in catalog if m.id}
        for msgid in sorted(wanted):
            message = have.get(msgid)
            if message is None:
                found.append(f"{locale}: missing {msgid!r}")
            elif not message.string or message.fuzzy:
                found.append(f"{locale}: untranslated {msgid!r}")
        if not mo_path(locale).exists():
            found.append(f"{locale}: {mo_path(locale).name} missing (python -m webapp.i18n_catalogs compile)")
        else:
            with mo_path(locale).open("rb") as fh:
                if _messages(read_mo(fh)) != _messages(catalog):
                    found.append(f"{locale}: {mo_path(locale).name} is stale (python -m webapp.i18n_catalogs compile)")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        print("\n".join(found) or "catalogs complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
