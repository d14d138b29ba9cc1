"""The shapes real plans come in, and each failure issue #11 lists, as tests.

The Đắk Lắk plan (daklak_2023.txt, a plain text) is the reference: turned into Markdown, into a
web page's copy (site text around it, header flattened into table rows, lines wrapped at a fixed
width) and into a .docx, it must read the same. The other tests take the failing openings the
issue quotes, in the corpus's real texts where they exist.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from sqlmodel import Session

from planflow.documents.reading.importer import import_plan
from planflow.documents.reading.parser import ParsedPlan, parse_plan
from planflow.documents.reading.shapes import normalise
from planflow.documents.reading.source import read_source
from tests.documents.conftest import DAKLAK_2023, corpus_file

PLAIN = DAKLAK_2023.read_text(encoding="utf-8")


def _parse(text_or_path: str | Path) -> tuple[ParsedPlan, str]:
    source = read_source(text_or_path)
    return parse_plan(source.lines, source=source.name), source.shape


def _essence(p: ParsedPlan) -> dict:
    return {
        "number": p.number,
        "place": p.place,
        "issued_on": p.issued_on,
        "issuer": p.issuer,
        "title": p.title,
        "parts": p.parts,
        "purpose": [(s.number, s.title, s.items) for s in p.purpose],
        "sections": [(s.number, s.title, s.items) for s in p.sections],
        "blocks": [(b.number, b.label, b.duties) for b in p.blocks],
        "deadlines": [(d.report_kind, d.due_on, d.from_units, d.to_units) for d in p.deadlines],
        "recipients": p.recipients,
        "signer": (p.signature.name, p.signature.title),
    }


def _as_markdown(text: str) -> str:
    """The plan as a Word-to-Markdown converter writes it (the issue's first failure)."""
    out = [
        "| **ỦY BAN NHÂN DÂN** **TỈNH ĐẮK LẮK** | **CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM** |",
        "|---|---|",
        "| Số: 123/KH-UBND | *Đắk Lắk, ngày 05 tháng 3 năm 2023* |",
        "",
    ]
    body = text.split("KẾ HOẠCH\n", 1)[1]
    level = 0
    for line in ["KẾ HOẠCH", *body.split("\n")]:
        if re.match(r"^[IVX]+\. ", line):
            out.append(f"### **{line}**")
        elif re.match(r"^\d+\. ", line):
            level += 1
            out.append(f"{'####' if level % 2 else '##'} **{line}**")
        elif line in ("KẾ HOẠCH", "Nguyễn Thị Mẫu") or line.startswith("Thực hiện công tác"):
            out.append(f"**{line}**")
        elif line.startswith("- "):
            out.append("\\" + line)
        else:
            line = re.sub(r"(trước ngày [\d/]+|chậm nhất ngày [\d/]+)", r"**\1**", line)
            out.append(line)
        out.append("")
    return "\n".join(out)


def _as_web_copy(text: str) -> str:
    """The plan as a legal-documents site shows it: its own text before and after, the header
    flattened into table rows, the body wrapped at a fixed width."""
    _head, body = text.split("KẾ HOẠCH\n", 1)
    wrapped = []
    for line in ("KẾ HOẠCH\n" + body).split("\n"):
        wrapped.extend(textwrap.wrap(line, width=78, break_on_hyphens=False) or [""])
    return "\n".join(
        [
            "Hệ thống pháp luật",
            "Đang tải nội dung, vui lòng chờ giây lát...",
            "- 1Luật Bình đẳng giới 2006",
            "- 2Kế hoạch 15/KH-BLĐTBXH năm 2023 về công tác bình đẳng giới",
            "ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |",
            "TỈNH ĐẮK LẮK | Độc lập - Tự do - Hạnh phúc |",
            "Số: 123/KH-UBND | Đắk Lắk, ngày 05 tháng 3 năm 2023 |",
            *wrapped,
            "Tin mới nhất",
            "Quyết định 12/2023/QĐ-UBND về giá đất tỉnh Đắk Lắk",
            "Văn bản liên quan",
        ]
    )


def test_markdown_reads_like_the_plain_text() -> None:
    """### **IV. TỔ CHỨC THỰC HIỆN**, #### **1. Sở …**, ## **2. …**, **trước ngày 15/01**: the
    sections, blocks and deadlines in bold are all read."""
    plain, _ = _parse(PLAIN)
    marked, shape = _parse(_as_markdown(PLAIN))
    assert shape == "markdown"
    assert plain.blocks and plain.deadlines and plain.sections
    assert _essence(marked) == _essence(plain)


def test_a_web_copy_reads_like_the_plain_text() -> None:
    plain, _ = _parse(PLAIN)
    copied, shape = _parse(_as_web_copy(PLAIN))
    assert shape == "web"
    assert _essence(copied) == _essence(plain)


def test_site_text_before_and_after_is_dropped() -> None:
    lines, shape = normalise(_as_web_copy(PLAIN).split("\n"))
    assert shape == "web"
    assert lines[0] == "ỦY BAN NHÂN DÂN"
    text = "\n".join(lines)
    assert "Hệ thống pháp luật" not in text and "1Luật" not in text
    assert "Tin mới nhất" not in text and "giá đất" not in text
    assert "Nguyễn Thị Mẫu" in text


def test_a_header_flattened_into_a_table_row_is_not_the_issuer() -> None:
    """ "ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |" (Hậu Giang 2016)."""
    plan, _ = _parse(corpus_file("haugiang_2016_kh28.txt"))
    assert plan.issuer == "UBND tỉnh Hậu Giang"
    assert (plan.place, str(plan.issued_on)) == ("Hậu Giang", "2016-04-11")


def test_a_header_without_its_issuer_line_takes_the_place_with_a_warning() -> None:
    text = (
        "Số: /KH-UBND\nĐắk Lắk, ngày … tháng 3 năm 2020\nKẾ HOẠCH\n"
        "Thực hiện công tác bình đẳng giới năm 2020\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức.\n"
    )
    plan, _ = _parse(text)
    assert plan.issuer == "UBND tỉnh Đắk Lắk"
    assert any(w.startswith("cơ quan ban hành:") and "dòng địa danh" in w for w in plan.warnings)


def test_a_place_wrapped_inside_its_name() -> None:
    """ "Lâm" / "Đồng, ngày 23 tháng 02 năm 2022" gave place "Đồng"; "ỦY" / "BAN NHÂN DÂN"."""
    plan, _ = _parse(corpus_file("lamdong_2022_kh1073.txt"))
    assert (plan.place, plan.issuer) == ("Lâm Đồng", "UBND tỉnh Lâm Đồng")


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (
            "tayninh_2021_qd1100_tvpl.txt",
            (
                "TRIỂN KHAI THỰC HIỆN CHIẾN LƯỢC QUỐC GIA VỀ BÌNH ĐẲNG GIỚI TRÊN ĐỊA BÀN TỈNH "
                "TÂY NINH GIAI ĐOẠN 2021 - 2030"
            ),
        ),
        (
            "ninhthuan_2021_kh1790.txt",
            "TRIỂN KHAI CÔNG TÁC “PHÒNG, CHỐNG BẠO LỰC GIA ĐÌNH” GIAI ĐOẠN 2021-2025",
        ),
        (
            "sonla_2020_kh90.txt",
            (
                "TRIỂN KHAI THỰC HIỆN CHỈ THỊ SỐ 08/CT-TTG NGÀY 04/02/2020 CỦA THỦ TƯỚNG CHÍNH PHỦ "
                "VỀ ĐẨY MẠNH CÔNG TÁC PHÒNG, CHỐNG BẠO LỰC GIA ĐÌNH"
            ),
        ),
    ],
)
def test_a_title_wrapped_onto_several_lines_is_read_whole(name: str, title: str) -> None:
    """One title came out as "TRIỂN"; the rest fell into the preamble."""
    plan, _ = _parse(corpus_file(name))
    assert plan.title == title
    assert not (plan.preamble or "").startswith(("KHAI", "GIAI", "CHÍNH PHỦ", "2021"))


def test_a_plan_issued_by_a_decision() -> None:
    """Số: 1100/QĐ-UBND with the plan attached: the decision's signer and recipients before the
    KẾ HOẠCH heading are read, and the plan's own title."""
    plan, _ = _parse(corpus_file("tayninh_2021_qd1100_tvpl.txt"))
    assert (plan.wrapper, plan.number, plan.kind.value) == ("decision", "1100/QĐ-UBND", "plan")
    assert (plan.signature.name, plan.signature.title) == ("Nguyễn Mạnh Hùng", "PHÓ CHỦ TỊCH")
    assert plan.signature.block == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert len(plan.recipients) == 8 and plan.recipients[0] == "Bộ Lao động TBXH"
    assert plan.title.startswith("TRIỂN KHAI THỰC HIỆN")


def test_a_decision_without_the_plans_title_takes_its_subject_with_a_warning() -> None:
    plan, _ = _parse(corpus_file("hoabinh_2013_qd733.txt"))
    assert plan.wrapper == "decision"
    assert plan.title.startswith("HÀNH ĐỘNG THỰC HIỆN CHIẾN LƯỢC PHÁT TRIỂN GIA ĐÌNH")
    assert any(w.startswith("tên kế hoạch:") for w in plan.warnings)


def test_the_year_never_comes_from_a_cited_document() -> None:
    """Without a date line the year fell back to a cited document's (2010 instead of 2016)."""
    text = (
        "ỦY BAN NHÂN DÂN\nTỈNH HẬU GIANG\nSố: 28/KH-UBND\nKẾ HOẠCH\n"
        "THỰC HIỆN CÔNG TÁC BÌNH ĐẲNG GIỚI NĂM 2016\n"
        "Căn cứ Quyết định số 2351/QĐ-TTg ngày 24 tháng 12 năm 2010 của Thủ tướng Chính phủ;\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức.\n"
    )
    plan, _ = _parse(text)
    assert plan.year == 2016
    assert any(w.startswith("năm:") and "theo giai đoạn ghi trong tên" in w for w in plan.warnings)
    untitled, _ = _parse(text.replace(" NĂM 2016", ""))
    assert untitled.year is None
    assert any(w.startswith("năm:") and "để trống năm" in w for w in untitled.warnings)


def test_lines_that_go_on_with_a_capital_are_rejoined() -> None:
    """ "… thực hiện có hiệu quả" / "Luật phòng, chống …" (Sơn La): one bullet, not two; a
    heading wrapped after a comma is not an empty section (Phú Yên)."""
    plan, _ = _parse(corpus_file("sonla_2020_kh90.txt"))
    purpose = plan.purpose[0]
    assert len(purpose.items) == 2
    assert "có hiệu quả Luật phòng, chống bạo lực gia đình" in purpose.items[1]
    phuyen, _ = _parse(corpus_file("phuyen_2022_kh54.txt"))
    assert phuyen.parts == [("I", "MỤC ĐÍCH, YÊU CẦU")]
    assert [s.title for s in phuyen.purpose] == ["Mục đích", "Yêu cầu"]


def _tail(signature: str, name: str = "**Trần Văn Bình**") -> str:
    return (
        "ỦY BAN NHÂN DÂN\nTỈNH ĐẮK LẮK\nSố: 5/KH-UBND\nĐắk Lắk, ngày 05 tháng 3 năm 2020\n"
        "KẾ HOẠCH\nThực hiện công tác bình đẳng giới năm 2020\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức.\n"
        f"Nơi nhận:\n- Như trên;\n- Lưu: VT.\n{signature}\n{name}\n"
    )


def test_signature_misspellings_are_put_right_with_a_warning() -> None:
    plan, _ = _parse(_tail("TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỮ TỊCH"))
    assert plan.signature.title == "PHÓ CHỦ TỊCH"
    assert plan.signature.name == "Trần Văn Bình"  # the name in bold is read
    assert "chữ ký: 'PHÓ CHỮ TỊCH' được đọc là 'PHÓ CHỦ TỊCH'" in plan.warnings
    board, _ = _parse(_tail("TM. BAN CHỈ ĐẠO\nTHỦNG BAN"))
    assert board.signature.title == "TRƯỞNG BAN"
    assert any("'THỦNG BAN' được đọc là 'TRƯỞNG BAN'" in w for w in board.warnings)


def test_a_signer_glued_to_the_title() -> None:
    plan, _ = _parse(corpus_file("travinh_2013_qd1168.txt"))
    assert (plan.signature.name, plan.signature.title) == ("Sơn Thị Ánh Hồng", "PHÓ CHỦ TỊCH")


def test_a_board_as_issuer_is_named_and_left_unresolved_with_the_reason(hanoi: Session) -> None:
    text = (
        "UBND THÀNH PHỐ HÀ NỘI\nBAN VÌ SỰ TIẾN BỘ CỦA PHỤ NỮ\nSố: 12/KH-BVSTBPN\n"
        "Hà Nội, ngày 10 tháng 3 năm 2024\nKẾ HOẠCH\nHoạt động vì sự tiến bộ của phụ nữ năm 2024\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức.\n"
    )
    imported = import_plan(session=hanoi, text_or_path=text)
    data = imported.to_dict()
    assert data["issuer"] == "Ban Vì sự tiến bộ của phụ nữ thành phố Hà Nội"
    assert data["issuer_code"] is None
    (entry,) = [u for u in data["unresolved"] if u["where"] == "issuer"]
    assert "ban không phải là đơn vị" in entry["reason"]
