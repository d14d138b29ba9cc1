"""Zalo: Official Account consultation messages (by user id) and ZNS template messages (by phone).

Zalo answers most failures with HTTP 200 and a negative ``error``; ``ZALO_ERRORS`` is the one
place that says what each documented code means for us. The OA's access token lives ~25 h and
its refresh token is single-use, so every rotation is committed to ``zalo_token`` before the new
access token is used: losing the new refresh token would lock the account out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from planflow.config.db import conflict_insert
from planflow.models.outbox import ZaloToken
from planflow.models.time import utcnow
from planflow.notifications.channels.base import Outgoing
from planflow.notifications.errors import (
    PermanentSendError,
    TransientSendError,
    get_logger,
    register_secret,
    scrub,
)
from planflow.notifications.phones import normalise_phone

log = get_logger(__name__)

EARLY_REFRESH = timedelta(minutes=5)  # refresh a token this long before Zalo says it expires


class Outcome(Enum):
    token = "token"  # refresh the access token once, then retry once
    permanent = "permanent"  # this address cannot be reached this way: dead, not retried
    transient = "transient"  # retry later with backoff


# Documented codes (Zalo OA API v3 and ZNS "Cách xử lý mã lỗi"); unknown codes are transient.
ZALO_ERRORS: dict[int, tuple[Outcome, str]] = {
    -216: (Outcome.token, "access token invalid or expired"),
    -124: (Outcome.token, "access token invalid (ZNS)"),
    -201: (Outcome.permanent, "invalid parameter (user id)"),
    -213: (Outcome.permanent, "user does not follow the Official Account"),
    -230: (Outcome.permanent, "user has not interacted with the OA in the last 7 days"),
    -108: (Outcome.permanent, "phone number invalid"),
    -109: (Outcome.permanent, "ZNS template id invalid"),
    -112: (Outcome.permanent, "ZNS template data invalid"),
    -114: (Outcome.permanent, "user inactive, refuses ZNS or runs an outdated Zalo"),
    -118: (Outcome.permanent, "Zalo account does not exist or is deactivated"),
    -119: (Outcome.permanent, "account cannot receive ZNS"),
    -100: (Outcome.transient, "unknown Zalo error"),
    -115: (Outcome.transient, "ZNS quota exhausted"),
    -32: (Outcome.transient, "rate limit exceeded"),
}


def classify(code: int) -> tuple[Outcome, str]:
    """What a Zalo ``error`` code means for this message."""
    return ZALO_ERRORS.get(code, (Outcome.transient, "undocumented Zalo error"))


@dataclass(frozen=True)
class ZaloSettings:
    oa_base_url: str
    zns_base_url: str
    oauth_base_url: str
    app_id: str
    secret_key: SecretStr = field(repr=False)
    access_token: SecretStr | None = field(default=None, repr=False)
    refresh_token: SecretStr | None = field(default=None, repr=False)
    zns_template_id: str | None = None
    timeout: float = 10.0


class ZaloTokens:
    """The OA's token pair, read from and rotated in the database, shared by both Zalo channels."""

    def __init__(self, config: ZaloSettings, *, engine: Engine, http: httpx.Client):
        self.config = config
        self.engine = engine
        self.http = http
        self._lock = threading.Lock()
        self._cached: tuple[str, datetime | None] | None = None
        register_secret(config.secret_key.get_secret_value())
        for token in (config.access_token, config.refresh_token):
            register_secret(token.get_secret_value() if token else None)

    def __repr__(self) -> str:
        return f"ZaloTokens(app_id={self.config.app_id!r})"

    def _seed(self, session: Session) -> None:
        """Store the configured pair once; afterwards the database row is the truth."""
        c = self.config
        if c.refresh_token is None:
            return
        stmt = conflict_insert(self.engine, ZaloToken).values(
            app_id=c.app_id,
            access_token=c.access_token.get_secret_value() if c.access_token else "",
            refresh_token=c.refresh_token.get_secret_value(),
            expires_at=None,
            rotations=0,
            updated_at=utcnow(),
        )
        session.execute(stmt.on_conflict_do_nothing(index_elements=["app_id"]))

    def access_token(self) -> str:
        """A usable access token: cached, else from the database, refreshed when about to expire."""
        with self._lock:
            cached = self._cached
        if cached is None:
            with Session(self.engine) as session:
                self._seed(session)
                session.commit()
                row = session.get(ZaloToken, self.config.app_id)
                if row is None:
                    raise TransientSendError(
                        "no Zalo token stored; set PLANFLOW_ZALO_REFRESH_TOKEN"
                    )
                cached = (row.access_token, row.expires_at)
                register_secret(row.access_token)
                register_secret(row.refresh_token)
            with self._lock:
                # a refresh may have finished meanwhile: never overwrite its newer token
                self._cached = cached = self._cached or cached
        token, expires_at = cached
        if not token or (expires_at is not None and utcnow() >= expires_at - EARLY_REFRESH):
            return self.refresh(token)
        return token

    def refresh(self, stale: str) -> str:
        """Rotate the pair unless someone already replaced ``stale``; commit before returning."""
        with self._lock, Session(self.engine, expire_on_commit=False) as session:
            self._seed(session)
            # the no-op update takes the write lock (PostgreSQL row lock, SQLite RESERVED), so
            # two dispatchers never spend the same single-use refresh token
            session.execute(
                update(ZaloToken)
                .where(col(ZaloToken.app_id) == self.config.app_id)
                .values(rotations=ZaloToken.rotations)
            )
            row = session.get(ZaloToken, self.config.app_id, populate_existing=True)
            if row is None:
                raise TransientSendError("no Zalo token stored; set PLANFLOW_ZALO_REFRESH_TOKEN")
            if row.access_token and row.access_token != stale:
                session.commit()
                self._cached = (row.access_token, row.expires_at)
                return row.access_token
            pair = self._call_refresh(row.refresh_token)
            row.access_token = pair["access_token"]
            row.refresh_token = pair["refresh_token"]
            row.expires_at = pair["expires_at"]
            row.rotations += 1
            row.updated_at = utcnow()
            session.add(row)
            try:
                session.commit()
            except Exception:
                log.critical(
                    "Zalo token pair rotated but NOT stored for app %s: the OA must be "
                    "re-authorised",
                    self.config.app_id,
                )
                raise
            log.info("Zalo access token refreshed for app %s", self.config.app_id)
            self._cached = (row.access_token, row.expires_at)
            return row.access_token

    def _call_refresh(self, refresh_token: str) -> dict[str, Any]:
        url = f"{self.config.oauth_base_url.rstrip('/')}/v4/oa/access_token"
        try:
            response = self.http.post(
                url,
                headers={"secret_key": self.config.secret_key.get_secret_value()},
                data={
                    "refresh_token": refresh_token,
                    "app_id": self.config.app_id,
                    "grant_type": "refresh_token",
                },
                timeout=self.config.timeout,
            )
        except httpx.HTTPError as exc:
            raise TransientSendError(f"Zalo token refresh failed: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not body.get("access_token"):
            code = body.get("error", "none") if isinstance(body, dict) else "none"
            raise TransientSendError(
                f"Zalo token refresh refused (HTTP {response.status_code}, error {code}); "
                "an operator may need to store a new refresh token"
            )
        for key in ("access_token", "refresh_token"):
            register_secret(body.get(key))
        if not body.get("refresh_token"):
            raise TransientSendError("Zalo token refresh returned no refresh token")
        try:
            expires_at = utcnow() + timedelta(seconds=int(body.get("expires_in")))
        except (TypeError, ValueError):
            expires_at = None
        return {
            "access_token": body["access_token"],
            "refresh_token": body["refresh_token"],
            "expires_at": expires_at,
        }


class _ZaloChannel:
    """What the OA and ZNS channels share: the authenticated POST and the error mapping."""

    name = "zalo"
    _id_field = "message_id"

    def __init__(self, tokens: ZaloTokens, *, base_url: str, http: httpx.Client):
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.http = http

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url})"

    def _post(self, path: str, payload: dict[str, Any]) -> str:
        token = self.tokens.access_token()
        for attempt in (1, 2):
            try:
                response = self.http.post(
                    self.base_url + path,
                    headers={"access_token": token},
                    json=payload,
                    timeout=self.tokens.config.timeout,
                )
            except httpx.TimeoutException:
                raise TransientSendError("Zalo did not answer in time") from None
            except httpx.HTTPError as exc:
                raise TransientSendError(f"Zalo unreachable: {type(exc).__name__}") from None
            status = response.status_code
            if status >= 500 or status == 429:
                raise TransientSendError(f"Zalo HTTP {status}")
            if status >= 400:
                raise PermanentSendError(f"Zalo HTTP {status}")
            try:
                body = response.json()
                code = int(body.get("error", 0))
            except (ValueError, TypeError, AttributeError):
                raise TransientSendError("Zalo answered something that is not its JSON") from None
            if code == 0:
                data = body.get("data") or {}
                return str(data.get(self._id_field) or data.get("message_id") or "")
            outcome, meaning = classify(code)
            if outcome is Outcome.token and attempt == 1:
                token = self.tokens.refresh(token)
                continue
            text = scrub(f"Zalo error {code}: {meaning}")
            if outcome is Outcome.permanent:
                raise PermanentSendError(text)
            raise TransientSendError(text)
        raise TransientSendError("Zalo refused the refreshed access token")  # pragma: no cover


class ZaloOAChannel(_ZaloChannel):
    """Consultation message (``/v3.0/oa/message/cs``) to a user who follows the OA."""

    name = "zalo"

    def send(self, message: Outgoing) -> str:
        """Send ``body_text`` to the Zalo user id in ``address``."""
        payload = {
            "recipient": {"user_id": message.address},
            "message": {"text": message.body_text},
        }
        return self._post("/v3.0/oa/message/cs", payload)


class ZnsChannel(_ZaloChannel):
    """ZNS template message (``/message/template``) to a phone number."""

    name = "zns"
    _id_field = "msg_id"

    def __init__(self, tokens: ZaloTokens, *, base_url: str, http: httpx.Client, template_id: str):
        super().__init__(tokens, base_url=base_url, http=http)
        self.template_id = template_id

    def send(self, message: Outgoing) -> str:
        """Send the row's ``params`` as the approved template's data to the phone in ``address``."""
        phone = normalise_phone(message.address)
        if phone is None:
            raise PermanentSendError("not a Vietnamese phone number")
        payload = {
            "phone": phone,
            "template_id": self.template_id,
            "template_data": dict(message.params),
            "tracking_id": message.digest,
        }
        return self._post("/message/template", payload)
