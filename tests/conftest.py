"""The suite's root: registers the shared fixture plugins once for every test directory.

Shared fixtures live in pytest plugins under `tests/plugins/`, shared plain helpers in modules under
`tests/support/`; test modules import those, never a conftest or another test module.
"""

from __future__ import annotations

pytest_plugins = [
    "tests.plugins.database",
    "tests.plugins.s3",
    "tests.plugins.registry_world",
    "tests.plugins.exchange_world",
    "tests.plugins.browser",
    "tests.plugins.axe",
    "tests.plugins.client_world",
    "tests.plugins.strict_skips",
]
