"""Turning page data into HTML: one Jinja2 environment per language, and what every page's template is given."""

from __future__ import annotations

import gettext
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from catalog.portal.i18n import HTML_LANG
from registry.deadlines import CHINA_TIME

if TYPE_CHECKING:
    from jinja2 import Environment

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Request:
    """What a page needs to know of its request: the language, whether `?lang=` chose it, the path and query,
    the signed-in account's name and role, the token its forms carry, and a new visitor's pre-session value."""

    locale: str
    explicit: bool
    path: str
    query: Params = field(default_factory=tuple)
    viewer: str | None = None
    viewer_role: str | None = None
    csrf: str = ""
    presession: str | None = None

    def url(self, path: str, params: Params | Mapping[str, str] = ()) -> str:
        """A link inside the portal, keeping the language when `?lang=` chose it."""
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
        if self.explicit:
            pairs.append(("lang", self.locale))
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def in_language(self, locale: str) -> str:
        """This page in another language."""
        pairs = [(name, value) for name, value in self.query if name != "lang"]
        return f"{self.path}?{urlencode([*pairs, ('lang', locale)])}"


def beijing(moment: datetime | date | None) -> str:
    """A time in Beijing time to the minute, a date as it is; empty for none."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return f"{moment.astimezone(CHINA_TIME):%Y-%m-%d %H:%M}"
    return moment.isoformat()


def file_size(size: int) -> str:
    """A byte count in the largest binary unit that keeps it at least 1, to one decimal."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TiB"


def grouped(number: int) -> str:
    """An integer with thousands separators."""
    return f"{number:,}"


def _environment(translations: gettext.GNUTranslations) -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=PackageLoader("catalog.portal", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(beijing=beijing, file_size=file_size, grouped=grouped)
    return environment


def _compiled(locale: str) -> gettext.GNUTranslations:
    from catalog.portal.messages import compile_catalog

    return compile_catalog(locale)


class Renderer:
    """The portal's templates in every language, each language's made on its first page.

    A worker that serves only the API never loads Jinja2, Babel or the message catalogs (about 2 MB).
    """

    def __init__(self, translations: Callable[[str], gettext.GNUTranslations] = _compiled) -> None:
        self._translations = translations
        self._environments: dict[str, Environment] = {}
        # Pages render in the thread pool: two first pages at once build one environment, not two.
        self._lock = threading.Lock()

    def environment(self, locale: str) -> Environment:
        """The language's Jinja2 environment, with its messages installed."""
        environment = self._environments.get(locale)
        if environment is None:
            with self._lock:
                environment = self._environments.get(locale)
                if environment is None:
                    environment = _environment(self._translations(locale))
                    self._environments[locale] = environment
        return environment

    def render(self, template: str, request: Request, **data: Any) -> str:
        """A page in the request's language."""
        environment = self.environment(request.locale)
        return environment.get_template(template).render(request=request, html_lang=HTML_LANG[request.locale], **data)
