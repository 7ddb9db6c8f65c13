"""Errors of the registry."""

from __future__ import annotations

from storage.exceptions import Conflict


class StepNotAllowed(Conflict):
    """A workflow step asked for in a state that does not allow it; says which steps are allowed now."""

    type_slug = "step-not-allowed"

    def __init__(self, action: str, state: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none (the registration is closed)"
        super().__init__(
            f"'{action}' is not allowed while the registration is {state}; allowed now: {allowed_text}",
            extra={"state": state, "allowed_actions": allowed},
        )


class ConcurrentUpdate(Conflict):
    """Someone else changed the record between our read and our write."""

    type_slug = "concurrent-update"

    def __init__(self) -> None:
        super().__init__("the registration was changed by someone else at the same time; reload and try again")
