"""The service's log as it is written: both formats of `catalog.web.logs`, captured for a test to read."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from catalog.web.logs import make_handler


@dataclass
class CapturedLog:
    """What the text and the JSON handler wrote while the capture was on."""

    text_stream: io.StringIO = field(default_factory=io.StringIO)
    json_stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        """The text log, as written."""
        return self.text_stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """The JSON log, one dict per line (every line must parse)."""
        return [json.loads(line) for line in self.json_stream.getvalue().splitlines() if line]


@contextmanager
def captured_log(level: int = logging.INFO) -> Iterator[CapturedLog]:
    """Add the service's own handlers, in both formats, to the root logger for the block."""
    captured = CapturedLog()
    handlers = [make_handler("text", captured.text_stream), make_handler("json", captured.json_stream)]
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield captured
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(previous)
