"""Excel report forms, writing: one workbook per report request, filled in by the unit.

The form carries the request id, unit code and period in a locked header; its figures table
has one row per catalogue indicator with male / female / total (total = male + female as a
locked formula), numerator / denominator for ratios, or total alone for counts. Input cells are
unlocked and accept whole numbers ≥ 0; the sheet is protected (no password: it prevents slips,
not tampering). ``reading.excel_form`` reads it back.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session

from planflow.config.files import check_output, safe_name, write_private
from planflow.documents.form import (
    CELL,
    COLUMNS,
    FIELD_COLUMN,
    HEADER,
    INPUTS,
    MARK,
    NARRATIVE,
    SHEET,
    TABLE_ROW,
)
from planflow.documents.writing.render_model import REGIME_UNITS, committee_name
from planflow.models import IndicatorKind, OrgUnit, Plan, ReportKind, ReportRequest
from planflow.models.base import must_get
from planflow.services.catalogue import indicators
from planflow.states import NotFound
from planflow.vntext import cap, kind_vi, vn_date

FONT = "Times New Roman"
GREY = PatternFill("solid", fgColor="D9D9D9")
PALE = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
OPEN = Protection(locked=False)


def write_form(
    session: Session, *, request_id: int, out: Path | None = None, force: bool = False
) -> Path:
    """Write the form of one report request; returns its path (default: <data dir>/forms/,
    a sanitised name). ``out`` is never the database, nor an existing file without ``force``."""
    request = session.get(ReportRequest, request_id)
    if request is None:
        raise NotFound(f"không có yêu cầu báo cáo {request_id}")
    unit = must_get(session, OrgUnit, request.unit_id)
    plan = must_get(session, Plan, request.plan_id)
    issuer = must_get(session, OrgUnit, plan.issuer_id)
    recipient = session.get(OrgUnit, request.recipient_id) if request.recipient_id else None
    if out is None:
        from planflow.config.settings import get_settings

        name = safe_name(f"request-{request.id}-{unit.code}-{request.period}") + ".xlsx"
        out = get_settings().data_dir / "forms" / name
    else:
        out = check_output(out, force=force)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for letter, _, width, _ in COLUMNS:
        sheet.column_dimensions[letter].width = width
    source = f"Kế hoạch số {plan.number}" if plan.number else f"Kế hoạch năm {plan.year}"
    _put(sheet, "A1", "BIỂU MẪU BÁO CÁO SỐ LIỆU CÔNG TÁC BÌNH ĐẲNG GIỚI", bold=True, size=14)
    what = REGIME_UNITS[ReportKind(request.kind)].format(year=plan.year, period=request.period)
    _put(sheet, "A2", f"{what} – thực hiện {source} của {committee_name(issuer)}", italic=True)
    values = {
        "request_id": request.id,
        "unit_code": unit.code,
        "unit": unit.label,
        "period": request.period,
        "kind": cap(kind_vi(request.kind)),
        "deadline": vn_date(request.deadline),
        "recipient": recipient.name if recipient else committee_name(issuer),
    }
    for row, label, key in HEADER:
        _put(sheet, f"B{row}", label, bold=True)
        _put(sheet, CELL[key], values[key], fill=PALE, align="left")
    _put(
        sheet,
        "A11",
        (
            "Nhập số nguyên không âm vào các ô trắng; ô xám không nhập. "
            "Tổng số = Nam + Nữ được tính tự động. "
            "Chỉ tiêu chưa có số liệu thì để trống (không ghi 0). Không sửa phần đầu biểu."
        ),
        italic=True,
        wrap=True,
    )
    sheet.merge_cells("A11:J11")
    sheet.row_dimensions[11].height = 32
    for letter, title, _, _ in COLUMNS:
        _put(
            sheet,
            f"{letter}{TABLE_ROW}",
            title,
            bold=True,
            fill=GREY,
            align="center",
            border=True,
            wrap=True,
        )
    sheet.row_dimensions[TABLE_ROW].height = 34
    whole = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Số liệu không hợp lệ",
        error="Chỉ nhập số nguyên không âm (0, 1, 2, …).",
    )
    sheet.add_data_validation(whole)
    row = TABLE_ROW
    for n, indicator in enumerate(indicators(session).values(), start=1):
        row = TABLE_ROW + n
        kind = IndicatorKind(indicator.kind)
        note = ""
        if kind == IndicatorKind.ratio:
            note = f"Tử số: {indicator.numerator_label}; mẫu số: {indicator.denominator_label}."
        for letter, value in (
            ("A", n),
            ("B", indicator.code),
            ("C", indicator.name),
            ("D", indicator.unit),
            ("J", note),
        ):
            _put(
                sheet,
                f"{letter}{row}",
                value,
                border=True,
                wrap=letter in "CDJ",
                align="center" if letter in "AD" else "left",
            )
        # spreadsheet programs do not grow a row for wrapped text they did not lay out
        texts = ((indicator.name, 52), (indicator.unit, 12), (note, 46))
        lines = max(-(-len(text) // (width - 6)) for text, width in texts if text)
        sheet.row_dimensions[row].height = 16 * lines + 2
        for fname, letter in FIELD_COLUMN.items():
            cell = f"{letter}{row}"
            if fname in INPUTS[kind]:
                _put(sheet, cell, None, border=True, align="right")
                sheet[cell].protection = OPEN
                whole.add(cell)
            elif kind == IndicatorKind.by_sex and fname == "total":
                formula = f'=IF(AND(E{row}="",F{row}=""),"",E{row}+F{row})'
                _put(sheet, cell, formula, border=True, fill=PALE, align="right", bold=True)
            else:
                _put(sheet, cell, None, border=True, fill=GREY)
    row += 2
    for _key, label in NARRATIVE:
        _put(sheet, f"B{row}", label, bold=True, wrap=True)
        _put(sheet, f"C{row}", None, border=True, wrap=True, align="left")
        sheet.merge_cells(f"C{row}:J{row}")
        sheet[f"C{row}"].protection = OPEN
        sheet.row_dimensions[row].height = 60
        row += 1
    sheet.freeze_panes = f"A{TABLE_ROW + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widening a column is allowed
    sheet.protection.formatRows = False
    book.properties.title = f"Biểu mẫu báo cáo – yêu cầu {request.id}"
    book.properties.keywords = MARK
    book.properties.creator = "planflow"
    buffer = io.BytesIO()
    book.save(buffer)
    return write_private(out, buffer.getvalue())


def _put(
    sheet,
    ref: str,
    value: Any,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 12,
    fill: PatternFill | None = None,
    align: str | None = None,
    border: bool = False,
    wrap: bool = False,
) -> None:
    cell = sheet[ref]
    cell.value = value
    cell.font = Font(name=FONT, size=size, bold=bold, italic=italic)
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=wrap)
    if fill is not None:
        cell.fill = fill
    if border:
        cell.border = BOX


__all__ = ["write_form"]
