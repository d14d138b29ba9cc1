"""Send failures, configuration errors, and the scrubbing that keeps secrets out of text."""

from __future__ import annotations

import logging

from planflow.config.secrets import REDACTED, install_log_scrubbing, register_secret, scrub
from planflow.errors import PlanflowError

__all__ = [
    "REDACTED",
    "ChannelConfigError",
    "PermanentSendError",
    "SendError",
    "TransientSendError",
    "get_logger",
    "register_secret",
    "scrub",
]


class SendError(PlanflowError):
    """A channel could not deliver one message; the text never carries a secret."""


class TransientSendError(SendError):
    """Worth retrying later: timeouts, 5xx, a throttled or temporarily broken provider."""


class PermanentSendError(SendError):
    """Retrying cannot help for this address: invalid phone, unknown user, rejected recipient."""


class ChannelConfigError(PlanflowError):
    """A channel named in PLANFLOW_CHANNELS lacks a setting; the message names the setting."""


def get_logger(name: str) -> logging.Logger:
    """A logger for notification code; every record is scrubbed (``install_log_scrubbing``)."""
    install_log_scrubbing()
    return logging.getLogger(name)
