"""Prefect flows. This package's own module sets Prefect's environment defaults and imports
no Prefect itself, so the CLI can set them before Prefect reads its settings (once, on import)."""

from __future__ import annotations

import os

PREFECT_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # the first local flow run starts a temporary server: 10-23 s measured on 2 cores
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def prefect_env_defaults(quiet: bool = False, console: str | None = None) -> None:
    """Set Prefect's environment defaults that planflow relies on, unless already set; call it
    before Prefect is imported. ``quiet``: Prefect's console shows warnings and errors only;
    ``console``: that level instead (the CLI: ``CRITICAL``, its own one-line error says why)."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if console or quiet:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", console or "WARNING")
