"""Each reading failure issue #11 lists, on short openings written for these tests.

The corpus tests (test_corpus.py, test_import_shapes.py) check the same failures on the real
texts when PLANFLOW_CORPUS_DIR holds them; these run everywhere, CI included. Every text below
is made up in the shape the real ones have (names, numbers and dates are not any real plan's),
so a reader tuned on the corpus must still read them.
"""

from __future__ import annotations

from planflow.documents.reading.parser import ParsedPlan, parse_plan
from planflow.documents.reading.source import read_source

BODY = (
    "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức về bình đẳng giới.\n"
    "2. Yêu cầu\n- Bảo đảm sự phối hợp giữa các cơ quan.\n"
)


def _parse(text: str) -> ParsedPlan:
    source = read_source(text)
    return parse_plan(source.lines, source=source.name)


def test_a_header_flattened_into_table_rows() -> None:
    plan = _parse(
        "ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |\n"
        "TỈNH BÌNH PHƯỚC | Độc lập - Tự do - Hạnh phúc |\n"
        "Số: 47/KH-UBND | Bình Phước, ngày 09 tháng 5 năm 2019 |\n"
        "KẾ HOẠCH\nThực hiện công tác bình đẳng giới năm 2019\n" + BODY
    )
    assert plan.issuer == "UBND tỉnh Bình Phước"
    assert (plan.number, plan.place, str(plan.issued_on)) == (
        "47/KH-UBND",
        "Bình Phước",
        "2019-05-09",
    )


def test_a_place_and_the_issuer_wrapped_inside_their_names() -> None:
    plan = _parse(
        "ỦY\nBAN NHÂN DÂN\nTỈNH KON TUM\n-------\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "Độc lập - Tự do - Hạnh phúc\n---------------\nSố: 312/KH-UBND\nKon\n"
        "Tum, ngày 14 tháng 02 năm 2023\nKẾ HOẠCH\nCông tác gia đình năm 2023\n" + BODY
    )
    assert (plan.place, plan.issuer, plan.year) == ("Kon Tum", "UBND tỉnh Kon Tum", 2023)


THREE_LINE_TITLE = (
    "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG TRỊ\nSố: 88/KH-UBND\nQuảng Trị, ngày 02 tháng 6 năm 2021\n"
    "KẾ HOẠCH\nTRIỂN\nKHAI CÔNG TÁC PHÒNG, CHỐNG BẠO LỰC GIA ĐÌNH TRÊN ĐỊA BÀN TỈNH\n"
    "QUẢNG TRỊ GIAI ĐOẠN 2021 - 2025\n"
    "Căn cứ Luật Phòng, chống bạo lực gia đình năm 2007;\n" + BODY
)


def test_an_all_caps_title_wrapped_over_three_lines_is_read_whole() -> None:
    plan = _parse(THREE_LINE_TITLE)
    assert plan.title == (
        "TRIỂN KHAI CÔNG TÁC PHÒNG, CHỐNG BẠO LỰC GIA ĐÌNH TRÊN ĐỊA BÀN TỈNH QUẢNG TRỊ "
        "GIAI ĐOẠN 2021 - 2025"
    )
    assert (plan.preamble or "").startswith("Căn cứ")


DECISION = (
    "ỦY BAN NHÂN DÂN\nTỈNH BẮC KẠN\n-------\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
    "Độc lập - Tự do - Hạnh phúc\n---------------\nSố: 905/QĐ-UBND\n"
    "Bắc Kạn, ngày 18 tháng 6 năm 2022\nQUYẾT ĐỊNH\n"
    "BAN HÀNH KẾ HOẠCH THỰC HIỆN CÔNG TÁC BÌNH ĐẲNG GIỚI NĂM 2022\n"
    "ỦY BAN NHÂN DÂN TỈNH BẮC KẠN\n"
    "Căn cứ Luật Bình đẳng giới ngày 29 tháng 11 năm 2006;\n"
    "Theo đề nghị của Giám đốc Sở Lao động - Thương binh và Xã hội.\nQUYẾT ĐỊNH:\n"
    "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch thực hiện công tác bình đẳng giới "
    "năm 2022.\nĐiều 2. Quyết định này có hiệu lực kể từ ngày ký.\n"
    "Nơi nhận:\n- Như Điều 2;\n- CT, các PCT UBND tỉnh;\n- Lưu: VT.\n"
    "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nHoàng Thị Lan\n"
    "KẾ HOẠCH\nTHỰC HIỆN CÔNG TÁC BÌNH ĐẲNG GIỚI NĂM 2022\n"
    "(Kèm theo Quyết định số 905/QĐ-UBND ngày 18/6/2022 của UBND tỉnh Bắc Kạn)\n" + BODY
)


def test_a_plan_carried_by_a_decision_reads_the_decisions_tail() -> None:
    plan = _parse(DECISION)
    assert (plan.wrapper, plan.number, plan.kind.value) == ("decision", "905/QĐ-UBND", "plan")
    assert (plan.signature.name, plan.signature.title) == ("Hoàng Thị Lan", "PHÓ CHỦ TỊCH")
    assert plan.recipients == ["Như Điều 2", "CT, các PCT UBND tỉnh", "Lưu: VT"]
    assert plan.title == "THỰC HIỆN CÔNG TÁC BÌNH ĐẲNG GIỚI NĂM 2022"
    assert plan.issuer == "UBND tỉnh Bắc Kạn"


def test_a_decision_without_the_plans_own_title_takes_its_subject_with_a_warning() -> None:
    plan = _parse(
        "ỦY BAN NHÂN DÂN\nTỈNH YÊN BÁI\nSố: 410/QĐ-UBND\nYên Bái, ngày 21 tháng 3 năm 2014\n"
        "QUYẾT ĐỊNH\nVỀ VIỆC BAN HÀNH KẾ HOẠCH HÀNH ĐỘNG VÌ SỰ TIẾN BỘ CỦA PHỤ NỮ\n"
        "TỈNH YÊN BÁI NĂM 2014\nCHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH YÊN BÁI\n"
        "Căn cứ Luật Bình đẳng giới ngày 29 tháng 11 năm 2006;\nQUYẾT ĐỊNH:\n"
        "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch hành động vì sự tiến bộ của phụ nữ.\n"
        "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.\n"
    )
    assert plan.wrapper == "decision"
    assert plan.title.startswith("HÀNH ĐỘNG VÌ SỰ TIẾN BỘ CỦA PHỤ NỮ")
    assert any(w.startswith("tên kế hoạch:") for w in plan.warnings)


COMMA_HEADING = (
    "ỦY BAN NHÂN DÂN\nTỈNH CAO BẰNG\nSố: 61/KH-UBND\nCao Bằng, ngày 08 tháng 4 năm 2020\n"
    "KẾ HOẠCH\nPhòng, chống bạo lực gia đình năm 2020\n"
    "I. MỤC ĐÍCH,\nYÊU CẦU\n1. Mục đích\n- Nâng cao nhận thức.\n"
    "2. Yêu cầu\n- Bảo đảm sự phối hợp giữa các cơ quan.\n"
)


def test_a_heading_wrapped_after_a_comma_is_one_heading() -> None:
    plan = _parse(COMMA_HEADING)
    assert plan.parts == [("I", "MỤC ĐÍCH, YÊU CẦU")]
    assert [s.title for s in plan.purpose] == ["Mục đích", "Yêu cầu"]


def test_a_web_copys_lines_that_go_on_with_a_capital_are_rejoined() -> None:
    plan = _parse(
        "Văn bản pháp luật\nỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |\n"
        "TỈNH CAO BẰNG | Độc lập - Tự do - Hạnh phúc |\n"
        "Số: 61/KH-UBND | Cao Bằng, ngày 08 tháng 4 năm 2020 |\n"
        "KẾ HOẠCH\nPhòng, chống bạo lực gia đình năm 2020\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n"
        "- Nâng cao nhận thức của cán bộ, nhân dân về phòng, chống bạo lực gia\n"
        "đình trên địa bàn tỉnh.\n"
        "- Tiếp tục triển khai thực hiện có hiệu quả\n"
        "Luật Phòng, chống bạo lực gia đình và các văn bản hướng dẫn.\n"
        "2. Yêu cầu\n- Bảo đảm sự phối hợp giữa các cơ quan.\n"
    )
    assert len(plan.purpose[0].items) == 2
    assert "có hiệu quả Luật Phòng, chống bạo lực gia đình" in plan.purpose[0].items[1]


GLUED_SIGNER = (
    "ỦY BAN NHÂN DÂN\nTỈNH SÓC TRĂNG\nSố: 73/KH-UBND\nSóc Trăng, ngày 11 tháng 7 năm 2018\n"
    "KẾ HOẠCH\nThực hiện công tác bình đẳng giới năm 2018\n" + BODY
    + "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH Lâm Văn Tùng\n"
)


def test_a_signer_glued_to_the_title_line() -> None:
    plan = _parse(GLUED_SIGNER)
    assert (plan.signature.name, plan.signature.title) == ("Lâm Văn Tùng", "PHÓ CHỦ TỊCH")
