"""The cell layout of an Excel report form, shared by the writer (``writing.excel_form``) and the
reader (``reading.excel_form``): the form is read back by the cells it was written to."""

from __future__ import annotations

from planflow.models import IndicatorKind

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
