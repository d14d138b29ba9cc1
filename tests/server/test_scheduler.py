"""The deployments on a real Prefect server: its scheduler creates the 07:30 runs, and a run
created through the API is executed to completion by ``planflow serve``.

``prefect_test_harness`` runs no scheduler service, so only a test like this one catches a
scheduler that fails (as Prefect 3.8's does on SQLAlchemy 2.1: no run is ever scheduled).
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.server.conftest import BIN, PrefectServer, wait_for

pytestmark = pytest.mark.server

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_daily_sweep_is_scheduled_at_0730_and_a_run_completes(
    prefect_server: PrefectServer, tmp_path
) -> None:
    subprocess.run([str(BIN / "planflow"), "db", "init"], env=prefect_server.env, check=True,
                   capture_output=True, timeout=120)
    serve_log = tmp_path / "serve.log"
    prefect_server.start([str(BIN / "planflow"), "serve"], log=serve_log)
    deployment = wait_for(
        "planflow serve to register the daily-sweep deployment",
        lambda: prefect_server.deployment("daily-sweep"), timeout=120,
    )

    def scheduled() -> list[dict]:
        return prefect_server.api("POST", "/flow_runs/filter", json={
            "deployments": {"id": {"any_": [deployment["id"]]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        })

    runs = wait_for("the scheduler to create daily-sweep runs", scheduled, timeout=90, every=2)
    starts = [datetime.fromisoformat(r["expected_start_time"]).astimezone(HCM) for r in runs]
    assert all((s.hour, s.minute) == (7, 30) for s in starts), starts
    assert len({s.date() for s in starts}) == len(starts)  # one a day

    created = prefect_server.api(
        "POST", f"/deployments/{deployment['id']}/create_flow_run",
        json={"parameters": {"send": False}},
    )
    run = prefect_server.wait_final(created["id"], timeout=180)
    assert run["state"]["type"] == "COMPLETED", (
        run["state"], serve_log.read_text()[-3000:]
    )
    assert "bulk DML" not in prefect_server.log.read_text()
