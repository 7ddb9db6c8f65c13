"""What went wrong with an operator's form, as its page says it: which form, which fields, and the service's words."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from storage.exceptions import DomainError


@dataclass(frozen=True)
class Problem:
    """A refused form: the form's name on its page, the fields at fault (if any), the status and the detail."""

    form: str
    fields: tuple[str, ...]
    status: int
    detail: str = ""

    def on(self, form: str, field: str | None = None) -> bool:
        """Whether the problem belongs to a form (and, when named, to one of its fields)."""
        return self.form == form and (field is None or field in self.fields)


def problem_of(form: str, error: DomainError | ValidationError) -> Problem:
    """The problem a form's page shows; a field at fault makes it a 422, whatever the service's status.

    An error the page cannot help with (403, 404) is raised again, so that the portal's error page shows it.
    """
    if isinstance(error, ValidationError):
        fields = tuple(str(e["loc"][0]) for e in error.errors() if e["loc"])
        return Problem(form, fields, 422, "; ".join(e["msg"] for e in error.errors()))
    if error.status in (403, 404):
        raise error
    fields = tuple(problem.field for problem in error.errors)
    return Problem(form, fields, 422 if fields else error.status, error.detail)
