"""`planflow states`, `status` and `db init` as a user calls them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlmodel import Session

from planflow.services.cascade import cascade_plan
from tests import factories as f


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planflow", *args], capture_output=True, text=True, check=False
    )


def test_states_mermaid_draws_both_machines_from_the_tables() -> None:
    from planflow.states import PLAN_MOVES, REPORT_MOVES

    out = _run("states", "--mermaid")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("stateDiagram-v2") == 2
    arrows = sum(len(m.sources) for m in PLAN_MOVES + REPORT_MOVES)
    assert out.stdout.count(" : ") == arrows
    assert "submitted --> acknowledged : return [reason_given]" in out.stdout


def test_status_json_counts_plans_and_requests_by_state(engine) -> None:
    with Session(engine) as s:
        f.hanoi_units(s)
        plan = f.hanoi_plan(s)
        from planflow.services.plans import ensure_requests

        ensure_requests(s, [plan.id])
        cascade_plan(session=s, plan_id=plan.id)
        s.commit()
    out = _run("status", "--json")
    assert out.returncode == 0, out.stderr
    (tree,) = json.loads(out.stdout)
    assert tree["number"] == "1/KH-UBND" and tree["status"] == "issued"
    assert tree["plans_by_state"] == {"issued": 1, "drafted": 556}
    assert set(tree["requests_by_kind_and_state"]) == {"sub_plan", "six_month", "annual"}


def test_db_init_is_idempotent_and_status_on_an_empty_database_says_so() -> None:
    assert _run("db", "init").returncode == 0
    assert _run("db", "init").returncode == 0
    out = _run("status")
    assert out.returncode == 0 and "chưa có kế hoạch nào" in out.stdout


def test_unknown_plan_is_one_line_and_non_zero() -> None:
    out = _run("plan", "render", "999")
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "kế hoạch 999" in out.stderr
    assert "Traceback" not in out.stderr


# the English frame typer and click print around a help page, and the words of ours that were
# English before; none may reach an officer
ENGLISH_FRAME = ("Usage:", "Options", "Commands", "Arguments", "Show this message", "[default:",
                 "[required]", "[OPTIONS]", "COMMAND [ARGS]", "(developers)", "Write a new")


def _command_paths() -> list[list[str]]:
    import typer

    from planflow import cli

    cli._mount()

    def walk(command, path: list[str]):
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(cli.app), []))


def test_every_help_page_is_vietnamese_as_the_cli_prints_it() -> None:
    paths = _command_paths()
    assert len(paths) > 25  # every group and command, not just the top page
    # one process draws every page, as `planflow X --help` would (the same main())
    script = (
        "import sys\nfrom planflow import cli\n"
        f"for path in {paths!r}:\n"
        "    sys.argv = ['planflow', *path, '--help']\n"
        "    print('=== ' + ' '.join(path), flush=True)\n"
        "    try:\n        cli.main()\n    except SystemExit:\n        pass\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=False, env={**os.environ, "COLUMNS": "100"})
    pages = out.stdout.split("=== ")[1:]
    assert len(pages) == len(paths), out.stderr
    for page in pages:
        assert "Cách dùng: planflow" in page, page
        assert "Hiện hướng dẫn này rồi thoát." in page, page
        found = [word for word in ENGLISH_FRAME if word in page]
        assert not found, (found, page)
