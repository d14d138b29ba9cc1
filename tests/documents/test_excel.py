"""Excel report forms: written for a request, filled with openpyxl, imported through the one
validation path, aggregated; bad forms are refused with one line naming the cell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from planflow.documents.form import CELL, SHEET, TABLE_ROW
from planflow.documents.reading.excel_form import import_form
from planflow.documents.writing.excel_form import write_form
from planflow.models import (
    IndicatorValue,
    OrgUnit,
    Report,
    ReportKind,
    ReportRequest,
    State,
    TransitionLog,
)
from planflow.services.aggregation import aggregate_period, compiled_figures
from planflow.states import NotFound, ValidationFailed
from tests.documents.cycle import PERIOD, reported

VAN_PHUC = "09544"  # Phường Vạn Phúc, Hà Đông: keeps its six-month report open for the form


@pytest.fixture
def cycle(session: Session) -> dict:
    ids = reported(session, keep_open=(VAN_PHUC,))
    request = session.exec(
        select(ReportRequest)
        .join(OrgUnit, OrgUnit.id == ReportRequest.unit_id)
        .where(
            ReportRequest.plan_id == ids["268"],
            OrgUnit.code == VAN_PHUC,
            ReportRequest.kind == ReportKind.six_month,
        )
    ).one()
    return {**ids, "request": request.id}


def rows_by_code(sheet) -> dict[str, int]:
    out, row = {}, TABLE_ROW + 1
    while sheet[f"B{row}"].value:
        out[sheet[f"B{row}"].value] = row
        row += 1
    return out


def fill(path: Path, values: dict[str, dict[str, object]], **header: object) -> Path:
    """Type figures into a form as a unit would: {code: {column letter: value}}."""
    book = load_workbook(path)
    sheet = book[SHEET]
    rows = rows_by_code(sheet)
    for code, cells in values.items():
        for letter, value in cells.items():
            sheet[f"{letter}{rows[code]}"] = value
    for key, value in header.items():
        sheet[CELL[key]] = value
    book.save(path)
    return path


def snapshot(session: Session) -> tuple:
    session.expire_all()
    counts = tuple(
        session.scalar(select(func.count()).select_from(m))
        for m in (Report, IndicatorValue, TransitionLog)
    )
    states = tuple(session.exec(select(ReportRequest.status).order_by(ReportRequest.id)).all())
    return counts, states


def test_form_locks_the_header_and_formulas_and_opens_the_inputs(
    session: Session, cycle: dict, tmp_path: Path
) -> None:
    path = write_form(session, request_id=cycle["request"], out=tmp_path / "form.xlsx")
    sheet = load_workbook(path)[SHEET]
    assert sheet.protection.sheet is True
    assert (
        sheet[CELL["request_id"]].value,
        sheet[CELL["unit_code"]].value,
        sheet[CELL["period"]].value,
    ) == (cycle["request"], VAN_PHUC, PERIOD)
    assert sheet[CELL["unit"]].value == "UBND Phường Vạn Phúc"
    assert sheet[CELL["deadline"]].value == "20/5/2025"
    for key in CELL:
        assert sheet[CELL[key]].protection.locked is True
    rows = rows_by_code(sheet)
    titles = [sheet.cell(TABLE_ROW, c).value for c in range(1, 11)]
    assert titles[1:9] == [
        "Mã chỉ tiêu",
        "Tên chỉ tiêu",
        "Đơn vị tính",
        "Nam",
        "Nữ",
        "Tổng số",
        "Tử số",
        "Mẫu số",
    ]
    validation = sheet.data_validations.dataValidation[0]
    assert (validation.type, validation.operator, validation.formula1) == (
        "whole",
        "greaterThanOrEqual",
        "0",
    )
    validated = {str(r) for r in validation.sqref.ranges}

    def open_cells(code: str) -> set[str]:
        return {col for col in "EFGHI" if not sheet[f"{col}{rows[code]}"].protection.locked}

    assert open_cells("HD-TT-NG") == {"E", "F"}  # by sex: male, female
    r = rows["HD-TT-NG"]
    assert sheet[f"G{r}"].value == f'=IF(AND(E{r}="",F{r}=""),"",E{r}+F{r})'
    assert open_cells("NQ28-2.1") == {"H", "I"}  # a ratio: numerator, denominator
    assert open_cells("HD-TT-SK") == {"G"}  # a count: total only
    assert {f"E{r}", f"F{r}", f"H{rows['NQ28-2.1']}", f"G{rows['HD-TT-SK']}"} <= validated
    assert f"G{r}" not in validated


def test_a_filled_form_is_submitted_and_aggregated(
    session: Session, cycle: dict, tmp_path: Path
) -> None:
    before = {
        f.code: f
        for f in compiled_figures(
            session, plan_id=cycle["268"], kind=ReportKind.six_month, period=PERIOD
        )[1]
    }
    path = write_form(session, request_id=cycle["request"], out=tmp_path / "form.xlsx")
    fill(
        path,
        {
            "HD-TT-NG": {"E": 41, "F": 59},  # the total stays a formula: openpyxl never computes it
            "HD-TH-HV": {"E": 3, "F": 9, "G": 12},  # a total typed over the formula, and right
            "HD-TT-SK": {"G": 2},
            "NQ28-2.1": {"H": 480, "I": 1000},
        },
    )
    report = import_form(session, path=path, actor="cán bộ phường Vạn Phúc")
    session.commit()
    values = {
        v.indicator_code: v
        for v in session.exec(select(IndicatorValue).where(IndicatorValue.report_id == report.id))
    }
    assert (values["HD-TT-NG"].male, values["HD-TT-NG"].female, values["HD-TT-NG"].total) == (
        41,
        59,
        100,
    )
    assert values["HD-TH-HV"].total == 12 and values["HD-TT-SK"].total == 2
    assert session.get(ReportRequest, cycle["request"]).status == State.submitted
    aggregate_period(
        session=session,
        plan_id=cycle["root"],
        kind=ReportKind.six_month,
        period=PERIOD,
        actor="Sở LĐTBXH",
    )
    session.commit()
    consolidated, figures = compiled_figures(
        session, plan_id=cycle["268"], kind=ReportKind.six_month, period=PERIOD
    )
    after = {f.code: f for f in figures}
    assert after["HD-TT-NG"].female == before["HD-TT-NG"].female + 59
    assert after["HD-TT-NG"].total == before["HD-TT-NG"].total + 100
    assert after["HD-TT-SK"].total == before["HD-TT-SK"].total + 2
    assert after["NQ28-2.1"].numerator == before["NQ28-2.1"].numerator + 480
    assert after["HD-TH-HV"].total == 12
    assert "UBND Phường Vạn Phúc" not in consolidated.completeness["missing_units"]
    assert session.get(ReportRequest, cycle["request"]).status == State.aggregated


@pytest.mark.parametrize(
    ("values", "header", "error", "message"),
    [
        (
            {"HD-TT-NG": {"E": -3, "F": 5}},
            {},
            ValidationFailed,
            r"figures\.HD-TT-NG\.male \(ô E\d+\): không được âm, nhận được -3",
        ),
        (
            {"HD-TT-NG": {"E": 3, "F": 5, "G": 9}},
            {},
            ValidationFailed,
            r"figures\.HD-TT-NG \(dòng \d+\): nữ 5 \+ nam 3 = 8, không bằng tổng số 9",
        ),
        (
            {"HD-TT-SK": {"G": "nhiều"}},
            {},
            ValidationFailed,
            r"figures\.HD-TT-SK\.total \(ô G\d+\): phải là số nguyên, nhận được 'nhiều'",
        ),
        (
            {"HD-TT-SK": {"G": 1}},
            {"request_id": 999999},
            NotFound,
            r"ô C4 \(mã yêu cầu\): không có yêu cầu báo cáo 999999",
        ),
        (
            {"HD-TT-SK": {"G": 1}},
            {"period": "2025"},
            ValidationFailed,
            r"period \(ô C7\): '2025' không khớp với kỳ báo cáo của yêu cầu '2025-H1'",
        ),
    ],
    ids=["negative", "total-mismatch", "text", "unknown-request", "wrong-period"],
)
def test_a_bad_form_is_refused_naming_the_cell_and_changes_nothing(
    session: Session, cycle: dict, tmp_path: Path, values, header, error, message
) -> None:
    path = fill(
        write_form(session, request_id=cycle["request"], out=tmp_path / "bad.xlsx"),
        values,
        **header,
    )
    before = snapshot(session)
    with pytest.raises(error, match=message) as caught:
        import_form(session, path=path)
    session.rollback()
    assert str(caught.value).startswith("bad.xlsx: ") and "\n" not in str(caught.value)
    if error is ValidationFailed:  # the cells are data too, placed by each problem's field key
        assert all(p.cell for p in caught.value.problems), caught.value.problems
    assert snapshot(session) == before


def test_a_form_for_another_units_request_is_refused(
    session: Session, cycle: dict, tmp_path: Path
) -> None:
    other = session.exec(
        select(ReportRequest).where(
            ReportRequest.plan_id == cycle["268"],
            ReportRequest.id != cycle["request"],
            ReportRequest.kind == ReportKind.six_month,
        )
    ).first()
    path = fill(
        write_form(session, request_id=cycle["request"], out=tmp_path / "x.xlsx"),
        {"HD-TT-SK": {"G": 1}},
        request_id=other.id,
    )
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match=rf"unit \(ô C5\): '{VAN_PHUC}' không khớp"):
        import_form(session, path=path)
    session.rollback()
    assert snapshot(session) == before


def test_a_file_that_is_not_a_workbook_is_refused(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("Phường Vạn Phúc: 41 nam, 59 nữ", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"^notes\.xlsx: không phải bảng tính Excel"):
        import_form(session, path=path)


def test_cli_writes_a_form_and_imports_it(session: Session, cycle: dict, tmp_path: Path) -> None:
    import planflow.cli as c

    c._mount()
    runner = CliRunner()
    out = tmp_path / "form.xlsx"
    result = runner.invoke(c.app, ["report", "form", str(cycle["request"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"đã ghi {out}"
    fill(out, {"HD-TT-NG": {"E": 4, "F": 6}})
    result = runner.invoke(c.app, ["report", "import", str(out), "--actor", "cán bộ LĐTBXH"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"đã nhận form.xlsx: yêu cầu {cycle['request']} "
        "(UBND Phường Vạn Phúc, báo cáo 6 tháng 2025-H1) nộp"
    )
    session.expire_all()
    log = session.exec(
        select(TransitionLog).where(
            TransitionLog.entity_id == cycle["request"], TransitionLog.trigger == "submit"
        )
    ).one()
    assert log.actor == "cán bộ LĐTBXH"


def test_cli_refuses_a_bad_form_in_one_line(session: Session, cycle: dict, tmp_path: Path) -> None:
    path = fill(
        write_form(session, request_id=cycle["request"], out=tmp_path / "bad.xlsx"),
        {"HD-TT-NG": {"E": -1, "F": 2}},
    )
    session.commit()
    before = snapshot(session)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from planflow.cli import main; main()",
            "report",
            "import",
            str(path),
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lỗi: bad.xlsx: yêu cầu báo cáo ")
    assert "figures.HD-TT-NG.male (ô E" in lines[0] and "không được âm" in lines[0]
    assert snapshot(session) == before
