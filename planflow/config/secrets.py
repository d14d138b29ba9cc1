"""Secret values known to the process, hidden from every log record and error text.

Every ``SecretStr`` setting is registered when the settings are read, and channels register
what they load or receive (rotated Zalo tokens). The hiding is done by the log record factory,
so it covers every logger (planflow's, Prefect's, SQLAlchemy's, the root) and the tracebacks
they format, not just the loggers someone remembered to give a filter.
"""

from __future__ import annotations

import logging
import threading

REDACTED = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Remember a secret value so that ``scrub`` and every log record hide it from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
        install_log_scrubbing()


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    message = record.getMessage()
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def install_log_scrubbing() -> None:
    """Wrap the process's log record factory once so that every record is scrubbed."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)
