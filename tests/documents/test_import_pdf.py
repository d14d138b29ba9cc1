"""A plan published as the PDF that Word or LibreOffice makes of it reads as its .docx does,
and so does that PDF's text saved with its layout (``pdftotext -layout``, a viewer's copy).

Offices publish most plans as PDFs printed from the .docx: the header and the signature are
tables without borders, paragraphs are justified with a first-line indent, pages are numbered
at the top, and a table may run across a page break. Each seed plan is imported, rendered to
.docx in the Decree 30 layout, printed to PDF by LibreOffice, and the PDF read back: every field,
down to each section's items, each block's duties and the recipients, must equal the .docx's.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from planflow.documents.reading.importer import import_plan, save_plan
from planflow.documents.reading.parser import parse_plan
from planflow.documents.reading.shapes import normalise, pdf_lines
from planflow.documents.reading.source import read_source
from planflow.documents.writing.render import write_plan
from tests.documents.conftest import (
    HADONG_2024,
    HANOI_2020,
    HANOI_2025,
    libreoffice_pdf,
    require_tools,
)


def _read(path: Path) -> dict[str, Any]:
    source = read_source(path)
    parsed = parse_plan(source.lines, source=source.name)
    fields = {name: getattr(parsed, name) for name in (
        "number", "kind", "place", "issued_on", "year", "issuer", "title", "preamble",
        "parts", "closing", "recipients", "wrapper",
    )}
    fields["purpose"] = [asdict(s) for s in parsed.purpose]
    fields["sections"] = [asdict(s) for s in parsed.sections]
    fields["blocks"] = [(b.number, b.label, b.request, b.duties) for b in parsed.blocks]
    fields["deadlines"] = [asdict(d) for d in parsed.deadlines]
    fields["signature"] = (parsed.signature.name, parsed.signature.title, parsed.signature.block)
    return {"shape": source.shape, **fields}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [HANOI_2020, HANOI_2025, HADONG_2024], ids=lambda p: p.stem)
def test_the_pdf_printed_from_a_plan_reads_as_its_docx(
    hanoi: Session, tmp_path: Path, seed: Path
) -> None:
    tools = require_tools("soffice", "pdftotext",
                          install="apt-get install libreoffice-writer-nogui poppler-utils")
    plan = save_plan(session=hanoi, imported=import_plan(session=hanoi, text_or_path=seed))
    docx = write_plan(hanoi, plan_id=plan.id, fmt="docx", out=tmp_path / f"{seed.stem}.docx")
    pdf = libreoffice_pdf(tools["soffice"], docx, tmp_path, tmp_path / "lo")
    # the same PDF's text as a clerk may save it: with its layout (pdftotext -layout)
    copied = tmp_path / "copied.txt"
    subprocess.run([tools["pdftotext"], "-layout", str(pdf), str(copied)], check=True,
                   timeout=120)
    from_docx = _read(docx)
    assert from_docx.pop("shape") == "docx"
    for path in (pdf, copied):
        from_pdf = _read(path)
        assert from_pdf.pop("shape") == "pdf"
        assert len(from_pdf["blocks"]) >= 5 and from_pdf["recipients"]  # a whole plan was read
        differ = {name: (from_docx[name], from_pdf[name]) for name in from_docx
                  if from_docx[name] != from_pdf[name]}
        assert differ == {}, path.name


PAGES = [
    # page 1: the header's two columns, a centred title wrapped onto two rows, a justified
    # paragraph with a first-line indent, a bullet going on after ";", a row broken at a hyphen
    "      ỦY BAN NHÂN DÂN                  CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
    "       TỈNH ĐẮK LẮK                       Độc lập - Tự do - Hạnh phúc\n"
    "\n"
    "      Số: 12/KH-UBND                     Đắk Lắk, ngày 05 tháng 3 năm 2023\n"
    "\n"
    "                                   KẾ HOẠCH\n"
    "    Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ trên địa\n"
    "                         bàn tỉnh năm 2023\n"
    "\n"
    "       Năm 2023 là năm giữa kỳ thực hiện Chiến lược quốc gia về bình đẳng giới\n"
    "giai đoạn 2021-2030; Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:\n"
    "       - Tuyên truyền Luật Bình đẳng giới; Thông tư số 98/2017/TT-\n"
    "BTC ngày 29/9/2017 của Bộ Tài chính hướng dẫn kinh phí thực hiện.\n"
    "                                      1\n",
    # page 2: its number at the top, the recipients beside the signature, wrapped across rows
    "                                      2\n"
    "Nơi nhận:                                          TM. ỦY BAN NHÂN DÂN\n"
    "- Bộ Lao động - Thương binh                            KT. CHỦ TỊCH\n"
    "  và Xã hội;                                           PHÓ CHỦ TỊCH\n"
    "- Lưu: VT, KGVX.\n",
]


def test_print_rows_become_the_documents_lines() -> None:
    """The rules of ``pdf_lines`` on rows as pypdf's layout mode gives them."""
    lines = [x for x in pdf_lines("\n\f\n".join(PAGES).split("\n")) if x]
    assert lines == [
        "ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 12/KH-UBND", "Đắk Lắk, ngày 05 tháng 3 năm 2023",
        "KẾ HOẠCH",
        "Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ trên địa bàn tỉnh năm 2023",
        "Năm 2023 là năm giữa kỳ thực hiện Chiến lược quốc gia về bình đẳng giới giai đoạn "
        "2021-2030; Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:",
        "- Tuyên truyền Luật Bình đẳng giới; Thông tư số 98/2017/TT-BTC ngày 29/9/2017 của Bộ "
        "Tài chính hướng dẫn kinh phí thực hiện.",
        "Nơi nhận:", "- Bộ Lao động - Thương binh", "và Xã hội;", "- Lưu: VT, KGVX.",
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH",
    ]


def test_a_pdfs_text_saved_with_its_layout_reads_as_the_pdf(tmp_path: Path) -> None:
    """The rows above as pdftotext -layout writes them: a form feed starts each page."""
    copied = tmp_path / "copied.txt"
    copied.write_text("\f".join(PAGES), encoding="utf-8")
    source = read_source(copied)
    assert source.shape == "pdf"
    plan = parse_plan(source.lines, source=source.name)
    assert (plan.number, plan.place, plan.issued_on.isoformat()) == (
        "12/KH-UBND", "Đắk Lắk", "2023-03-05")
    assert plan.title == (
        "Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ trên địa bàn tỉnh năm 2023")
    assert plan.recipients == ["Bộ Lao động - Thương binh và Xã hội", "Lưu: VT, KGVX"]
    assert plan.signature.block == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]


def test_a_number_run_into_its_place_and_date_is_read_apart() -> None:
    """A PDF's text copied without its layout puts the header's two cells on one line."""
    lines = [
        "ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc", "Số: 12/KH-UBND Đắk Lắk, ngày 05 tháng 3 năm 2023",
        "KẾ HOẠCH", "Thực hiện công tác bình đẳng giới năm 2023", "I. MỤC ĐÍCH, YÊU CẦU",
        "1. Mục đích", "- Nâng cao nhận thức.",
    ]
    plan = parse_plan(normalise(lines)[0])
    assert (plan.number, plan.place, plan.issued_on.isoformat()) == (
        "12/KH-UBND", "Đắk Lắk", "2023-03-05")
