"""The portal's message catalogs: every message a template uses is translated, and the language is picked well."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest
from jinja2.ext import babel_extract

from catalog.portal.i18n import LOCALES, choose_locale
from catalog.portal.messages import compile_catalog, po_files, read_catalog

_PLACEHOLDER = re.compile(r"%\(\w+\)s")
_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true", "newstyle_gettext": "true"}


def template_messages() -> set[str]:
    """Every msgid the templates pass to gettext."""
    found: set[str] = set()
    for template in Path(str(files("catalog.portal") / "templates")).rglob("*.html"):
        with template.open("rb") as source:
            for _, _, message, _ in babel_extract(source, ("_", "gettext", "ngettext"), [], _OPTIONS):
                found.add(message if isinstance(message, str) else message[0])
    return found


def _singular(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _all_filled(translation: str | tuple[str, ...] | None) -> bool:
    """Whether a translation, and each plural form of one, says something."""
    forms = (translation,) if isinstance(translation, str) or translation is None else translation
    return all(forms)


def test_the_templates_use_messages() -> None:
    assert {"Public Data Registry", "Search datasets", "%(count)s dataset found"} <= template_messages()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_message_is_translated(locale: str) -> None:
    catalog = read_catalog(locale)
    translated = {_singular(m.id) for m in catalog if m.id and _all_filled(m.string) and not m.fuzzy}
    missing = sorted(template_messages() - translated)
    assert missing == [], f"{locale}: untranslated {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_survive_translation(locale: str) -> None:
    catalog = read_catalog(locale)
    for message in catalog:
        if not message.id:
            continue
        sources = (message.id,) if isinstance(message.id, str) else message.id
        targets = (message.string,) if isinstance(message.string, str) else message.string
        wanted = {tuple(sorted(_PLACEHOLDER.findall(source))) for source in sources}
        assert {tuple(sorted(_PLACEHOLDER.findall(str(target)))) for target in targets} == wanted, message.id


def test_catalogs_compile_in_memory() -> None:
    assert compile_catalog("zh").gettext("Search datasets") == "搜索数据集"
    assert compile_catalog("en").gettext("Search datasets") == "Search datasets"
    english = compile_catalog("en")
    assert english.ngettext("%(count)s dataset found", "%(count)s datasets found", 1) == "%(count)s dataset found"
    assert english.ngettext("%(count)s dataset found", "%(count)s datasets found", 2) == "%(count)s datasets found"
    assert compile_catalog("zh").ngettext("%(count)s dataset", "%(count)s datasets", 5) == "%(count)s 个数据集"
    for locale in LOCALES:
        shipped = {entry.name for entry in (files("catalog.portal") / "locale" / locale / "LC_MESSAGES").iterdir()}
        assert shipped == set(po_files(locale)), "only .po files are shipped: no compiled .mo file"
    assert po_files("zh") == po_files("en")


def test_a_message_in_two_po_files_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locale" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    for name in ("a.po", "b.po"):
        (folder / name).write_text('msgid "Save"\nmsgstr "Save"\n', encoding="utf-8")
    monkeypatch.setattr("catalog.portal.messages.files", lambda package: tmp_path)
    with pytest.raises(ValueError, match=r"b\.po: 'Save' is already in another \.po file"):
        read_catalog("en")


@pytest.mark.parametrize(
    ("asked", "header", "chosen"),
    [
        (None, None, "zh"),
        ("en", "zh-CN", "en"),
        ("zh", "en", "zh"),
        ("fr", "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.3, zh;q=0.7", "zh"),
        (None, "zh;q=0, en;q=0.1", "en"),
        (None, "de, *;q=0.5", "zh"),
        (None, "en;q=abc", "zh"),
        (None, ",,;;", "zh"),
    ],
)
def test_choosing_the_language(asked: str | None, header: str | None, chosen: str) -> None:
    assert choose_locale(asked, header) == chosen
