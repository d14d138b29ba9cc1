"""Benchmark: the 1/7/2025 reorganisation of the whole country, beside its raw-update floor.

Setup (not timed): a fresh SQLite database in a temporary folder with the three-tier country
(63 provinces, 696 districts, 10,051 wards) and the two-tier one (34 provinces, 3,321 communes);
the Hà Nội 2025 draft re-addressed to every province, issued, cascaded and every sub-plan issued
(all through the product's services, benchmarks/data.py), so each ward owes its sub-plan,
six-month and annual reports. Timed: ``reorganise(province="all", on=2025-07-01)`` and its
commit. Floor: the same row changes replayed with raw DB-API ``executemany`` into a copy of the
database taken before the step (benchmarks/floor.py), in the same run.
Target (issue 10): within 3× the floor and under 20 s. Then a re-run, which must change nothing.

Run: ``.venv/bin/python benchmarks/reorganise.py [--province NAME]`` (``make bench`` runs it on
the whole country; ``--province 'Hà Nội'`` makes a quick smoke run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

FOLDER = Path(tempfile.mkdtemp(prefix="planflow-bench-reorganise-"))
DATABASE = FOLDER / "reorganise.db"
# before planflow or Prefect is imported: their state stays in the temporary folder
os.environ["PREFECT_HOME"] = str(FOLDER / "prefect")
os.environ["PLANFLOW_DATA_DIR"] = str(FOLDER / "data")
os.environ["PLANFLOW_DATABASE_URL"] = f"sqlite:///{DATABASE}"
os.environ["PLANFLOW_CHANNELS"] = "file"

if __package__ in (None, ""):  # run as a script: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session  # noqa: E402

from benchmarks import data  # noqa: E402
from benchmarks.floor import Changes, copy_database  # noqa: E402
from planflow.config.db import create_schema, get_engine  # noqa: E402
from planflow.flows.runtime import prefect_env_defaults  # noqa: E402
from planflow.services import hierarchy  # noqa: E402
from planflow.services.cascade import cascade_plan  # noqa: E402
from planflow.services.reorganise import reorganise  # noqa: E402


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--province", default="all", help="Hà Nội for a quick run")
    province = parser.parse_args(argv).province
    prefect_env_defaults(quiet=True)
    engine = get_engine()
    create_schema(engine)
    started = time.perf_counter()
    with Session(engine) as s:
        data.load(s, province)
        hierarchy.load_units(session=s, province=province, tiers=2)
        template = data.import_template(s)
        roots = data.province_plans(s, template)
        data.issue_all(s, roots)
        for plan_id in roots:
            cascade_plan(session=s, plan_id=plan_id)
        issued, drafted = data.issue_sub_plans(s, roots)
        s.commit()
    say(f"setup: {len(roots)} province plans issued and cascaded, {issued:,} sub-plans issued "
        f"({drafted:,} left drafted) ({time.perf_counter() - started:.0f} s, not timed)")
    facts = data.machine_facts(engine)
    before = FOLDER / "before.db"
    engine.dispose()
    copy_database(DATABASE, before)
    started = time.perf_counter()
    with Session(engine) as s:
        result = reorganise(session=s, province=province, on=date(2025, 7, 1))
        s.commit()
    wall = time.perf_counter() - started
    say(f"reorganise {province}: {wall:.2f} s")
    engine.dispose()
    changes = Changes(before, DATABASE)
    mirror = FOLDER / "mirror.db"
    copy_database(before, mirror)
    floor = changes.replay(mirror)
    again = time.perf_counter()
    with Session(engine) as s:
        rerun = reorganise(session=s, province=province, on=date(2025, 7, 1))
        s.commit()
    again = time.perf_counter() - again
    ratio = wall / floor if floor else float("inf")
    met = wall < 20.0 and ratio <= 3.0
    say("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    say(f"reorganise {province}: {result.units_ended:,} units ended, "
        f"{len(result.plans_transferred)} plans transferred, {result.plans_cancelled:,} plans "
        f"cancelled, {result.moved:,} requests moved, {result.merged:,} merged, "
        f"{result.requests_cancelled:,} cancelled, {result.requests_created:,} created")
    for name, (_, _, inserted, updated, deleted) in changes.per_table.items():
        say(f"  {name:<16} {len(inserted):,} inserted, {len(updated):,} updated, "
            f"{len(deleted):,} deleted")
    say(f"wall {wall:.2f} s, raw-update floor {floor:.2f} s ({changes.rows:,} rows), "
        f"{ratio:.1f}× floor; target < 20 s and ≤ 3× floor: {'met' if met else 'MISSED'}")
    say(f"re-run: {again:.2f} s, {'nothing changed' if not rerun.changed else 'CHANGED ROWS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
