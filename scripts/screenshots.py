"""Screenshots of the real Prefect UI for docs/: the Resume (approval) form of a paused
issue-plan run, and two Vietnamese artifacts of a compiled period (completeness per committee,
the indicators against their targets) after the demo's simulated reports.

Needs Debian's chromium (/usr/bin/chromium) and Playwright for Python
(``.venv/bin/pip install -e '.[docs]'``); no browser is downloaded.

    PYTHONPATH=. .venv/bin/python scripts/screenshots.py [OUT_DIR]   # default docs/
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
TMP = Path(tempfile.mkdtemp(prefix="planflow-shots-"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
URL = f"http://127.0.0.1:{PORT}"
os.environ.update({
    "PREFECT_HOME": str(TMP / "prefect"),
    "PREFECT_API_URL": f"{URL}/api",
    "PREFECT_UI_API_URL": f"{URL}/api",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PLANFLOW_DATA_DIR": str(TMP / "data"),
    "PLANFLOW_DATABASE_URL": f"sqlite:///{TMP / 'planflow.db'}",
})


def wait(what: str, check, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def healthy() -> bool:
    try:
        return httpx.get(f"{URL}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
         "127.0.0.1", "--port", str(PORT)],
        stdout=(TMP / "server.log").open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        wait("the Prefect server", healthy)
        shoot()
    finally:
        server.terminate()
        server.wait(timeout=30)


def shoot() -> None:
    from playwright.sync_api import sync_playwright
    from sqlmodel import Session

    from planflow.config.db import create_schema, get_engine
    from planflow.demo import DemoLog, issue_sub_plans, simulate_units
    from planflow.flows.plans import issue_plan_flow
    from planflow.flows.reports import aggregate_period_flow
    from planflow.models import ReportKind
    from planflow.services import hierarchy
    from planflow.services.catalogue import load_indicators
    from tests import factories as f

    engine = get_engine()
    create_schema(engine)
    with Session(engine) as s:
        hierarchy.load_units(session=s, province="Hà Nội", tiers=3)
        load_indicators(session=s)
        first = f.hanoi_plan(s, number="01/KH-UBND", issue=False)
        second = f.hanoi_plan(s, number="02/KH-UBND", issue=False)
        s.commit()
        first_id, second_id = first.id, second.id
    issue_plan_flow(first_id, actor="Sở LĐTBXH")
    with Session(engine) as s:  # the demo's sub-plans and simulated reports, so the tables fill
        issue_sub_plans(s, first_id, DemoLog())
        simulate_units(s, first_id, seed=2025, log=DemoLog())
        s.commit()
    aggregate_period_flow(first_id, ReportKind.six_month, "2025-H1", actor="Sở LĐTBXH")
    paused = threading.Thread(
        target=issue_plan_flow, args=(second_id,),
        kwargs={"actor": "Sở LĐTBXH", "require_approval": True, "cascade": False},
        daemon=True,
    )
    paused.start()

    def paused_run() -> str | None:
        runs = httpx.post(f"{URL}/api/flow_runs/filter", json={
            "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}).json()
        return runs[0]["id"] if runs else None

    run_id = wait("the paused issue run", paused_run)
    def artifact(key: str) -> str:
        found = httpx.post(f"{URL}/api/artifacts/filter", json={
            "artifacts": {"key": {"like_": key}}}).json()
        return found[0]["id"]

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--lang=vi-VN"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
        page.goto(f"{URL}/runs/flow-run/{run_id}")
        page.get_by_role("button", name="Resume").first.click()
        page.get_by_text("Người phê duyệt").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "resume-form.png"))
        for key, heading, name in (("tinh-hinh-nop", "Phải nộp", "artifact-vi.png"),
                                   ("so-lieu-tong-hop", "Nữ", "artifact-indicators.png")):
            page.goto(f"{URL}/artifacts/artifact/{artifact(key)}")
            page.get_by_text(heading).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(OUT / name))
        browser.close()
    print(f"wrote resume-form.png, artifact-vi.png and artifact-indicators.png in {OUT}")


if __name__ == "__main__":
    main()
