"""Log lines as JSON (LOG_FORMAT=json): one object per line with the time (UTC), level, logger,
message and the request id, for a log collector to parse instead of guess.

Nothing is added to what the service logs anyway, and the service never logs personal data:
a line is the message as written, and the id of the request it was written in (null outside a
request and on the anonymous channel, see incidents/request_id.py).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from incidents import request_id


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, and the
    traceback as ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.current(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (a test's capture included)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def json_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler._incidents_json = True
    return handler


def install_json(root: logging.Logger | None = None) -> logging.Handler:
    """The JSON handler on the root logger, once per process: every logger (the service's,
    the scheduler's, APScheduler's, the development server's) then writes JSON lines."""
    root = root or logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_incidents_json", False):
            return handler
    handler = json_handler()
    root.addHandler(handler)
    return handler
