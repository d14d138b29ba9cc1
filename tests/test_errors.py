"""One error hierarchy, one line per error, and --debug for the traceback."""

from __future__ import annotations

import subprocess
import sys

from planflow.errors import PlanflowError, Problem, ValidationFailed, one_line
from planflow.notifications.errors import PermanentSendError, SendError, TransientSendError


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planflow", *args],
        capture_output=True, text=True, check=False, timeout=120,
    )


def test_send_errors_are_planflow_errors() -> None:
    assert issubclass(SendError, PlanflowError)
    assert issubclass(TransientSendError, SendError)
    assert issubclass(PermanentSendError, SendError)


def test_problems_are_data_and_make_the_message() -> None:
    problems = [
        Problem("figures.HD-TT-NG.total", "nữ + nam phải bằng tổng số", 12, cell="E14"),
        Problem("period", "không khớp với yêu cầu", "2025"),
    ]
    err = ValidationFailed(problems=problems)
    assert err.problems[0].cell == "E14" and err.problems[1].value == "2025"
    assert str(err) == (
        "figures.HD-TT-NG.total (ô E14): nữ + nam phải bằng tổng số; "
        "period: không khớp với yêu cầu"
    )
    assert one_line(err) == f"lỗi: {err}"


def test_an_unexpected_exception_is_one_line_pointing_to_debug() -> None:
    line = one_line(KeyError("x\ny"))
    assert "\n" not in line
    assert line.startswith("lỗi: sự cố ngoài dự kiến KeyError") and "--debug" in line


def test_cli_error_is_one_line_and_debug_shows_the_traceback(tmp_path) -> None:
    missing = str(tmp_path / "missing.docx")
    plain = _run("plan", "import", missing)
    assert plain.returncode == 1
    assert len(plain.stderr.strip().splitlines()) == 1, plain.stderr
    assert "Traceback" not in plain.stderr
    debug = _run("--debug", "plan", "import", missing)
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
