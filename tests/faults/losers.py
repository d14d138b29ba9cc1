"""The processes of the losers' races (``python -m tests.faults.losers ROLE …``).

    cascade-holder PLAN_ID DIR   cascade the plan in one transaction, holding it open after its
                                 first sub-plans are written until the other cascade has read
    cascade-cli PLAN_ID DIR      ``planflow plan cascade PLAN_ID`` (the flow), as an officer runs it
    upgrade N DIR                ``planflow db upgrade``, the migration held inside its lock until
                                 the other upgrade has started too

Barrier files in DIR order them; each prints what an officer would read.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.faults.racers import wait_for


def wait_any(flag: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not flag.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def cascade_holder(plan_id: int, folder: Path) -> None:
    from planflow.config.db import session_scope
    from planflow.services import cascade

    original = cascade._create_sub_plans
    held = []

    def holding(*args, **kwargs):
        out = original(*args, **kwargs)
        if not held:
            held.append(True)
            (folder / "holder-wrote").touch()
            wait_for(folder / "loser-started")
            # the loser reads, then runs into our rows (or, where it locks before reading,
            # waits for us: it never gets to read, so do not wait for that forever)
            if wait_any(folder / "loser-writing", 10):
                time.sleep(1.0)
        return out

    cascade._create_sub_plans = holding  # type: ignore[assignment]
    with session_scope() as session:
        result = cascade.cascade_plan(session=session, plan_id=plan_id)
    print(f"ok created {result.created} requests {result.requests_created}")


def cascade_cli(plan_id: int, folder: Path) -> None:
    from planflow import cli
    from planflow.services import cascade

    original_plan, original_create = cascade.cascade_plan, cascade._create_sub_plans

    def started(*args, **kwargs):
        (folder / "loser-started").touch()
        return original_plan(*args, **kwargs)

    def writing(*args, **kwargs):
        (folder / "loser-writing").touch()
        return original_create(*args, **kwargs)

    cascade.cascade_plan = started  # type: ignore[assignment]
    cascade._create_sub_plans = writing  # type: ignore[assignment]
    wait_for(folder / "holder-wrote")
    sys.argv = ["planflow", "plan", "cascade", str(plan_id)]
    cli.main()


def upgrade(n: int, folder: Path) -> None:
    from alembic import command

    from planflow import cli

    original = command.upgrade

    def held(*args, **kwargs):  # inside the migration lock
        (folder / f"migrating-{n}").touch()
        wait_for(folder / f"started-{1 - n}")
        time.sleep(1.0)  # the other is now at the lock (or, without one, migrating too)
        return original(*args, **kwargs)

    command.upgrade = held  # type: ignore[assignment]
    (folder / f"started-{n}").touch()
    sys.argv = ["planflow", "db", "upgrade"]
    cli.main()


if __name__ == "__main__":
    role, arg, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    {"cascade-holder": cascade_holder, "cascade-cli": cascade_cli, "upgrade": upgrade}[role](
        arg, folder
    )
