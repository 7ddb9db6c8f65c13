"""The portal's languages: message catalogs compiled from their .po files in memory, and picking a language."""

from __future__ import annotations

import gettext
import re
from importlib.resources import files
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh"
LOCALES = ("zh", "en")
# HTML lang attributes of each locale.
HTML_LANG = {"zh": "zh-CN", "en": "en"}
_ACCEPTED = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$")


def po_files(locale: str) -> list[str]:
    """The names of a locale's .po files as shipped in the package: one per part of the portal, in name order."""
    folder = files("catalog.portal") / "locale" / locale / "LC_MESSAGES"
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".po"))


def read_catalog(locale: str) -> Catalog:
    """A locale's messages from all its .po files; a message in two files is an error, not a silent override."""
    folder = files("catalog.portal") / "locale" / locale / "LC_MESSAGES"
    merged: Catalog | None = None
    for name in po_files(locale):
        part = read_po(BytesIO((folder / name).read_bytes()), locale=locale)
        if merged is None:
            merged = part
            continue
        for message in part:
            if not message.id:
                continue
            if message.id in merged:
                raise ValueError(f"{locale}/{name}: {message.id!r} is already in another .po file")
            merged[message.id] = message
    if merged is None:
        raise FileNotFoundError(f"no .po file for {locale}")
    return merged


def compile_catalog(locale: str) -> gettext.GNUTranslations:
    """A locale's translations, compiled from its .po files without writing a .mo file anywhere."""
    compiled = BytesIO()
    # Untranslated and fuzzy entries fall back to the msgid, as gettext does.
    write_mo(compiled, read_catalog(locale), use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def compile_catalogs() -> dict[str, gettext.GNUTranslations]:
    """Every locale's translations."""
    return {locale: compile_catalog(locale) for locale in LOCALES}


def _preferred(accept_language: str) -> str | None:
    """The first of our locales by the weights of an Accept-Language header; None if it names neither."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        found = _ACCEPTED.match(part)
        if found is None:
            continue
        language = found.group(1).lower()
        try:
            weight = float(found.group(2)) if found.group(2) else 1.0
        except ValueError:
            continue
        if language in LOCALES and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else None


def choose_locale(asked: str | None, accept_language: str | None) -> str:
    """`?lang=` if it names a locale, else the browser's preference, else Chinese."""
    if asked in LOCALES:
        return asked
    return _preferred(accept_language or "") or DEFAULT_LOCALE
