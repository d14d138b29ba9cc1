"""Send failures, configuration errors, and the scrubbing that keeps secrets out of text."""

from __future__ import annotations

import logging
import threading

from planflow.states.errors import PlanflowError

REDACTED = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()


class SendError(Exception):
    """A channel could not deliver one message; the text never carries a secret."""


class TransientSendError(SendError):
    """Worth retrying later: timeouts, 5xx, a throttled or temporarily broken provider."""


class PermanentSendError(SendError):
    """Retrying cannot help for this address: invalid phone, unknown user, rejected recipient."""


class ChannelConfigError(PlanflowError):
    """A channel named in PLANFLOW_CHANNELS lacks a setting; the message names the setting."""


def register_secret(value: str | None) -> None:
    """Remember a secret value so that ``scrub`` and the log filter hide it from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class ScrubSecrets(logging.Filter):
    """A logging filter that formats the record once and hides registered secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


logger = logging.getLogger("planflow.notifications")
logger.addFilter(ScrubSecrets())


def get_logger(name: str) -> logging.Logger:
    """A child of ``planflow.notifications`` whose records pass through the secret filter."""
    child = logging.getLogger(name)
    if not any(isinstance(f, ScrubSecrets) for f in child.filters):
        child.addFilter(ScrubSecrets())
    return child
