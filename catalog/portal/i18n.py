"""The portal's languages, and picking one for a request (catalog/portal/messages.py compiles their messages)."""

from __future__ import annotations

import re

DEFAULT_LOCALE = "zh"
LOCALES = ("zh", "en")
# HTML lang attributes of each locale.
HTML_LANG = {"zh": "zh-CN", "en": "en"}
_ACCEPTED = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$")


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
