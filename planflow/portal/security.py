"""Sessions, CSRF and the failed-link limiter of the portal.

A session is a signed cookie holding the access link's id and a CSRF token; it carries no
token of the link itself. The signing secret is ``PLANFLOW_SESSION_SECRET`` or, when unset, a
random one written once to ``<data dir>/portal-secret`` (mode 0600).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from planflow.config.db import conflict_insert
from planflow.config.settings import get_settings
from planflow.models import FailedLinkCount
from planflow.models.base import table_of

COOKIE = "planflow_portal"


@cache
def _secret_for(data_dir: Path, configured: str | None) -> bytes:
    if configured:
        return configured.encode("utf-8")
    path = data_dir / "portal-secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value


def session_secret() -> bytes:
    """The key that signs session cookies."""
    settings = get_settings()
    configured = settings.session_secret.get_secret_value() if settings.session_secret else None
    return _secret_for(settings.data_dir, configured)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionData:
    link_id: int
    csrf: str


def sign_session(data: SessionData) -> str:
    """The cookie value for a session: payload and HMAC-SHA256, both base64url."""
    payload = _b64(json.dumps({"l": data.link_id, "c": data.csrf}).encode("utf-8"))
    mac = hmac.new(session_secret(), payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def read_session(value: str | None) -> SessionData | None:
    """The session a cookie carries, or None when it is missing, malformed or not ours."""
    if not value or value.count(".") != 1:
        return None
    payload, mac = value.split(".")
    expected = hmac.new(session_secret(), payload.encode("ascii"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        data = json.loads(_unb64(payload))
        return SessionData(link_id=int(data["l"]), csrf=str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


class FailureLimiter:
    """At most ``limit`` failed link attempts per client address in the current and the
    previous clock minute, counted in the database (``portal_failed_link``) so that every
    worker process of the portal sees the same count."""

    def __init__(self, engine: Engine, limit: int) -> None:
        self.engine, self.limit = engine, limit
        self.table = table_of(FailedLinkCount)

    @staticmethod
    def _minute() -> int:
        return int(time.time() // 60)

    def blocked(self, address: str) -> bool:
        t = self.table.c
        with self.engine.connect() as conn:
            seen = conn.execute(
                select(func.coalesce(func.sum(t.count), 0)).where(
                    t.address == address[:64], t.minute >= self._minute() - 1
                )
            ).scalar_one()
        return int(seen) >= self.limit

    def failed(self, address: str) -> None:
        minute = self._minute()
        stmt = conflict_insert(self.engine, self.table).values(
            address=address[:64], minute=minute, count=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["address", "minute"], set_={"count": self.table.c.count + 1}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)
            # counts older than the window are of no use (an index on minute keeps this cheap)
            conn.execute(delete(self.table).where(self.table.c.minute < minute - 1))
