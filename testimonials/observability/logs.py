"""Request ids in every log record, and a JSON formatter (LOG_FORMAT=json).

The id of the request (or of the Celery task) being handled lives in a context variable: the
middleware sets it for a request, a task_prerun signal for a task, and `RequestIdFilter` copies it
onto every record, so a line written deep in a service still says which request caused it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("vouch_request_id", default="-")

# What an id from a trusted proxy may look like: nginx's $request_id (32 hex), a UUID, a cloud trace id.
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# The attributes every LogRecord has; anything else was passed in `extra=` and goes into the JSON.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request or task) unless the call passed its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, then any
    `extra=` fields, and the traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
