"""The processes of the aggregation races (``python -m tests.faults.racers ROLE …``).

Each runs in its own interpreter with its own connection, as two officers' commands would. A
barrier of files in a folder orders them: one holds its transaction open at a chosen point
(after the aggregation has read what it compiles, or after a return has locked its request)
until the other has started and had time to run into its locks.

    aggregate URL PLAN_ID DIR [hold]   aggregate PLAN_ID's subtree; "hold": pause after reading
    return URL REQUEST_ID DIR [hold]   return REQUEST_ID; "hold": pause before committing

The outcome is one line on stdout: "ok …" or "refused <the error's line>".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HOLD_SECONDS = 2.0  # how long the holder waits once the other is running into its lock
WAIT_SECONDS = 120.0


def wait_for(flag: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not flag.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"barrier: {flag.name} never came")
        time.sleep(0.02)


def hold(folder: Path, mine: str, theirs: str) -> None:
    """Say we hold our transaction open, wait until the other side starts, give it time to
    block on what we hold."""
    (folder / mine).touch()
    wait_for(folder / theirs)
    time.sleep(HOLD_SECONDS)


def main(role: str, url: str, target: int, folder: Path, holding: bool) -> None:
    from sqlmodel import Session

    from planflow.config.db import get_engine
    from planflow.models import ReportKind
    from planflow.services import aggregation, notify, reporting

    engine = get_engine(url)
    if role == "aggregate":
        if holding:
            original = aggregation._write_consolidated

            def paused(*args, **kwargs):
                hold(folder, "aggregation-read", "return-started")
                return original(*args, **kwargs)

            aggregation._write_consolidated = paused  # type: ignore[assignment]
        else:
            wait_for(folder / "return-locked")
            (folder / "aggregation-started").touch()
        with Session(engine) as session:
            result = aggregation.aggregate_period(
                session=session, plan_id=target, kind=ReportKind.six_month, period="2025-H1",
                actor="Phòng LĐTBXH",
            )
            session.commit()
        print(f"ok aggregated {result.aggregated}")
        return
    if holding:
        original_notify = notify.returned

        def paused_notify(*args, **kwargs):
            hold(folder, "return-locked", "aggregation-started")
            return original_notify(*args, **kwargs)

        notify.returned = paused_notify  # type: ignore[assignment]
    else:
        wait_for(folder / "aggregation-read")
        (folder / "return-started").touch()
    with Session(engine) as session:
        try:
            reporting.return_report(
                session=session, request_id=target, reason="Số liệu chưa khớp", actor="Sở LĐTBXH"
            )
            session.commit()
        except Exception as exc:  # the line an officer would read
            session.rollback()
            print(f"refused {type(exc).__name__}: {exc}")
            return
    print("ok returned")


if __name__ == "__main__":
    role, url, target, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    main(role, url, target, folder, holding=sys.argv[5:] == ["hold"])
