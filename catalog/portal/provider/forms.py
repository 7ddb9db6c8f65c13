"""The console's forms read into the API's shapes: text fields, lists typed as words, and problems by field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from storage.exceptions import DomainError

# Words of a list typed in one field: commas (also the Chinese ones), enumeration commas, semicolons or new lines.
_SEPARATORS = re.compile(r"[,，、;；\n\r]+")
# Where a problem that names no field of the form is shown.
GENERAL = "_"


@dataclass(frozen=True)
class FormFields:
    """A posted form's values by name, every name possibly repeated (a multiple select, checkboxes)."""

    values: Mapping[str, Sequence[str]]

    def raw(self, name: str) -> str:
        """The first value as typed, or empty."""
        found = self.values.get(name) or ("",)
        return found[0]

    def text(self, name: str) -> str | None:
        """The first value without surrounding spaces; None when empty, so that optional fields stay unset."""
        return self.raw(name).strip() or None

    def words(self, name: str) -> list[str]:
        """A list typed in one field, in its order, without empty words or repeats."""
        return list(dict.fromkeys(word.strip() for word in _SEPARATORS.split(self.raw(name)) if word.strip()))

    def chosen(self, name: str) -> list[str]:
        """The values of a repeated field (checked boxes, a multiple select), without repeats."""
        return list(dict.fromkeys(value for value in self.values.get(name, ()) if value))

    def picked(self, names: Iterable[str]) -> dict[str, str | None]:
        """Several text fields at once."""
        return {name: self.text(name) for name in names}


def validation_problems(error: ValidationError) -> dict[str, str]:
    """A model's validation errors by the top-level field they are about."""
    problems: dict[str, str] = {}
    for item in error.errors():
        location = item.get("loc") or ()
        field = str(location[0]) if location else GENERAL
        problems.setdefault(field, str(item.get("msg", "")))
    return problems


def domain_problems(error: DomainError, prefix: str = "") -> dict[str, str]:
    """A service's refusal by the fields it names (without `prefix`), or as a general problem."""
    problems: dict[str, str] = {}
    for problem in error.errors:
        name = problem.field.removeprefix(prefix).split(".")[0] or GENERAL
        problems.setdefault(name, problem.message)
    if not problems:
        problems[GENERAL] = error.detail
    return problems


def shown_values(fields: FormFields, names: Iterable[str]) -> dict[str, Any]:
    """What a form that failed shows again: the values as they were typed."""
    return {name: fields.raw(name) for name in names}
