"""The demo channel: each message becomes an .eml file under the outbox folder."""

from __future__ import annotations

from pathlib import Path

from planflow.config.files import write_private
from planflow.notifications.channels.base import Outgoing
from planflow.notifications.channels.email import build_email
from planflow.notifications.errors import TransientSendError


class FileChannel:
    """Writes what would have been sent; one file per outbox key, rewritten if sent again."""

    name = "file"

    def __init__(self, folder: Path, *, sender: str = "planflow@localhost"):
        self.folder = Path(folder)
        self.sender = sender

    def __repr__(self) -> str:
        return f"FileChannel({self.folder})"

    def send(self, message: Outgoing) -> str:
        """Write ``<key>.eml`` atomically; the provider id is the file name."""
        mail = build_email(message, sender=self.sender)
        mail["X-Planflow-Channel"] = message.channel
        name = f"{message.file_stem}.eml"
        try:
            write_private(self.folder / name, mail.as_bytes())
        except OSError as exc:
            raise TransientSendError(f"cannot write the outbox file: {exc.strerror}") from None
        return name
