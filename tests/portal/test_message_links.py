"""The links of the message kinds the demo does not send, queued by the product's services, open
a page of a running portal (200). ``serving`` and ``follow`` also serve the demo's link test
(tests/demo/test_demo.py)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import uvicorn
from sqlalchemy import select
from sqlmodel import Session

from planflow.config.settings import get_settings
from planflow.models import OutboxMessage
from planflow.models.time import local_tz
from planflow.notifications import notify_report_requested
from planflow.notifications.reminders import plan_reminders, stage_dates
from planflow.portal import create_app
from planflow.services.cancel import cancel_plan
from tests.portal.test_browser import free_port

LINK = re.compile(r"https?://[^\s)\"'<>]+")


@contextmanager
def serving(engine, port: int, monkeypatch) -> Iterator[None]:
    """The portal on ``engine``, served by uvicorn on 127.0.0.1:``port`` while inside."""
    monkeypatch.setenv("PLANFLOW_PUBLIC_URL", f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def follow(messages: list[OutboxMessage], base: str) -> int:
    """Open every link of every message as its unit would; each must answer 200. Returns how
    many links were followed."""
    followed = 0
    for message in messages:
        urls = set(LINK.findall(message.body_text))
        assert urls, f"message {message.id} ({message.kind}) carries no link"
        if message.body_html:  # the HTML part carries the same links
            assert set(LINK.findall(message.body_html.replace("&amp;", "&"))) == urls
        for url in urls:
            assert url.startswith(f"{base}/l/"), (message.kind, url)
            # each link is opened as the unit would: a fresh browser, redirects followed
            with httpx.Client(follow_redirects=True, timeout=30) as browser:
                page = browser.get(url)
            assert page.status_code == 200, (
                message.kind,
                url.split("/l/")[0],
                page.text[:300],
            )
            assert "/l/" not in str(page.url)
            followed += 1
    return followed


def test_links_of_the_kinds_the_demo_does_not_send_open_a_page(engine, world, monkeypatch):
    """report_requested, reminder and plan_cancelled, queued by the product's own services
    (the demo's run sends none of them on their own: its reminders arrive inside digests)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PLANFLOW_PUBLIC_URL", base)
    get_settings.cache_clear()
    with Session(engine, expire_on_commit=False) as session:
        for unit, address in ((world.ward, "vanquan"), (world.sibling, "molao")):
            row = session.merge(unit)
            row.emails = [f"{address}@hadong.example.vn"]
            session.add(row)
        session.commit()
        notify_report_requested(session, request_id=world.six_month.id, channels=["email"])
        # the first reminder stage of the sibling ward's only open request: a 'reminder'
        first = stage_dates(world.sibling_request.deadline, get_settings())[0][1]
        noon = datetime.combine(first, datetime.min.time().replace(hour=12), tzinfo=local_tz())
        plan_reminders(session=session, now=noon, channels=["email"])
        session.commit()
        cancel_plan(
            session=session, plan_id=world.plan.id, reason="Thay bằng kế hoạch mới", actor="t"
        )
        session.commit()
        messages = list(session.execute(select(OutboxMessage)).scalars())
    kinds = Counter(m.kind for m in messages)
    assert {"report_requested", "reminder", "plan_cancelled"} <= set(kinds), kinds
    with serving(engine, port, monkeypatch):
        assert follow(messages, base) == len(messages)
