"""The Ukrainian and English catalogs are complete and compiled: no msgid used in a template, in the
webapp's code or in the lower layers' vocabulary is left untranslated, and every .mo matches its .po."""
from __future__ import annotations

from webapp import i18n_catalogs


def test_every_msgid_is_translated_and_compiled():
    problems = i18n_catalogs.problems()
    assert problems == [], ("run `.venv/bin/python -m webapp.i18n_catalogs update`, translate, then `compile`:\n"
                            + "\n".join(problems[:40]))


def test_extraction_sees_templates_code_and_vocabulary():
    ids = {m.id for m in i18n_catalogs.extract() if m.id}
    assert "Przejdź do treści" in ids                      # templates/base.html
    assert "Opisz, proszę, co jest nie tak." in ids          # webapp/forms.py (lazy_gettext)
    assert "Nie znaleziono strony" in ids                    # webapp/errors.py (N_)
    assert "Warsztat terapii zajęciowej" in ids              # catalog/types.py via extract_vocabulary
    assert "Pokazano wyniki dla podobnych słów." in ids      # index/api.py NOTE_FUZZY


def test_placeholders_survive_translation():
    import re

    for locale in i18n_catalogs.TRANSLATED:
        for message in i18n_catalogs.read(locale):
            if message.id and message.string:
                names = sorted(re.findall(r"%\((\w+)\)s", message.id))
                assert sorted(re.findall(r"%\((\w+)\)s", message.string)) == names, (locale, message.id)


def _bare_text(template: str) -> list[str]:
    """Visible text and text attributes of a template that are not inside a Jinja expression or tag."""
    import re

    text = re.sub(r"\{#.*?#\}", " ", template, flags=re.DOTALL)
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.DOTALL)
    attributes = re.findall(r'(?:aria-label|placeholder|title|alt|content)="([^"]*)"', text)
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", text, flags=re.DOTALL)
    visible = re.sub(r"<[^>]+>", "\n", text)
    return [line.strip() for line in visible.splitlines() + attributes if line.strip()]


def test_templates_have_no_unwrapped_polish_text():
    """Polish letters outside `_()` are text the Ukrainian and English pages would show in Polish."""
    import re

    polish = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
    left = {path.name: [t for t in _bare_text(path.read_text(encoding="utf-8")) if polish.search(t)]
            for path in sorted((i18n_catalogs.REPO_ROOT / "templates").glob("*.html"))}
    assert {name: texts for name, texts in left.items() if texts} == {}
