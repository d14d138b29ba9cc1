"""``planflow bench``: time the plan cycle at national and Hà Nội scale (see planflow/bench.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planflow.bench import BenchReport, Step


class Scale(StrEnum):
    national = "national"
    hanoi = "hanoi"
    both = "both"


def bench(
    scale: Annotated[Scale, typer.Option("--scale", help="which tree to run")] = Scale.both,
    skip_naive: Annotated[
        bool, typer.Option("--skip-naive", help="skip the one-task-per-unit run")
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="run in throw-away schemas of this PostgreSQL "
            "database instead of SQLite files in a temporary folder",
        ),
    ] = None,
    naive_districts: Annotated[
        int,
        typer.Option(
            "--naive-districts",
            min=0,
            help="cap the naive run at the first N Hà Nội districts and extrapolate (0: all 30)",
        ),
    ] = 0,
) -> None:
    """Benchmark cascade, submit, aggregate and sweep against a raw-write floor; prints a table
    and a plain-text block for the README. Not a test: nothing asserts a time."""
    from rich.console import Console
    from rich.markup import escape

    folder = Path(tempfile.mkdtemp(prefix="planflow-bench-"))
    # before Prefect is imported: its state and the bench data stay in the temporary folder
    os.environ["PREFECT_HOME"] = str(folder / "prefect")
    os.environ["PLANFLOW_DATA_DIR"] = str(folder / "data")
    console = Console(width=160)
    started = time.perf_counter()
    try:
        from planflow.bench import run_bench
        from planflow.flows.runtime import local_mode

        with local_mode():  # as the demo runs: no flow heartbeats without a server
            report = run_bench(
                scale=scale.value,
                skip_naive=skip_naive,
                database_url=database_url,
                folder=folder,
                naive_districts=naive_districts,
                say=lambda line: console.print(
                    f"[dim]{time.perf_counter() - started:6.1f}s {escape(line)}"
                ),
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.notes.append(f"whole bench run: {time.perf_counter() - started:.0f} s")
    console.print(table(report))
    console.print(plain(report), markup=False, highlight=False)


def _s(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


LEGEND = (
    "wall: the step as its caller waits for it; cpu: this process's CPU time in it; e2e: until "
    "Prefect's server recorded every task run as completed; svc: time inside the services "
    "(summed over the tasks of the national flows); floor: the same row changes replayed with "
    "raw DB-API executemany (INSERT/UPDATE) into a mirror database of the same schema and "
    "contents, in one transaction; ×floor = wall/floor."
)
COLUMNS = "wall s", "cpu s", "e2e s", "svc s", "rows", "floor s", "×floor"


def _cells(s: Step) -> list[str]:
    return [
        _s(s.wall),
        _s(s.cpu),
        _s(s.end_to_end),
        _s(s.service),
        f"{s.written:,}",
        _s(s.floor),
        _s(s.ratio, 1),
    ]


def table(report: BenchReport):
    """The rich table: one row per step, setup steps dimmed."""
    from rich.table import Table

    out = Table(
        title="planflow bench: wall excludes Prefect's one-time start; targets printed, "
        "never asserted"
    )
    out.add_column("scale")
    out.add_column("step", max_width=40)
    for name in COLUMNS:
        out.add_column(name, justify="right", no_wrap=True)
    out.add_column("target", max_width=36)
    for s in report.steps:
        verdict = {True: " [green]met", False: " [red]missed", None: ""}[s.met]
        out.add_row(
            s.scale, ("[dim](setup) " if s.setup else "") + s.name, *_cells(s), s.target + verdict
        )
    return out


def plain(report: BenchReport) -> str:
    """The block to paste into the README: machine, steps, rows per table, comparisons."""
    lines = [
        "```",
        "planflow bench",
        *(f"  {k}: {v}" for k, v in report.facts.items()),
        "",
        f"{'scale':<9}{'step':<48}" + "".join(f"{c:>9}" for c in COLUMNS) + "  target",
    ]
    for s in report.steps:
        verdict = {True: " — met", False: " — MISSED", None: ""}[s.met]
        name = ("(setup) " if s.setup else "") + s.name
        lines.append(
            f"{s.scale:<9}{name[:47]:<48}"
            + "".join(f"{c:>9}" for c in _cells(s))
            + f"  {s.target}{verdict}"
        )
    lines += ["", LEGEND, "", "rows per table (before → after, +inserted ~updated):"]
    for s in report.steps:
        parts = [
            f"{t} {b:,}→{a:,} (+{i:,}{f' ~{u:,}' if u else ''})"
            for t, (b, a, i, u) in s.rows.items()
        ]
        lines.append(f"  {s.scale} / {s.name}: " + ("; ".join(parts) or "nothing written"))
        if s.note:
            lines.append(f"      {s.note}")
    lines += ["", *report.notes, "```"]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
