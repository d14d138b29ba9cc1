"""Signed access links to the units' portal: a random token bound to one unit, kept only as its
SHA-256, with an expiry, revocable. Every message to a unit carries a fresh one."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import Session, col

from planflow.config.settings import get_settings
from planflow.models import AccessLink
from planflow.models.time import utcnow

TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters


def hash_token(token: str) -> str:
    """The hex SHA-256 the database keeps instead of the token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_link(unit_id: int, *, expires_at: datetime | None = None) -> tuple[AccessLink, str]:
    """A new link row for ``unit_id``, not yet in any session, and its token, which exists
    nowhere else. A message's link is added to the session only when the message itself is
    queued (``outbox.enqueue``), so a de-duplicated message leaves no link behind."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    row = AccessLink(
        unit_id=unit_id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=expires_at or now + timedelta(days=get_settings().link_days),
    )
    return row, token


def mint(
    session: Session, unit_id: int, *, expires_at: datetime | None = None
) -> tuple[AccessLink, str]:
    """A new link row for ``unit_id`` (added to the session) and its token."""
    row, token = new_link(unit_id, expires_at=expires_at)
    session.add(row)
    return row, token


def portal_url(token: str, path: str = "/") -> str:
    """The link a message carries: opening it starts a session and lands on ``path``."""
    base = get_settings().public_url.rstrip("/")
    url = f"{base}/l/{token}"
    return url if path in ("", "/") else f"{url}?next={quote(path, safe='/')}"


def page_url(path: str) -> str:
    """An absolute address on the portal without a token (for text that names a page)."""
    return get_settings().public_url.rstrip("/") + path


def revoke_all(session: Session, unit_id: int) -> int:
    """End every live link of ``unit_id`` (and so every session opened with one)."""
    result = session.execute(
        update(AccessLink)
        .where(col(AccessLink.unit_id) == unit_id, col(AccessLink.revoked_at).is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
