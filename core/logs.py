"""The one logging set-up of every front door (bot, scripts): stderr, one format, secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"
# Libraries whose chatter is not actionable for users: each logs at this level or above (or the root level if higher).
LIBRARY_FLOORS = {
    "h5py": logging.WARNING,
    "matplotlib": logging.WARNING,
    "PIL": logging.WARNING,
    "tensorflow": logging.ERROR,  # retracing notices and the like
    "absl": logging.ERROR,
}


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test's capture, a redirect), like logging's last resort."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (``TOONMATCH_LOG_FORMAT=json``, for log shippers): ``time`` (ISO 8601
    UTC, milliseconds), ``level``, ``logger``, ``message``, ``process`` and, for an exception, ``exception`` (the
    traceback as one string). Secrets are already redacted by :class:`RedactSecrets` when this runs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def make_formatter(fmt: str = "text") -> logging.Formatter:
    """The formatter of ``TOONMATCH_LOG_FORMAT``: ``"text"`` (readable lines) or ``"json"``."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(FORMAT, DATE_FORMAT)
    raise ValueError(f"unknown log format {fmt!r} (text or json)")


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token) in every log record, a safety net should anything ever log one."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error reporting
            return True
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "[REDACTED]")
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "[REDACTED]")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(
    level: str | int = "INFO", *secrets: str, floors: Mapping[str, int] | None = None, fmt: str = "text"
) -> None:
    """Root logging to stderr at ``level``, with ``secrets`` redacted by a filter on every root handler (handler
    filters see the records of all child loggers). Handlers installed by others (e.g. a test harness) are kept, and
    calling it again only updates the level, the secrets and the format. ``floors`` adds to :data:`LIBRARY_FLOORS`;
    ``fmt`` is ``"text"`` or ``"json"`` (:class:`JsonFormatter`)."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_toonmatch", False)]
    if not ours:
        handler = _CurrentStderr()
        handler._toonmatch = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(make_formatter(fmt))
    redact = RedactSecrets(*secrets)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactSecrets)]
        handler.addFilter(redact)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name, floor in {**LIBRARY_FLOORS, **(floors or {})}.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
