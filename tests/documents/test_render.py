"""Rendering: a cascaded district sub-plan as its issuer's Word draft, the city plan, the
compiled six-month report, the templates' safety rules, the CLI, and (slow) PDF/PNG."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document as open_docx
from docx.shared import Pt
from jinja2 import UndefinedError
from sqlmodel import Session, select
from typer.testing import CliRunner

from planflow.documents.reading.importer import import_plan, save_plan
from planflow.documents.writing.render import environment, render_document, write_plan, write_report
from planflow.documents.writing.render_docx import PAGE
from planflow.documents.writing.render_model import Document, Header, Para, Signature, prose_label
from planflow.models import OrgUnit, ReportKind, UnitKind
from planflow.services.aggregation import compiled_figures
from planflow.states import NotFound
from tests.documents.conftest import HANOI_2020, libreoffice_pdf, require_tools
from tests.documents.cycle import CITY_NUMBER, PERIOD, cascaded, reported

DOCS = Path(__file__).resolve().parents[2] / "docs"


def docx_text(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """(body paragraphs, tables as rows of cell texts) of a Word file."""
    word = open_docx(str(path))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in word.tables]
    return [p.text for p in word.paragraphs], tables


def index_of(paragraphs: list[str], text: str) -> int:
    return next(i for i, p in enumerate(paragraphs) if text in p)


@pytest.fixture
def ha_dong_docx(session: Session, tmp_path: Path) -> tuple[Path, Session]:
    _, ha_dong = cascaded(session)
    return write_plan(session, plan_id=ha_dong.id, fmt="docx", out=tmp_path / "hd.docx"), session


def test_ha_dong_sub_plan_renders_as_its_own_draft(ha_dong_docx) -> None:
    path, session = ha_dong_docx
    paragraphs, tables = docx_text(path)
    header, tail = tables[0], tables[-1]
    assert header[0][0] == "ỦY BAN NHÂN DÂN\nQUẬN HÀ ĐÔNG\n"  # the last line is the short rule
    assert header[0][1].startswith(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    )
    assert header[1][0].startswith("Số:") and header[1][0].endswith("/KH-UBND")  # not numbered yet
    assert header[1][1].startswith("Hà Đông, ngày") and header[1][1].endswith("năm 2025")
    assert paragraphs[index_of(paragraphs, "KẾ HOẠCH") + 1].endswith("trên địa bàn quận Hà Đông")
    preamble = paragraphs[index_of(paragraphs, "Thực hiện Kế hoạch số")]
    assert preamble.startswith(
        f"Thực hiện Kế hoạch số {CITY_NUMBER} ngày 20/01/2025 của UBND Thành phố Hà Nội"
    )
    assert preamble.endswith("Ủy ban nhân dân quận Hà Đông xây dựng Kế hoạch thực hiện như sau:")
    parts = [p for p in paragraphs if p[:3] in ("I. ", "II.", "III", "IV.")]
    assert parts == [
        "I. MỤC ĐÍCH, YÊU CẦU",
        "II. NỘI DUNG THỰC HIỆN",
        "III. TỔ CHỨC THỰC HIỆN",
        "IV. CHẾ ĐỘ BÁO CÁO",
    ]
    blocks = paragraphs[index_of(paragraphs, "III. TỔ CHỨC") : index_of(paragraphs, "IV. CHẾ")]
    headings = [p.split(". ", 1)[1] for p in blocks if p[:1].isdigit()]
    assert headings[0] == "Phòng Lao động - Thương binh và Xã hội quận Hà Đông"  # standing agency
    for division in (
        "Phòng Nội vụ quận Hà Đông",
        "Phòng Tư pháp quận Hà Đông",
        "Phòng Tài chính - Kế hoạch quận Hà Đông",
        "Phòng Y tế quận Hà Đông",
    ):
        assert division in headings
    # mass organisations are requested, never ordered; divisions are not "requested"
    assert "Đề nghị Hội Liên hiệp Phụ nữ quận Hà Đông" in headings
    assert "Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam quận Hà Đông" in headings
    assert not [h for h in headings if h.startswith("Đề nghị Phòng")]
    assert headings[-1] == "Ủy ban nhân dân các phường"
    wards = session.exec(
        select(OrgUnit.name).where(
            OrgUnit.tiers == 3,
            OrgUnit.kind == UnitKind.committee,
            OrgUnit.path.startswith("01/268/"),
        )
    ).all()
    ward_line = next(p for p in blocks if p.startswith("Gồm 15 phường: "))
    assert len(wards) == 15 and all(w in ward_line for w in wards)
    assert "Phường Vạn Phúc" in ward_line
    regime = paragraphs[index_of(paragraphs, "IV. CHẾ") : index_of(paragraphs, "Trên đây")]
    to_agency = index_of(regime, "gửi báo cáo về Phòng Lao động - Thương binh và Xã hội quận")
    upward = index_of(regime, "báo cáo Ủy ban nhân dân thành phố Hà Nội")
    assert to_agency < index_of(regime, "trước ngày 20/5/2025") < upward
    assert to_agency < index_of(regime, "trước ngày 20/11/2025") < upward
    assert upward < index_of(regime, "trước ngày 23/5/2025")  # 25/5/2025 is a Sunday
    assert upward < index_of(regime, "trước ngày 25/11/2025")
    recipients = tail[0][0].split("\n")
    assert recipients[0] == "Nơi nhận:"
    assert recipients[1].endswith("(để b/cáo);") and "Lao động - Thương binh" in recipients[1]
    assert "- UBND các phường;" in recipients and recipients[-1] == "- Lưu: VT."
    signature = [line for line in tail[0][1].split("\n")]
    assert signature[:3] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert signature[-1] == ""  # a draft: the signer's name is left blank


def test_word_layout_follows_decree_30(ha_dong_docx) -> None:
    path, _ = ha_dong_docx
    word = open_docx(str(path))
    section = word.sections[0]
    mm = {
        k: round(getattr(section, k).mm, 1)
        for k in (
            "page_width",
            "page_height",
            "top_margin",
            "bottom_margin",
            "left_margin",
            "right_margin",
        )
    }
    assert (mm["page_width"], mm["page_height"]) == (210, 297)  # A4
    assert 20 <= mm["top_margin"] <= 25 and 20 <= mm["bottom_margin"] <= 25
    assert 30 <= mm["left_margin"] <= 35 and 15 <= mm["right_margin"] <= 20
    normal = word.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    runs = [r for p in word.paragraphs for r in p.runs if r.text.strip()]
    runs += [
        r
        for t in word.tables
        for row in t.rows
        for c in row.cells
        for p in c.paragraphs
        for r in p.runs
        if r.text.strip()
    ]
    assert {r.font.name for r in runs} <= {None, "Times New Roman"}  # all inherit Normal
    assert {r.font.size for r in runs} <= {None, Pt(11), Pt(12), Pt(13), Pt(14)}
    header = word.tables[0]
    assert not header._tbl.xpath(".//w:tblBorders/*[@w:val!='nil']")  # borderless
    date_runs = header.rows[1].cells[1].paragraphs[0].runs
    assert all(r.italic for r in date_runs)
    assert PAGE["left"] == 3.0


def test_issued_city_plan_prints_number_date_signer_and_its_recipients(
    session: Session, tmp_path: Path
) -> None:
    root, _ = cascaded(session)
    paragraphs, tables = docx_text(
        write_plan(session, plan_id=root.id, fmt="docx", out=tmp_path / "city.docx")
    )
    assert tables[0][0][0].startswith("ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HÀ NỘI")
    assert tables[0][1] == [f"Số: {CITY_NUMBER}", "Hà Nội, ngày 20 tháng 01 năm 2025"]
    assert "Ủy ban nhân dân các quận, huyện, thị xã" in " ".join(paragraphs)
    # the plan's own text: no "Gồm 30 quận, huyện, thị xã: …" line the plan does not have
    assert not any(p.startswith("Gồm ") for p in paragraphs)
    recipients = tables[-1][0][0].split("\n")
    assert recipients[1] == "- Bộ LĐTB&XH;" and recipients[-1].startswith("- Lưu: VT")
    assert tables[-1][0][1].split("\n")[-1] == "Vũ Thu Hà"


def test_markdown_and_html_carry_the_same_draft(session: Session, tmp_path: Path) -> None:
    _, ha_dong = cascaded(session)
    md = write_plan(session, plan_id=ha_dong.id, fmt="md", out=tmp_path / "hd.md").read_text()
    html = write_plan(session, plan_id=ha_dong.id, fmt="html", out=tmp_path / "h.html").read_text()
    for text in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Thực hiện Kế hoạch số 01/KH-UBND ngày 20/01/2025",
        "Phường Vạn Phúc",
        "Đề nghị Hội Liên hiệp Phụ nữ quận Hà Đông",
        "trước ngày 23/5/2025",
        "TM. ỦY BAN NHÂN DÂN",
    ):
        assert text in md and text in html
    assert "**III. TỔ CHỨC THỰC HIỆN**" in md and "**1\\. Phòng Lao động" in md
    assert "- Lưu: VT." in md and "Nơi nhận:" in md
    assert html.startswith("<!DOCTYPE html>") and '<p class="part">IV. CHẾ ĐỘ BÁO CÁO</p>' in html


def test_templates_escape_html_and_refuse_missing_values() -> None:
    doc = Document(
        stem="x",
        header=Header(("ỦY BAN NHÂN DÂN", "X"), "Số: 1/KH-UBND", "X, ngày 01 tháng 01 năm 2025"),
        doc_type="KẾ HOẠCH",
        title="<script>alert(1)</script> & co",
        body=[Para("item", "a | b * c"), Para("text", "1. not a list")],
        recipients=["Lưu: VT."],
        signature=Signature(("TM. ỦY BAN NHÂN DÂN",), ""),
    )
    html = render_document(doc, "html").decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    md = render_document(doc, "md").decode()
    assert "- a \\| b \\* c" in md and "1\\. not a list" in md
    with pytest.raises(UndefinedError):
        environment().get_template("document.html").render()


def test_compiled_report_lists_who_reported_and_the_indicators(
    session: Session, tmp_path: Path
) -> None:
    ids = reported(session)
    report, figures = compiled_figures(
        session, plan_id=ids["root"], kind=ReportKind.six_month, period=PERIOD
    )
    path = write_report(
        session,
        plan_id=ids["root"],
        kind=ReportKind.six_month,
        period=PERIOD,
        fmt="docx",
        out=tmp_path / "r.docx",
    )
    paragraphs, tables = docx_text(path)
    title = paragraphs[index_of(paragraphs, "BÁO CÁO") + 1]
    assert (
        title == "Kết quả công tác bình đẳng giới và vì sự tiến bộ của phụ nữ 6 tháng đầu năm 2025"
    )
    assert tables[0][1][0].startswith("Số:") and tables[0][1][0].endswith("/BC-UBND")
    completeness, indicators = tables[1], tables[2]
    assert completeness[0][:6] == ["TT", "Nơi tổng hợp", "Phải nộp", "Đúng hạn", "Muộn", "Chưa nộp"]
    rows = {r[1]: r for r in completeness[1:]}
    assert set(rows) == {
        "Báo cáo trực tiếp về Sở Nội vụ",  # due 30/5/2025: LĐTBXH's work is Nội vụ's since 1/3
        "UBND quận Ba Đình",
        "UBND quận Hà Đông",
        "Tổng cộng",
    }  # unissued sub-plans expect nothing
    direct = report.completeness
    assert rows["Báo cáo trực tiếp về Sở Nội vụ"][2:6] == [
        str(direct[k]) for k in ("expected", "on_time", "late", "missing")
    ]
    for name in direct["missing_units"] + direct["late_units"]:  # "UBND Quận X" → "UBND quận X"
        assert prose_label(name) in rows["Báo cáo trực tiếp về Sở Nội vụ"][6]
    ha_dong = rows["UBND quận Hà Đông"]
    assert ha_dong[6].startswith("Chưa nộp: UBND phường") and "Nộp muộn: " in ha_dong[6]
    total = [int(rows["Tổng cộng"][i]) for i in range(2, 6)]
    assert total[0] == total[1] + total[2] + total[3] > 0
    assert indicators[0] == [
        "Mã",
        "Chỉ tiêu",
        "Nữ",
        "Nam",
        "Tổng số / Tử số, mẫu số",
        "Giá trị",
        "Mục tiêu",
        "Đánh giá",
    ]
    by_code = {r[0]: r for r in indicators[1:]}
    assert list(by_code) == [f.code for f in figures]
    status = {"met": "Đạt", "not met": "Chưa đạt", "cannot be assessed": "Không đánh giá được"}
    for f in figures:
        row = by_code[f.code]
        if f.kind == "by_sex" and f.total is not None:
            assert row[2:5] == [
                f"{f.female:,}".replace(",", "."),
                f"{f.male:,}".replace(",", "."),
                f"{f.total:,}".replace(",", "."),
            ]
        if f.kind == "ratio" and f.denominator:
            assert row[4] == f"{f.numerator:,} / {f.denominator:,}".replace(",", ".")
        if f.status in status:
            assert row[7] == status[f.status]
    assert by_code["NQ28-2.1"][6] == "≥\u00a050%" and by_code["NQ28-4.1"][6] == "≤\u00a0111"
    assert by_code["NQ28-1.2"][7] == "Không đánh giá được"  # nobody reported it


def test_report_render_needs_an_aggregated_period(session: Session) -> None:
    root, _ = cascaded(session)
    with pytest.raises(NotFound, match="chưa có báo cáo 6 tháng tổng hợp kỳ 2025-H1"):
        write_report(session, plan_id=root.id, kind=ReportKind.six_month, period=PERIOD, fmt="md")


def test_cli_renders_reports_and_plans(session: Session, tmp_path: Path) -> None:
    import planflow.cli as c

    c._mount()
    ids = reported(session)
    runner = CliRunner()
    for fmt in ("docx", "html", "md"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(
            c.app,
            [
                "report",
                "render",
                str(ids["root"]),
                "--kind",
                "six_month",
                "--period",
                PERIOD,
                "--format",
                fmt,
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"đã ghi {out}" and out.stat().st_size > 1000
    default = runner.invoke(c.app, ["report", "render", str(ids["root"]), "--format", "md"])
    assert default.exit_code == 0, default.output
    assert default.output.strip().endswith(f"reports/plan-{ids['root']}-six-month-{PERIOD}.md")
    out = tmp_path / "hd.docx"
    result = runner.invoke(c.app, ["plan", "render", str(ids["268"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "QUẬN HÀ ĐÔNG" in docx_text(out)[1][0][0][0]


@pytest.mark.slow
def test_documents_convert_to_pdf_and_png(session: Session, tmp_path: Path) -> None:
    """LibreOffice renders the .docx and .html; the first pages are looked at as PNG
    (PLANFLOW_WRITE_DOCS=1 copies them to docs/)."""
    tools = require_tools(
        "soffice", "pdftoppm", "pdftotext",
        install="apt-get install libreoffice-writer-nogui poppler-utils fonts-liberation2",
    )
    soffice, pdftoppm = tools["soffice"], tools["pdftoppm"]
    root, ha_dong = cascaded(session)
    draft = write_plan(session, plan_id=ha_dong.id, fmt="docx", out=tmp_path / "sub-plan.docx")
    hanoi_2020 = save_plan(
        session=session, imported=import_plan(session=session, text_or_path=HANOI_2020)
    )
    imported = write_plan(
        session, plan_id=hanoi_2020.id, fmt="docx", out=tmp_path / "imported-plan.docx"
    )
    ids = reported(session, root=root)
    sources = [
        write_report(
            session,
            plan_id=ids["root"],
            kind=ReportKind.six_month,
            period=PERIOD,
            fmt=fmt,
            out=tmp_path / f"compiled-report.{fmt}",
        )
        for fmt in ("docx", "html")
    ] + [draft, imported]
    for source in sources:
        out = tmp_path / source.suffix[1:]
        pdf = libreoffice_pdf(soffice, source, out, tmp_path / "lo-profile")
        text = subprocess.run(
            ["pdftotext", "-l", "1", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do" in text
        pages = int(
            re.search(
                r"^Pages:\s+(\d+)",
                subprocess.run(
                    ["pdfinfo", str(pdf)], check=True, capture_output=True, text=True
                ).stdout,
                re.MULTILINE,
            ).group(1)
        )
        for page in range(1, pages + 1):  # no blank page, the last one included
            words = subprocess.run(
                ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            assert len(words) > 3, f"{source.name}: page {page} of {pages} is blank"
        png = out / source.stem
        subprocess.run([pdftoppm, "-png", "-r", "80", str(pdf), str(png)], check=True, timeout=120)
        shots = sorted(out.glob(f"{source.stem}-*.png"))
        assert len(shots) == pages and shots[0].stat().st_size > 10_000
        if os.environ.get("PLANFLOW_WRITE_DOCS") == "1" and source.suffix == ".docx":
            DOCS.mkdir(exist_ok=True)
            for old in DOCS.glob(f"{source.stem}-page*.png"):
                old.unlink()
            keep = shots if source.stem == "compiled-report" else shots[:1]  # plans: the first page
            for n, shot in enumerate(keep, start=1):
                shutil.copy(shot, DOCS / f"{source.stem}-page{n}.png")
    report_text = subprocess.run(
        ["pdftotext", str(tmp_path / "docx" / "compiled-report.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ" in report_text and "Chưa đạt" in report_text
    assert "Biểu đồ 1." in report_text and "Biểu đồ 2." in report_text
