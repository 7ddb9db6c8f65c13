"""Logging: plain text for people, JSON lines for collectors, each line with its request id.

Nothing a client sends can forge a line: control characters (CR, LF, ESC, DEL, C1, the Unicode line
separators) are escaped in every message and field. Exceptions are written as their classes and frames, never
their text: an SQLAlchemy error's text holds the statement and its bound parameters, and others may quote user
data.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any

from storage.db import error_summary

request_id_var: ContextVar[str | None] = ContextVar("pdr_request_id", default=None)

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: anything a terminal or a log
# viewer may take for the end of a line or a command.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Lines of a traceback in the text log start with this, so none can pass for a record of its own.
CONTINUATION = "    | "


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(value: str) -> str:
    """The text with every control character written as a visible escape (``\\x0a``, ``\\u2028``)."""
    return _CONTROL.sub(_escape_one, value)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return escape_control(value)
    if isinstance(value, dict):
        return {escape_control(str(k)): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def _frames(tb: TracebackType | None) -> list[str]:
    # File, line and function only: the source line may hold literal SQL, and it says nothing the file does not.
    return [f'File "{f.filename}", line {f.lineno}, in {f.name}' for f in traceback.extract_tb(tb)]


def safe_traceback(error: BaseException) -> str:
    """The error and what caused it, oldest first: each one's class (and database error code) and frames."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = []
    for index, exc in enumerate(reversed(chain)):
        if index:
            parts.append("which led to:")
        parts.append("Traceback (most recent call last):")
        parts.extend("  " + frame for frame in _frames(exc.__traceback__))
        name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
        summary = error_summary(exc)
        parts.append(name + summary.removeprefix(type(exc).__name__) + " (message withheld)")
        if isinstance(exc, BaseExceptionGroup):
            parts.append("  holding: " + ", ".join(error_summary(member) for member in exc.exceptions))
    return "\n".join(escape_control(part) for part in parts)


def _exception_of(record: logging.LogRecord) -> BaseException | None:
    info = record.exc_info
    if not info or info[1] is None:
        return None
    return info[1]


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add request_id to the record; never drops it."""
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    """One line a record, escaped; a traceback follows on lines indented under it."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one escaped line, plus its traceback's indented lines."""
        record.message = escape_control(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        fields = {
            **record.__dict__,
            "name": escape_control(record.name),
            "request_id": escape_control(str(getattr(record, "request_id", None) or "-")),
        }
        line = self._style._fmt % fields
        extra_lines: list[str] = []
        error = _exception_of(record)
        if error is not None:
            extra_lines.extend(safe_traceback(error).splitlines())
        if record.stack_info:
            extra_lines.extend(escape_control(part) for part in record.stack_info.splitlines())
        return "\n".join([line, *(CONTINUATION + part for part in extra_lines)])


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the record's extra fields, escaped."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": escape_control(record.name),
            "message": escape_control(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[escape_control(key)] = _escaped(value)
        error = _exception_of(record)
        if error is not None:
            line["exception"] = safe_traceback(error)
        return json.dumps(line, ensure_ascii=False, default=lambda v: escape_control(str(v)))


def make_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to the stream (stderr) in the chosen format, each record with its request id."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` form of pdr's logging: one handler on the root logger, in the chosen format.

    Uvicorn applies it in every worker process it starts (`log_config`), which begin with logging unconfigured.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"pdr": {"()": f"{__name__}.make_handler", "log_format": log_format}},
        "root": {"handlers": ["pdr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Our middleware writes the access line itself, with the request id and the route.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
        },
    }


def configure_logging(log_format: str, level: str) -> None:
    """Install one handler on the root logger in the chosen format."""
    logging.config.dictConfig(logging_config(log_format, level))
