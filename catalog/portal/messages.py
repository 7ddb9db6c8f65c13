"""The portal's message catalogs, compiled from their .po files in memory when a language's first page needs them."""

from __future__ import annotations

import gettext
from importlib.resources import files
from importlib.resources.abc import Traversable
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def _folder(locale: str) -> Traversable:
    """Where the package ships a locale's .po files."""
    return files("catalog.portal") / "locale" / locale / "LC_MESSAGES"


def po_files(locale: str) -> list[str]:
    """The names of a locale's .po files as shipped in the package: one per part of the portal, in name order."""
    return sorted(entry.name for entry in _folder(locale).iterdir() if entry.name.endswith(".po"))


def read_catalog(locale: str) -> Catalog:
    """A locale's messages from all its .po files; a message in two files is an error, not a silent override."""
    folder = _folder(locale)
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
