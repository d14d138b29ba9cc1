"""Benchmark: the 1/7/2025 reorganisation of the whole country, beside its raw-update floor.

Setup (not timed): a fresh SQLite database with the three-tier country (63 provinces, 696
districts, 10,051 wards) and the two-tier one (34 provinces, 3,321 communes); the Hà Nội 2025
draft re-addressed to every province, issued, cascaded and every sub-plan issued, so each ward
owes its sub-plan, six-month and annual reports. Timed: ``reorganise(province="all",
on=2025-07-01)`` and its commit. Floor: the same row changes (inserts and updates of every
table) replayed with raw DB-API ``executemany`` into a mirror database, in the same run.
Target (issue 10): within 3× the floor and under 20 s. Then a re-run, which must change nothing.

Run: ``.venv/bin/python benchmarks/reorganise.py`` (``make bench`` runs it).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlmodel import Session


def main() -> int:
    from planflow import bench
    from planflow.flows.runtime import prefect_env_defaults
    from planflow.services import hierarchy
    from planflow.services.cascade import cascade_plan
    from planflow.services.reorganise import reorganise

    prefect_env_defaults(quiet=True)
    def say(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="planflow-bench-reorganise-") as folder:
        scratch = bench.Scratch(Path(folder), None)
        try:
            db = scratch.open("reorganise")
            mirror = bench.Mirror(db, mutable=("org_unit", "plan", "plan_deadline",
                                               "report_request"))
            empty = mirror.snapshot()
            started = time.perf_counter()
            with Session(db.engine) as s:
                bench.load(s, "all")
                hierarchy.load_units(session=s, province="all", tiers=2)
                roots = bench.province_plans(s, bench.import_template(s))
                bench.issue_all(s, roots)
                for plan_id in roots:
                    cascade_plan(session=s, plan_id=plan_id)
                bench.issue_sub_plans(s, roots)
                s.commit()
            mirror.replay(empty)  # the mirror holds the same rows before the timed step
            say(f"setup: {len(roots)} province plans issued and cascaded, sub-plans issued "
                f"({time.perf_counter() - started:.0f} s, not timed)")
            before = mirror.snapshot()
            started = time.perf_counter()
            with Session(db.engine) as s:
                result = reorganise(session=s, province="all", on=date(2025, 7, 1))
                s.commit()
            wall = time.perf_counter() - started
            say(f"reorganise all: {wall:.2f} s")
            floor, rows = mirror.replay(before)
            again = time.perf_counter()
            with Session(db.engine) as s:
                rerun = reorganise(session=s, province="all", on=date(2025, 7, 1))
                s.commit()
            again = time.perf_counter() - again
            facts = bench.machine_facts(db.engine)
        finally:
            scratch.close()
    ratio = wall / floor if floor else float("inf")
    met = wall < 20.0 and ratio <= 3.0
    say("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    say(f"reorganise all (10,051 wards → 3,321 communes): {result.units_ended:,} units ended, "
        f"{len(result.plans_transferred)} plans transferred, {result.plans_cancelled:,} plans "
        f"cancelled, {result.moved:,} requests moved, {result.merged:,} merged, "
        f"{result.requests_cancelled:,} cancelled, {result.requests_created:,} created")
    for name, (n_before, n_after, inserted, updated) in rows.items():
        say(f"  {name:<16} {n_before:>8,} → {n_after:>8,} rows ({inserted:,} inserted, "
            f"{updated:,} updated)")
    say(f"wall {wall:.2f} s, raw-update floor {floor:.2f} s, {ratio:.1f}× floor; target < 20 s "
        f"and ≤ 3× floor: {'met' if met else 'MISSED'}")
    say(f"re-run: {again:.2f} s, {'nothing changed' if not rerun.changed else 'CHANGED ROWS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
