"""What a fresh interpreter has imported after one import statement: this one has imported everything already."""

from __future__ import annotations

import subprocess
import sys


def modules_after(statement: str) -> set[str]:
    """The names in sys.modules of a new interpreter once it has run `statement`."""
    probe = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(ran.stdout.split())
