"""Excel report forms: one workbook per report request, filled in by the unit, read back.

The form carries the request id, unit code and period in a locked header; its figures table
has one row per catalogue indicator with male / female / total (total = male + female as a
locked formula), numerator / denominator for ratios, or total alone for counts. Input cells are
unlocked and accept whole numbers ≥ 0; the sheet is protected (no password: it prevents slips,
not tampering). Importing goes through ``reporting.submit_report`` like any other submission,
so the rules and messages are the same; the messages also name the cell.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session

from planflow.documents.render_model import REGIME_UNITS, committee_name, vn_date
from planflow.models import IndicatorKind, OrgUnit, Plan, Report, ReportKind, ReportRequest
from planflow.services.catalogue import indicators
from planflow.services.reporting import submit_report
from planflow.states import NotFound, ValidationFailed
from planflow.states.errors import PlanflowError

SHEET = "Báo cáo"
MARK = "planflow report form v1"
FONT = "Times New Roman"
# (row, label, key): the locked header a form is recognised and read by
HEADER = (
    (4, "Mã yêu cầu báo cáo", "request_id"),
    (5, "Mã đơn vị", "unit_code"),
    (6, "Đơn vị báo cáo", "unit"),
    (7, "Kỳ báo cáo", "period"),
    (8, "Loại báo cáo", "kind"),
    (9, "Hạn nộp", "deadline"),
    (10, "Gửi về", "recipient"),
)
CELL = {key: f"C{row}" for row, _, key in HEADER}
TABLE_ROW = 13
COLUMNS = (  # letter, title, width, figure field
    ("A", "STT", 5, None),
    ("B", "Mã chỉ tiêu", 20, None),
    ("C", "Tên chỉ tiêu", 52, None),
    ("D", "Đơn vị tính", 12, None),
    ("E", "Nam", 10, "male"),
    ("F", "Nữ", 10, "female"),
    ("G", "Tổng số", 11, "total"),
    ("H", "Tử số", 11, "numerator"),
    ("I", "Mẫu số", 11, "denominator"),
    ("J", "Giải thích", 46, None),
)
FIELD_COLUMN = {f: letter for letter, _, _, f in COLUMNS if f}
INPUTS = {
    IndicatorKind.count: ("total",),
    IndicatorKind.by_sex: ("male", "female"),
    IndicatorKind.ratio: ("numerator", "denominator"),
}
NARRATIVE = (
    ("results", "Kết quả nổi bật"),
    ("difficulties", "Khó khăn, vướng mắc"),
    ("proposals", "Đề xuất, kiến nghị"),
)
KIND_VI = {
    ReportKind.sub_plan: "Kế hoạch thực hiện của đơn vị",
    ReportKind.six_month: "Báo cáo 6 tháng",
    ReportKind.annual: "Báo cáo năm",
    ReportKind.ad_hoc: "Báo cáo đột xuất",
}
GREY = PatternFill("solid", fgColor="D9D9D9")
PALE = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
OPEN = Protection(locked=False)


# --- writing --------------------------------------------------------------------------------


def write_form(session: Session, *, request_id: int, out: Path | None = None) -> Path:
    """Write the form of one report request; returns its path (default: <data dir>/forms/)."""
    request = session.get(ReportRequest, request_id)
    if request is None:
        raise NotFound(f"report request {request_id} does not exist")
    unit = session.get(OrgUnit, request.unit_id)
    plan = session.get(Plan, request.plan_id)
    issuer = session.get(OrgUnit, plan.issuer_id)
    recipient = session.get(OrgUnit, request.recipient_id) if request.recipient_id else None
    if out is None:
        from planflow.config.settings import get_settings

        name = f"request-{request.id}-{unit.code}-{request.period}.xlsx"
        out = get_settings().data_dir / "forms" / name
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
        "kind": KIND_VI[ReportKind(request.kind)],
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
            "Nhập số nguyên không âm vào các ô trắng; ô xám không nhập. Tổng số = Nam + Nữ được tính "
            "tự động. Chỉ tiêu chưa có số liệu thì để trống (không ghi 0). Không sửa phần đầu biểu."
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
    for key, label in NARRATIVE:
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
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


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


# --- reading --------------------------------------------------------------------------------


@dataclass
class FilledForm:
    """What a filled form says, before validation; ``cells`` maps field paths to cells."""

    name: str
    request_id: Any
    unit_code: str | None
    period: str | None
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    narrative: dict[str, str] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)


def read_form(path: Path) -> FilledForm:
    """Read a filled form. A total formula is skipped (openpyxl does not compute formulas:
    validation derives the total); a total typed over it is kept and checked."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    try:
        book = load_workbook(path, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(
            f"{path.name}: not an Excel workbook (.xlsx): {type(exc).__name__}"
        ) from None
    if SHEET not in book.sheetnames:
        raise ValidationFailed(f"{path.name}: not a planflow report form (no sheet '{SHEET}')")
    sheet = book[SHEET]
    for row, label, _ in HEADER:
        if str(sheet[f"B{row}"].value or "").strip() != label:
            raise ValidationFailed(
                f"{path.name}: not a planflow report form (cell B{row} should read '{label}')"
            )
    request_id = _number(sheet[CELL["request_id"]].value)
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise ValidationFailed(
            f"{path.name}: cell {CELL['request_id']} (request id): must be a whole number, "
            f"got {sheet[CELL['request_id']].value!r}"
        )
    form = FilledForm(
        name=path.name,
        request_id=request_id,
        unit_code=_text(sheet[CELL["unit_code"]].value),
        period=_text(sheet[CELL["period"]].value),
        cells={"unit": CELL["unit_code"], "period": CELL["period"]},
    )
    row = TABLE_ROW + 1
    while code := _text(sheet[f"B{row}"].value):
        form.cells[f"figures.{code}"] = f"row {row}"
        values: dict[str, Any] = {}
        for fname, letter in FIELD_COLUMN.items():
            raw = sheet[f"{letter}{row}"].value
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if fname == "total" and isinstance(raw, str) and raw.startswith("="):
                continue
            values[fname] = _number(raw)
            form.cells[f"figures.{code}.{fname}"] = f"{letter}{row}"
        if values:
            form.figures[code] = values
        row += 1
    for r in range(row, row + 8):
        label = _text(sheet[f"B{r}"].value)
        key = next((k for k, title in NARRATIVE if title == label), None)
        text = _text(sheet[f"C{r}"].value)
        if key and text:
            form.narrative[key] = text
    return form


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> Any:
    """A whole number as int; anything else unchanged, for validation to name and refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return value


def import_form(session: Session, *, path: Path, actor: str | None = None) -> Report:
    """Submit a filled form through ``submit_report``; a refused form changes nothing and the
    error names the file and the cells."""
    form = read_form(path)
    request = session.get(ReportRequest, form.request_id)
    if request is None:
        raise NotFound(
            f"{form.name}: cell {CELL['request_id']} (request id): report request "
            f"{form.request_id} does not exist"
        )
    unit = session.get(OrgUnit, request.unit_id)
    try:
        return submit_report(
            session=session,
            request_id=request.id,
            figures=form.figures,
            narrative=form.narrative,
            actor=actor or f"{unit.label} (biểu mẫu Excel)",
            unit_code=form.unit_code or "",
            period=form.period or "",
        )
    except PlanflowError as exc:
        raise type(exc)(f"{form.name}: {_with_cells(str(exc), form.cells)}") from None


def _with_cells(message: str, cells: dict[str, str]) -> str:
    """'figures.HD-TT-NG.male: …' → 'figures.HD-TT-NG.male (cell E15): …'."""
    if not cells:
        return message
    keys = sorted(cells, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.\-])(" + "|".join(map(re.escape, keys)) + r")(?=:)")

    def place(match: re.Match[str]) -> str:
        where = cells[match.group(1)]
        return f"{match.group(1)} ({where if where.startswith('row') else 'cell ' + where})"

    return pattern.sub(place, message)


__all__ = ["FilledForm", "import_form", "read_form", "write_form"]
