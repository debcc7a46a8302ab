"""Logging: plain text or one JSON object per line, and the id of the request a record was made for.

:data:`request_id` is set by :class:`questlab.web.requestid.RequestIdMiddleware` for each request.
Context variables follow ``await`` and the tasks a request starts, so every record made while
handling it carries ``record.request_id`` (the runner's line for a run included); records made
outside any request carry ``None``.

JSON lines (``QUESTLAB_LOG_FORMAT=json``) have the keys ``time`` (UTC, ISO 8601 with milliseconds),
``level``, ``logger``, ``message``, ``request_id`` (when known) and ``exception`` (the traceback, when
the record has one).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

request_id: ContextVar[str | None] = ContextVar("questlab_request_id", default=None)
"""The id of the request being handled in this context, or ``None``."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "questlab"

_installed = False


def install_record_factory() -> None:
    """Make every log record carry ``request_id`` (from :data:`request_id`); idempotent.

    A record factory rather than a handler filter, so that every handler sees the attribute,
    including those added later (a test's capture handler).
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON (see the module docstring for its keys)."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line (newlines in the message are escaped)."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(log_format: Literal["text", "json"] = "text", level: int = logging.INFO) -> logging.Handler:
    """Send every log record to stderr in ``log_format`` through one handler on the root logger.

    The handler replaces the one an earlier call installed; other handlers (a test runner's) stay.

    Args:
        log_format: ``"text"`` (``time level logger: message``) or ``"json"`` (one object a line).
        level: the root logger's level.

    Returns:
        The handler now on the root logger.

    Raises:
        ValueError: for another ``log_format``.
    """
    if log_format not in ("text", "json"):
        raise ValueError(f"log_format must be 'text' or 'json', not {log_format!r}")
    install_record_factory()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
