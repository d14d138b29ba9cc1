"""``planflow plan import``: JSON and summary in process; --save and errors via the entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from planflow import cli
from planflow.models import Assignment, Plan, PlanDeadline, PlanSection
from tests.documents.conftest import HADONG_2024, HANOI_2020


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    cli._mount()
    return CliRunner()


def planflow(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point (``planflow.cli:main``) in a child process."""
    return subprocess.run(
        [sys.executable, "-c", "from planflow.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


def rows(session: Session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_json_prints_the_documented_structure(hanoi: Session, runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["plan", "import", str(HADONG_2024), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == [
        "source", "shape", "tiers", "number", "symbol", "kind", "wrapper", "place", "issuer",
        "issuer_code", "issued_on", "title", "year", "parent_plan", "preamble", "parts",
        "purpose", "sections", "assignments", "deadlines", "closing", "recipients", "signer",
        "unresolved", "warnings", "gaps", "fields",
    ]  # fmt: skip
    assert (data["number"], data["issued_on"], data["year"]) == ("70/KH-UBND", "2024-02-17", 2024)
    assert set(data["assignments"][0]) == {
        "block", "unit", "unit_code", "group_label", "request", "role", "duties", "line", "how",
    }  # fmt: skip
    assert set(data["deadlines"][0]) == {
        "report_kind", "due_on", "from_units", "to_unit", "to_unit_code", "line", "how",
    }  # fmt: skip
    assert rows(hanoi, Plan) == 0  # without --save nothing is stored


def test_summary_names_the_plan_the_regime_and_what_is_unresolved(
    hanoi: Session, runner: CliRunner
) -> None:
    result = runner.invoke(cli.app, ["plan", "import", str(HANOI_2020)])
    assert result.exit_code == 0, result.output
    assert "37/KH-UBND kế hoạch · UBND Thành phố (01) · Hà Nội, 2020-02-20" in result.output
    assert "mục 5 · khối 12" in result.output
    assert "2020-05-30" in result.output and "01-labour" in result.output
    assert "người ký: Ngô Văn Quý, PHÓ CHỦ TỊCH" in result.output
    assert (
        "chưa xác định 'các cơ quan liên quan' (khối 10): một nhóm, không phải một đơn vị"
        in result.output
    )


def test_save_through_the_entry_point_then_refuse_the_same_plan(hanoi: Session) -> None:
    saved = planflow("plan", "import", str(HANOI_2020), "--save")
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.strip().endswith("đã lưu thành kế hoạch 1 (dự thảo)")
    assert (rows(hanoi, Plan), rows(hanoi, PlanSection), rows(hanoi, Assignment)) == (1, 7, 44)
    assert rows(hanoi, PlanDeadline) == 3

    again = planflow("plan", "import", str(HANOI_2020), "--save", "--json")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.strip().splitlines() == [
        (
            "lỗi: hanoi-2020-37-KH-UBND.txt: kế hoạch 37/KH-UBND của UBND Thành phố Hà Nội (2020) "
            "đã được lưu thành kế hoạch 1"
        )
    ]
    assert rows(hanoi, Plan) == 1


def test_garbage_gives_one_line_and_a_non_zero_exit(hanoi: Session, tmp_path: Path) -> None:
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(100))
    result = planflow("plan", "import", str(pdf), "--save")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lỗi: scan.pdf: tệp PDF không đọc được (PdfStreamError); hãy lưu thành .docx"
    ]
    assert rows(hanoi, Plan) == 0


def test_json_with_save_carries_the_plan_id(hanoi: Session) -> None:
    result = planflow("plan", "import", str(HADONG_2024), "--save", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plan_id"] == 1


def test_each_field_says_its_line_and_whether_it_was_read(
    hanoi: Session, runner: CliRunner
) -> None:
    result = runner.invoke(cli.app, ["plan", "import", str(HADONG_2024), "--json"])
    fields = json.loads(result.output)["fields"]
    lines = HADONG_2024.read_text(encoding="utf-8").split("\n")
    number = fields["number"]
    assert number["how"] == "read" and lines[number["line"] - 1] == "Số: 70 /KH-UBND"
    assert "Hà Đông, ngày" in lines[fields["issued_on"]["line"] - 1]
    assert "Trần Thị Lương An" in lines[fields["signer"]["line"] - 1]
    assert fields["wrapper"] == {"line": None, "how": "missing"}


def test_save_keeps_a_plan_with_gaps_as_a_draft_and_lists_them(
    hanoi: Session, tmp_path: Path
) -> None:
    text = tmp_path / "draft.txt"
    text.write_text(
        "ỦY BAN NHÂN DÂN\nQUẬN HÀ ĐÔNG\nSố: /KH-UBND\nHà Đông, ngày … tháng … năm 2025\n"
        "KẾ HOẠCH\nThực hiện công tác bình đẳng giới năm 2025\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức.\n",
        encoding="utf-8",
    )
    result = planflow("plan", "import", str(text), "--save")
    assert result.returncode == 0, result.stderr
    assert "đã lưu thành kế hoạch 1 (dự thảo)" in result.stdout
    assert (
        "Bản nháp còn thiếu: số văn bản, ngày ban hành, người ký, nơi nhận, "
        "phân công tổ chức thực hiện" in result.stdout
    )
    assert rows(hanoi, Plan) == 1
