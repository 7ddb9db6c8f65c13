"""Logging: no forged lines from control characters, the request id on every line of a request (errors too), no
exception text (which may hold SQL, parameters or user data) in either format, and all of it from every worker
process of `pdr serve --workers N`."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.settings import Settings
from catalog.web.logs import TextFormatter, escape_control
from tests.support.logs import captured_log
from tests.support.pdr_process import pdr_env, serving_pdr, wait_for_line

RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")
FORGED = "2026-11-22 08:00:00,000 INFO pdr.access [abc] POST /api/v1/accounts 201"


def test_control_characters_in_the_path_cannot_forge_a_line(client: TestClient) -> None:
    with captured_log() as log:
        response = client.get("/api/v1/x%0d%0a" + FORGED.replace(" ", "%20") + "%0a%1b[31m%e2%80%a8end")
    assert response.status_code == 404
    lines = log.text.splitlines()
    assert not any(line.startswith("2026-11-22 08:00:00,000") for line in lines), log.text
    access = [line for line in lines if " pdr.access " in line]
    assert len(access) == 1
    assert "\x1b" not in log.text and "\u2028" not in log.text and "\r" not in log.text
    [record] = [r for r in log.records() if r["logger"] == "pdr.access"]
    assert "\n" not in record["message"] and "\u2028" not in record["message"]
    assert record["request_id"] == response.headers["x-request-id"]


def test_escaping_is_visible_and_leaves_ordinary_text_alone() -> None:
    assert escape_control("天河区/数据 a.csv") == "天河区/数据 a.csv"
    assert escape_control("a\r\nb\x00c\x7fd\u2028e\x85") == "a\\x0d\\x0ab\\x00c\\x7fd\\u2028e\\x85"


def test_messages_and_fields_of_any_logger_are_escaped() -> None:
    with captured_log() as log:
        logging.getLogger("pdr.test").warning("name=%s", "evil\nFAKE LINE", extra={"field": "x\ry"})
    assert log.text.count("\n") == 1
    [record] = log.records()
    assert record["message"] == "name=evil\\x0aFAKE LINE"
    assert record["field"] == "x\\x0dy"


def test_an_unhandled_error_is_logged_with_its_request_id_and_without_its_text(app: FastAPI) -> None:
    @app.post("/boom")
    def boom() -> None:
        raise ValueError("user data: 13800138000\nFAKE LINE")

    with captured_log() as log, TestClient(app) as client:
        response = client.post("/boom", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500
    errors = [r for r in log.records() if r["level"] == "ERROR"]
    assert errors and all(r["request_id"] == "trace-me" for r in errors)
    assert "ValueError" in errors[0]["exception"]
    assert "13800138000" not in log.text and "FAKE LINE" not in log.text
    # The traceback's frames stay, indented under their line, so none can pass for a line of its own.
    assert any(" ERROR " in line and "[trace-me]" in line for line in log.text.splitlines())
    assert any(line.startswith(" ") for line in log.text.splitlines())
    for line in log.text.splitlines():
        assert RECORD_START.match(line) or line.startswith(" "), line


def test_lines_outside_a_request_say_so() -> None:
    with captured_log() as log:
        logging.getLogger("pdr.test").info("between requests")
    assert "[-]" in log.text
    assert log.records()[0]["request_id"] is None


def test_exception_text_is_withheld_in_both_formats() -> None:
    try:
        raise KeyError("secret-value")
    except KeyError:
        info = sys.exc_info()
    record = logging.LogRecord("pdr.test", logging.ERROR, __file__, 1, "failed", None, info)
    text = TextFormatter().format(record)
    assert "secret-value" not in text and "KeyError" in text and "test_logs.py" in text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_worker_writes_access_lines_with_the_request_id(
    settings: Settings, engine: Engine, tmp_path: Path, log_format: str
) -> None:
    # `engine` has migrated the database and made its keys: what `pdr init` does.
    env = pdr_env(settings.db.database_url, tmp_path, PDR_LOG_FORMAT=log_format)
    request_ids = [f"worker-check-{log_format}-{n}" for n in range(12)]
    with serving_pdr(env, "--workers", "2", cwd=tmp_path) as served:
        wait_for_line(served, "Application startup complete", 2)
        for request_id in request_ids:
            # A connection of its own each time, to be accepted by whichever worker is free.
            answer = httpx.get(served.url + "/api/v1/datasets", headers={"X-Request-ID": request_id})
            assert answer.status_code == 200 and answer.headers["x-request-id"] == request_id
    lines = served.stderr.splitlines()
    if log_format == "json":
        records = [json.loads(line) for line in lines]  # every line of every process is one JSON object
        access = {r["request_id"]: r["message"] for r in records if r["logger"] == "pdr.access"}
    else:
        assert all(RECORD_START.match(line) or line.startswith(" ") for line in lines), served.stderr
        found = (re.search(r" pdr\.access \[([^]]+)\] (.*)$", line) for line in lines)
        access = {match.group(1): match.group(2) for match in found if match}
    assert set(request_ids) <= set(access), served.stderr
    assert all(access[request_id].startswith("GET /api/v1/datasets 200") for request_id in request_ids)
    # Both workers logged their start, like the requests, in the chosen format (checked line by line above).
    assert sum("Started server process" in line for line in lines) == 2, served.stderr
