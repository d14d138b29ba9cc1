"""Figures through the portal: exactly ``submit_report``'s rules, each problem beside its field,
nothing written when refused; uploads refused in Vietnamese; audit rows name the link."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document
from sqlalchemy import event, select
from sqlmodel import Session

from planflow.models import AccessLink, IndicatorValue, Report, ReportRequest, TransitionLog
from planflow.notifications import links
from tests.portal.conftest import counts, csrf_of

# (form fields, the field that must show the error, a phrase of the Vietnamese message)
INVALID = {
    "not_whole": ({"f.HD-TT-SK.total": "1.234"}, "f.HD-TT-SK.total", "Phải là số nguyên"),
    "not_whole_text": ({"f.HD-TT-SK.total": "mười"}, "f.HD-TT-SK.total", "Phải là số nguyên"),
    "negative": ({"f.HD-TT-SK.total": "-3"}, "f.HD-TT-SK.total", "Không được là số âm"),
    "pair_sex": ({"f.HD-LD.female": "4"}, "f.HD-LD.male", "Nhập cả số nữ và số nam"),
    "total_without_parts": ({"f.HD-LD.total": "9"}, "f.HD-LD.total", "chưa nhập số nữ"),
    "sum_mismatch": (
        {"f.HD-LD.female": "4", "f.HD-LD.male": "5", "f.HD-LD.total": "10"},
        "f.HD-LD.total",
        "Nữ 4 + Nam 5 = 9, không bằng Tổng 10",
    ),
    "pair_ratio": (
        {"f.NQ28-1.2.numerator": "3"},
        "f.NQ28-1.2.denominator",
        "Nhập cả tử số và mẫu số",
    ),
    "num_exceeds_den": (
        {"f.NQ28-1.2.numerator": "8", "f.NQ28-1.2.denominator": "5"},
        "f.NQ28-1.2.numerator",
        "Tử số 8 lớn hơn mẫu số 5",
    ),
    "above_maximum": ({"f.HD-TT-SK.total": str(2**63)}, "f.HD-TT-SK.total", "vượt mức tối đa"),
    "unknown_indicator": ({"f.KHONG-CO.total": "1"}, None, "Chỉ tiêu không có trong danh mục"),
    "not_a_field": ({"f.HD-TT-SK.male": "1"}, None, "Ô này không thuộc chỉ tiêu"),
}


def _field_error(html: str, field: str) -> str:
    """The error paragraph the page shows right after ``field``'s input."""
    match = re.search(
        rf'<input id="{re.escape(field)}"[^>]*aria-invalid="true"[^>]*>\s*'
        rf'<p class="field-error" id="{re.escape(field)}\.err">([^<]+)</p>',
        html,
    )
    assert match, f"no error beside {field}"
    return match.group(1)


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_figures_come_back_beside_their_field_and_change_nothing(
    case, clients, world, engine
):
    fields, field, phrase = INVALID[case]
    client = clients["own"]
    path = f"/requests/{world.six_month.id}"
    csrf = csrf_of(client, path)
    before = counts(engine)
    response = client.post(
        f"{path}/submit", data={"csrf": csrf, **fields, "n.results": "Đã tổ chức 3 hội nghị."}
    )
    assert response.status_code == 422
    html = response.text
    if field:
        assert phrase in _field_error(html.replace("&#34;", '"'), field)
    else:
        assert phrase in html
    assert "Báo cáo chưa được gửi" in html
    assert "Đã tổ chức 3 hội nghị." in html  # what was typed is kept
    for value in fields.values():
        assert field is None or f'value="{value}"' in html
    assert counts(engine) == before


def test_a_valid_submission_is_recorded_with_the_portal_actor_and_the_link(clients, world, engine):
    client = clients["own"]
    path = f"/requests/{world.six_month.id}"
    csrf = csrf_of(client, path)
    response = client.post(
        f"{path}/submit",
        data={
            "csrf": csrf,
            "f.HD-LD.female": "4",
            "f.HD-LD.male": "5",
            "f.NQ28-1.2.numerator": "2",
            "f.NQ28-1.2.denominator": "7",
            "n.results": "Kết quả",
        },
    )
    assert response.status_code == 303
    with Session(engine) as session:
        link = session.execute(
            select(AccessLink).where(AccessLink.token_hash == links.hash_token(world.tokens["own"]))
        ).scalar_one()
        (audit,) = session.execute(
            select(TransitionLog).where(
                TransitionLog.entity_id == world.six_month.id, TransitionLog.trigger == "submit"
            )
        ).scalars()
        assert (audit.actor, audit.link_id) == ("portal:W9541", link.id)
        report = session.execute(
            select(Report).where(Report.request_id == world.six_month.id)
        ).scalar_one()
        values = {
            v.indicator_code: v
            for v in session.execute(
                select(IndicatorValue).where(IndicatorValue.report_id == report.id)
            ).scalars()
        }
        assert (values["HD-LD"].female, values["HD-LD"].male, values["HD-LD"].total) == (4, 5, 9)
        assert session.get(ReportRequest, world.six_month.id).status == "submitted"
    page = client.get(path).text  # read-only now
    assert "Nội dung đã gửi" in page and 'name="f.HD-LD.female"' not in page


def test_the_agency_returns_with_a_reason_and_the_ward_can_edit_again(clients, world, engine):
    agency = clients["agency"]
    path = f"/agency/requests/{world.annual.id}"
    csrf = csrf_of(agency, path)
    before = counts(engine)
    refused = agency.post(f"{path}/return", data={"csrf": csrf, "reason": "  "})
    assert refused.status_code == 422 and "Cần nêu lý do trả lại" in refused.text
    assert counts(engine) == before
    done = agency.post(f"{path}/return", data={"csrf": csrf, "reason": "Thiếu số liệu nữ."})
    assert done.status_code == 303
    ward = clients["own"].get(f"/requests/{world.annual.id}").text
    assert "Thiếu số liệu nữ." in ward and 'name="f.HD-LD.female"' in ward
    home = clients["own"].get("/").text
    assert home.index("Bị trả lại") < home.index("Thiếu số liệu nữ.")
    with Session(engine) as session:
        audit = session.execute(
            select(TransitionLog).where(TransitionLog.trigger == "return")
        ).scalar_one()
        assert audit.actor == "portal:D268-LD" and audit.link_id is not None


def _upload(client, world, name: str, data: bytes, *, document: bool = True):
    request = world.sub_plan if document else world.six_month
    path = f"/requests/{request.id}"
    csrf = csrf_of(client, path)
    target = f"{path}/document" if document else f"{path}/form"
    return client.post(target, data={"csrf": csrf}, files={"file": (name, data)})


def _zip_bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


REFUSED = {
    "11 MB": (
        "ke-hoach.pdf",
        b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024),
        "vượt quá mức tối đa 10 MB",
    ),
    "executable renamed .pdf": (
        "ke-hoach.pdf",
        b"MZ\x90\x00" + b"\0" * 2048,
        "không phải là tệp PDF",
    ),
    "zip bomb .docx": ("ke-hoach.docx", None, "nội dung nén bất thường"),
    "not a plan file": ("ke-hoach.exe", b"MZ\x90\x00", "chỉ nhận tệp .docx hoặc .pdf"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_uploads_are_refused_in_vietnamese_and_change_nothing(case, clients, world, engine):
    name, data, phrase = REFUSED[case]
    if data is None:
        data = _zip_bomb_docx()
    before = counts(engine)
    response = _upload(clients["own"], world, name, data)
    assert response.status_code in (413, 422)
    assert phrase in response.text
    assert counts(engine) == before


def test_a_plan_document_satisfies_the_sub_plan_request(clients, world, engine, tmp_path):
    buffer = io.BytesIO()
    doc = Document()
    doc.add_paragraph("KẾ HOẠCH thực hiện công tác bình đẳng giới năm 2025")
    doc.save(buffer)
    response = _upload(clients["own"], world, "Ke hoach 2025.docx", buffer.getvalue())
    assert response.status_code == 303
    with Session(engine) as session:
        assert session.get(ReportRequest, world.sub_plan.id).status == "submitted"
        from planflow.models import UnitDocument

        (row,) = session.execute(select(UnitDocument)).scalars()
        import hashlib

        assert row.sha256 == hashlib.sha256(buffer.getvalue()).hexdigest()
        assert row.link_id is not None


def test_an_excel_form_filled_and_uploaded_is_submitted(clients, world, engine, tmp_path):
    from openpyxl import load_workbook

    client = clients["own"]
    blank = client.get(f"/requests/{world.six_month.id}/form.xlsx")
    assert blank.status_code == 200
    path = tmp_path / "f.xlsx"
    path.write_bytes(blank.content)
    book = load_workbook(path)
    sheet = book.active
    for row in sheet.iter_rows():
        if row[1].value == "HD-TT-SK":
            sheet[f"G{row[1].row}"] = 6  # a count: its total
        if row[1].value == "HD-LD":
            sheet[f"E{row[1].row}"], sheet[f"F{row[1].row}"] = 5, 4  # Nam, Nữ
    book.save(path)
    response = _upload(client, world, "bieu-mau.xlsx", path.read_bytes(), document=False)
    assert response.status_code == 303, response.text[-800:]
    with Session(engine) as session:
        values = {v.indicator_code: v for v in session.execute(select(IndicatorValue)).scalars()}
        assert values["HD-TT-SK"].total == 6
        assert (values["HD-LD"].female, values["HD-LD"].male, values["HD-LD"].total) == (4, 5, 9)
        (audit,) = session.execute(
            select(TransitionLog).where(TransitionLog.trigger == "submit")
        ).scalars()
        assert audit.actor == "portal:W9541" and audit.link_id is not None


def test_an_excel_form_of_another_request_is_refused(clients, world, engine, tmp_path):
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from planflow.documents.writing.excel_form import write_form

    with TemporaryDirectory() as folder, Session(engine) as session:
        other = write_form(
            session, request_id=world.sibling_request.id, out=Path(folder) / "x.xlsx"
        ).read_bytes()
    before = counts(engine)
    response = _upload(clients["own"], world, "bieu-mau.xlsx", other, document=False)
    assert response.status_code == 422 and "biểu mẫu của yêu cầu khác" in response.text
    assert counts(engine) == before


def test_a_submission_reads_its_request_once_locked_and_nothing_it_does_not_need(
    clients, world, engine
):
    """What one submission costs the database: the session's link, the request read once
    (FOR UPDATE on PostgreSQL, by the authorization itself), the state change and its audit
    row, the report and its figures. No catalogue read (the portal holds it), and no DELETE of
    figures for a report sent the first time."""
    client = clients["own"]
    path = f"/requests/{world.six_month.id}"
    csrf = csrf_of(client, path)  # the form's page: from here the portal holds the catalogue
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(
            f"{path}/submit", data={"csrf": csrf, "f.HD-LD.female": "4", "f.HD-LD.male": "5"}
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 303
    reads = [s for s in seen if s.startswith("SELECT") and " FROM report_request " in f"{s} "]
    assert len(reads) == 1, seen
    if engine.dialect.name == "postgresql":
        assert reads[0].endswith("FOR UPDATE"), reads
    assert not [s for s in seen if re.search(r"FROM indicator\b(?!_)", s)], seen
    assert not [s for s in seen if s.startswith("DELETE")], seen
    assert len(seen) == 7, seen


def test_every_request_gives_its_connection_back(clients, world, engine):
    """A page that only read, a refused form and a recorded submission each end with no
    connection of the pool held (the session is closed on the event loop only when its work
    was committed, otherwise in a worker thread)."""
    client = clients["own"]
    path = f"/requests/{world.six_month.id}"
    csrf = csrf_of(client, path)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    refused = client.post(f"{path}/submit", data={"csrf": csrf, "f.HD-LD.female": "4"})
    assert refused.status_code == 422
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    sent = client.post(
        f"{path}/submit", data={"csrf": csrf, "f.HD-LD.female": "4", "f.HD-LD.male": "5"}
    )
    assert sent.status_code == 303
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
