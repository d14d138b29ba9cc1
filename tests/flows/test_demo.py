"""The demo, twice on one database, delivering real e-mail to a loopback SMTP server."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from rich.console import Console
from sqlmodel import Session, select

from planflow.models import Plan, ReportRequest, State
from tests.notifications.conftest import Inbox, free_port

pytestmark = pytest.mark.flows


def test_demo_runs_twice_and_the_second_run_sends_nothing(
    engine, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from planflow.config.settings import get_settings
    from planflow.demo import run_demo

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setenv("PLANFLOW_CHANNELS", "email")
        monkeypatch.setenv("PLANFLOW_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PLANFLOW_SMTP_PORT", str(controller.port))
        get_settings.cache_clear()
        first_out = Console(record=True, width=140)
        report = run_demo(console=first_out)
        delivered = len(inbox.envelopes)
        second_out = Console(record=True, width=140)
        run_demo(console=second_out)
    finally:
        controller.stop()
    assert report.exists()
    assert delivered > 1000  # plan-issued, overdue, escalation, digest, returned messages
    assert len(inbox.envelopes) == delivered  # the second run delivers nothing again
    first = message_from_bytes(inbox.envelopes[0].content, policy=policy.default)
    assert first["To"].endswith("@demo.planflow.test")
    text = second_out.export_text()
    assert "reused  plan" in text and "0 sent" in text
    with Session(engine) as s:
        assert s.exec(select(Plan).where(Plan.parent_id.is_(None))).all().__len__() == 1
        returned = s.exec(
            select(ReportRequest).where(ReportRequest.status == State.submitted)
        ).all()
        assert returned == []  # everything submitted was aggregated
