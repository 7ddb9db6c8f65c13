"""What the environment tells the test run: the PostgreSQL to use, and the knobs `.ci/run` turns."""

from __future__ import annotations

import os

# The whole suite runs on this PostgreSQL (a schema per test) when set; on SQLite files otherwise.
POSTGRES_URL = os.environ.get("PDR_TEST_DATABASE_URL") or None
# `.ci/run` names a file here; the run writes `postgresql_tests=N` to it at its end.
BACKEND_REPORT = os.environ.get("PDR_TEST_BACKEND_REPORT") or None
# `.ci/run` sets this to 1: a skip the engine does not explain fails the run instead of passing unnoticed.
STRICT_SKIPS = os.environ.get("PDR_TEST_STRICT_SKIPS", "") not in ("", "0")
# The settings' secret key in tests, for tests that run the CLI through environment variables.
TEST_SECRET = "test-secret-key-for-token-hashing"
