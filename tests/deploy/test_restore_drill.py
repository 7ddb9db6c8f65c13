"""The restore drill of docs/operations.md: a filled topology backed up (pg_dump, then the objects), restored into a
fresh database and bucket, passes `pdr init`, `pdr log audit` and `pdr storage verify`, and serves the same log,
certificate and file."""

from __future__ import annotations

import pytest

from deploy.local_nginx import nginx_binary
from deploy.restore_drill import drill, passed
from tests.support.env import POSTGRES_URL


def test_a_backup_restores_into_a_service_that_checks_out() -> None:
    if POSTGRES_URL is None:
        pytest.skip("the drill runs on PostgreSQL (PDR_TEST_DATABASE_URL)")
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    report = drill(POSTGRES_URL)
    assert passed(report), report
