"""Excel report forms, reading: a filled form back into a submission.

Importing goes through ``reporting.submit_report`` like any other submission, so the rules and
messages are the same; the messages also name the cell.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlmodel import Session

from planflow.config.settings import get_settings
from planflow.documents.form import (
    CELL,
    COLUMNS,
    FIELD_COLUMN,
    HEADER,
    NARRATIVE,
    SHEET,
    TABLE_ROW,
)
from planflow.documents.reading.limits import check_zip, read_bounded
from planflow.errors import Problem
from planflow.models import OrgUnit, Report, ReportRequest
from planflow.models.base import must_get, pk
from planflow.services.reporting import submit_report
from planflow.states import NotFound, ValidationFailed
from planflow.states.errors import PlanflowError


@dataclass
class FilledForm:
    """What a filled form says, before validation. ``cells`` maps a submission's field keys
    (``unit``, ``figures.HD-TT-NG.male``) to the cell each was read from; ``rows`` maps
    ``figures.<code>`` to the indicator's row."""

    name: str
    request_id: Any
    unit_code: str | None
    period: str | None
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    narrative: dict[str, str] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def cell_of(self, key: str) -> str | None:
        """The cell a field key was read from; for a whole indicator (or a field left to its
        formula) the range of its row; None for a key the form does not hold."""
        if key in self.cells:
            return self.cells[key]
        parts = key.split(".")
        row = self.rows.get(".".join(parts[:2])) if parts[0] == "figures" else None
        return f"A{row}:{COLUMNS[-1][0]}{row}" if row else None

    def placed(self, problem: Problem) -> Problem:
        """``problem`` with the cell its field came from."""
        return replace(problem, cell=self.cell_of(problem.field))


def where_in_form(problem: Problem) -> str:
    """One problem as the form's user reads it: the field, then its cell or row."""
    cell = problem.cell
    if not cell:
        return str(problem)
    where = f"dòng {cell.split(':')[0][1:]}" if ":" in cell else f"ô {cell}"
    return f"{problem.field} ({where}): {problem.rule}"


def read_form(path: Path) -> FilledForm:
    """Read a filled form. A total formula is skipped (openpyxl does not compute formulas:
    validation derives the total); a total typed over it is kept and checked."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: không có tệp này")
    data = read_bounded(path)
    if data[:4] == b"PK\x03\x04":  # anything else: openpyxl's own refusal below
        check_zip(path.name, data, form=True)
    try:
        book = load_workbook(io.BytesIO(data), data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(
            f"{path.name}: không phải bảng tính Excel (.xlsx): {type(exc).__name__}"
        ) from None
    if SHEET not in book.sheetnames:
        raise ValidationFailed(
            f"{path.name}: không phải biểu mẫu báo cáo của planflow (không có trang '{SHEET}')"
        )
    sheet = book[SHEET]
    for row, label, _ in HEADER:
        if str(sheet[f"B{row}"].value or "").strip() != label:
            raise ValidationFailed(
                f"{path.name}: không phải biểu mẫu báo cáo của planflow (ô B{row} phải ghi "
                f"'{label}')"
            )
    request_id = _number(sheet[CELL["request_id"]].value)
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        raise ValidationFailed(
            f"{path.name}: ô {CELL['request_id']} (mã yêu cầu): phải là số nguyên, "
            f"nhận được {sheet[CELL['request_id']].value!r}"
        )
    form = FilledForm(
        name=path.name,
        request_id=request_id,
        unit_code=_text(sheet[CELL["unit_code"]].value),
        period=_text(sheet[CELL["period"]].value),
        cells={"unit": CELL["unit_code"], "period": CELL["period"]},
    )
    row = TABLE_ROW + 1
    last = TABLE_ROW + get_settings().import_max_form_rows
    seen: dict[str, int] = {}
    while code := _text(sheet[f"B{row}"].value):
        if row > last:
            raise ValidationFailed(
                f"{path.name}: biểu mẫu quá nhiều dòng chỉ tiêu (tối đa "
                f"{last - TABLE_ROW}; PLANFLOW_IMPORT_MAX_FORM_ROWS)"
            )
        if code in seen:
            raise ValidationFailed(
                f"{path.name}: mã chỉ tiêu {code} lặp lại ở dòng {seen[code]} và dòng {row}"
            )
        seen[code] = row
        form.rows[f"figures.{code}"] = row
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
        note_label = _text(sheet[f"B{r}"].value)
        key = next((k for k, title in NARRATIVE if title == note_label), None)
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
            f"{form.name}: ô {CELL['request_id']} (mã yêu cầu): không có yêu cầu báo cáo "
            f"{form.request_id}"
        )
    unit = must_get(session, OrgUnit, request.unit_id)
    try:
        report_id = submit_report(
            session=session,
            request_id=pk(request),
            figures=form.figures,
            narrative=form.narrative,
            actor=actor or f"{unit.label} (biểu mẫu Excel)",
            unit_code=form.unit_code or "",
            period=form.period or "",
        )
    except ValidationFailed as exc:  # the problems, each placed in its cell by its field key
        problems = [form.placed(p) for p in exc.problems]
        lines = "; ".join(where_in_form(p) for p in problems)
        raise ValidationFailed(
            f"{form.name}: yêu cầu báo cáo {form.request_id}: {lines}", problems
        ) from None
    except PlanflowError as exc:
        raise type(exc)(f"{form.name}: {exc}", exc.problems) from None
    return must_get(session, Report, report_id)


__all__ = ["FilledForm", "import_form", "read_form"]
