"""Every link in every message of the demo's outbox opens a page of a running portal (200)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select
from sqlmodel import Session

from planflow.models import OutboxMessage
from planflow.portal import create_app
from tests.portal.test_browser import free_port

LINK = re.compile(r"https?://[^\s)\"'<>]+")


def test_every_link_of_every_demo_message_opens_a_page(engine, tmp_path: Path, monkeypatch):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PLANFLOW_PUBLIC_URL": base,
        "PLANFLOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "COLUMNS": "140",
    }
    demo = subprocess.run(
        [sys.executable, "-m", "planflow", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    with Session(engine) as session:
        messages = list(session.execute(select(OutboxMessage)).scalars())
    kinds = Counter(m.kind for m in messages)
    # every kind the demo writes (its reminders arrive inside the daily digests)
    assert {"plan_issued", "overdue", "escalation", "digest", "returned"} <= set(kinds), kinds

    monkeypatch.setenv("PLANFLOW_PUBLIC_URL", base)
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
        assert followed >= len(messages)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
