"""Run by test_crash in a subprocess: dispatch over SMTP, then die hard after N sends return.

``os._exit`` skips every ``finally`` and commit, like ``kill -9`` between a send and its mark.
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import datetime

from sqlalchemy import create_engine

from planflow.notifications.channels import SmtpChannel, SmtpSettings
from planflow.notifications.dispatcher import dispatch_due


class DieAfter:
    def __init__(self, inner, n: int):
        self.inner, self.name, self.left = inner, inner.name, n
        self.lock = threading.Lock()

    def send(self, message):
        provider_id = self.inner.send(message)
        with self.lock:
            self.left -= 1
            if self.left == 0:
                os._exit(137)
        return provider_id


def main() -> None:
    url, port, kill_after, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    engine = create_engine(url)
    smtp = SmtpChannel(
        SmtpSettings(host="127.0.0.1", port=port, sender="planflow@hadong.example.vn")
    )
    dispatch_due(
        engine=engine,
        channels={"email": DieAfter(smtp, kill_after)},
        now=datetime.fromisoformat(now),
        batch_size=8,
        concurrency=4,
    )
    sys.exit(3)  # never reached when the kill fires


if __name__ == "__main__":
    main()
