"""axe-core in a Playwright page: run its checks on the page as served and describe what it found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The impacts a page may not have: axe-core's two highest of minor, moderate, serious and critical.
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Axe:
    """The axe-core script (axe.min.js), ready to run in any page."""

    source: str

    def violations(self, page: Any) -> list[dict[str, Any]]:
        """Every violation axe-core finds in the page as it stands."""
        # evaluate() runs through the browser's debugging protocol, which the page's Content-Security-Policy does not
        # govern; a <script> tag would be refused by `script-src 'self'`, and bypassing CSP would test another page.
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.source)
        found = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
        return list(found)

    def blocking(self, page: Any) -> list[dict[str, Any]]:
        """The violations of serious or critical impact."""
        return [found for found in self.violations(page) if found.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """Each violation on a line of its own: rule, impact, what it asks, and the elements that fail it."""
    lines = []
    for found in violations:
        lines.append(f"  {found['id']} ({found['impact']}): {found['help']} [{found['helpUrl']}]")
        for node in found["nodes"]:
            why = " ".join(str(node.get("failureSummary") or "").split())
            lines.append(f"    at {' '.join(map(str, node['target']))}: {why}")
    return "\n".join(lines)
