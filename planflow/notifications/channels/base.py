"""What every channel is: a name and a ``send`` that returns the provider's message id."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Outgoing:
    """One outbox row as a channel sees it: plain data, safe to hand to a thread."""

    id: int
    key: str
    kind: str
    channel: str
    address: str
    subject: str
    body_text: str
    body_html: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """A stable hex name for the key: Message-ID, ZNS tracking id, file name."""
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:32]

    @property
    def file_stem(self) -> str:
        """A readable, filesystem-safe name derived from the key alone."""
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", self.key)[:120].strip("_")
        return f"{readable}-{self.digest[:10]}"


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a message; raises TransientSendError or PermanentSendError."""

    name: str

    def send(self, message: Outgoing) -> str:
        """Deliver ``message``; return the provider's id for it."""
        ...
