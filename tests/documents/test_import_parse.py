"""Parsing the seed plans without a database: header, parts, blocks, regime, tail.

Every expected value below was read off the seed texts (planflow/samples, the seed plans of
shared/seeds), not copied from the parser's output.
"""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from planflow.documents.reading.parser import ParsedPlan, parse_plan
from planflow.documents.reading.source import read_source
from planflow.models import PlanKind, ReportKind, Role
from planflow.vntext import name_key
from tests.documents.conftest import DAKLAK_2023, HADONG_2024, HANOI_2020, HANOI_2025


def parse(path) -> ParsedPlan:
    source = read_source(path)
    return parse_plan(source.lines, source=source.name)


def deadlines(plan: ParsedPlan) -> list[tuple]:
    return [(d.report_kind, d.due_on, tuple(d.to_units)) for d in plan.deadlines]


# --- Hà Nội 2020, 37/KH-UBND --------------------------------------------------------------


@pytest.fixture(scope="module")
def hanoi_2020() -> ParsedPlan:
    return parse(HANOI_2020)


def test_hanoi_2020_header(hanoi_2020: ParsedPlan) -> None:
    p = hanoi_2020
    assert (p.number, p.symbol, p.kind) == ("37/KH-UBND", "KH-UBND", PlanKind.plan)
    assert (p.place, p.issued_on, p.year) == ("Hà Nội", date(2020, 2, 20), 2020)
    assert p.issuer == "UBND Thành phố"  # "UBND Thành phố ban hành Kế hoạch …"
    assert p.title == (
        "Triển khai thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ "
        "trên địa bàn Thành phố năm 2020"
    )
    assert p.parent_plan is None
    assert p.preamble.startswith("Năm 2020 là năm cuối thực hiện Chiến lược quốc gia")


def test_hanoi_2020_purpose_and_five_content_sections(hanoi_2020: ParsedPlan) -> None:
    p = hanoi_2020
    assert [s.number for s in p.purpose] == ["1", "2"]
    assert p.purpose[1].title.startswith("Đẩy mạnh công tác tuyên truyền, phổ biến")
    assert [(s.number, s.title, len(s.items)) for s in p.sections] == [
        (
            "1",
            (
                "Tuyên truyền, phổ biến, giáo dục chính sách, pháp luật về bình đẳng giới và vì sự "
                "tiến bộ của phụ nữ"
            ),
            5,
        ),
        ("2", "Nâng cao năng lực thực hiện công tác bình đẳng giới", 4),
        (
            "3",
            (
                "Tiếp tục tổ chức thực hiện hiệu quả các chính sách, Quyết định, Chương trình, "
                "Kế hoạch của Thủ tướng Chính phủ và UBND Thành phố về công tác bình đẳng giới "
                "và vì sự tiến bộ phụ nữ"
            ),
            8,
        ),
        ("4", "Hoạt động của Ban Vì sự tiến bộ của phụ nữ", 5),
        ("5", "Kinh phí thực hiện", 1),
    ]


def test_hanoi_2020_sentences_broken_by_page_gaps_and_footnotes_are_rejoined(
    hanoi_2020: ParsedPlan,
) -> None:
    first, second, third = hanoi_2020.sections[:3]
    assert (
        "Chiến lược quốc gia về bình đảng giới giai đoạn 2011-2020; Chỉ thị số 22-CT/TU"
        in (first.items[0])
    )
    assert "thành viên các Ban soạn thảo, Tổ biên tập xây dựng văn bản" in second.items[2]
    # three footnotes sat between "tham gia giải" and "quyết một số vấn đề"
    assert "hỗ trợ phụ nữ tham gia giải quyết một số vấn đề xã hội" in third.items[5]
    assert not any("¹" in item or "Quyết định số 2351/QĐ-TTg, ngày" in item for item in third.items)
    assert hanoi_2020.sections[4].items[0].endswith("giai đoạn 2016-2020.")


def test_hanoi_2020_twelve_blocks(hanoi_2020: ParsedPlan) -> None:
    blocks = hanoi_2020.blocks
    assert [b.number for b in blocks] == [str(n) for n in range(1, 13)]
    assert [b.label for b in blocks[:9]] == [
        "Sở Lao động Thương binh và Xã hội",
        "Hội Liên hiệp Phụ nữ Thành phố Hà Nội",
        "Sở Kế hoạch và Đầu tư",
        "Sở Tài chính",
        "Sở Nội vụ",
        "Sở Tư pháp",
        "Sở Giáo dục và Đào tạo",
        "Sở Thông tin và Truyền thông",
        "Cục Thống kê",
    ]
    labour = blocks[0]
    assert len(labour.duties) == 4 and labour.role == Role.lead and not labour.request
    assert labour.duties[3].count("\n+ ") == 5  # "- + Tổ chức …" sub-bullets stay with their item
    # "Các Sở, ngành: Y tế, …" names four departments and a group, then its duty inline
    assert [m.text for m in blocks[9].mentions] == [
        "Sở Y tế",
        "Sở Văn hóa và Thể thao",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Công an Thành phố",
        "các cơ quan liên quan",
    ]
    assert [m.group for m in blocks[9].mentions] == [False, False, False, False, True]
    assert blocks[9].duties[0].startswith("Căn cứ Kế hoạch của Thành phố xây dựng")
    front = blocks[10]  # "Đề nghị Ủy ban Mặt trận … phối hợp triển khai …"
    assert front.request and front.role == Role.coordinate
    assert [m.text for m in front.mentions] == [
        "Ủy ban Mặt trận Tổ quốc Việt Nam thành phố Hà Nội",
        "các đoàn thể chính trị Thành phố",
    ]
    districts = blocks[11]
    assert districts.label == "Ủy ban nhân dân các quận, huyện, thị xã"
    assert districts.duties[0].startswith(
        "Xây dựng và tổ chức thực hiện Kế hoạch hoạt động năm 2020"
    )


def test_hanoi_2020_reporting_regime(hanoi_2020: ParsedPlan) -> None:
    labour = ("Sở Lao động Thương binh và Xã hội",)
    assert deadlines(hanoi_2020) == [
        (ReportKind.sub_plan, date(2020, 3, 20), labour),
        (ReportKind.six_month, date(2020, 5, 30), labour),
        (ReportKind.annual, date(2020, 11, 30), labour),
    ]
    assert hanoi_2020.deadlines[0].from_units == [
        "Ủy ban Mặt trận Tổ quốc Việt Nam Thành phố Hà Nội",
        "các đoàn thể Thành phố",
        "các Sở, ban, ngành Thành phố",
        "UBND các quận, huyện, thị xã",
    ]
    assert hanoi_2020.closing.startswith("UBND Thành phố đề nghị Ủy ban Mặt trận Tổ quốc")


def test_hanoi_2020_distribution_list_and_signature(hanoi_2020: ParsedPlan) -> None:
    assert hanoi_2020.recipients == [
        "Ủy ban QGVSTBPN",
        "Bộ Lao động TB&XH",
        "Chủ tịch UBND Thành phố",
        "Thường trực TƯ, HĐND Thành phố",
        "UBMTTQVN thành phố Hà Nội",
        "Các Sở, ban, ngành, đoàn thể Thành phố",
        "UBND các quận, huyện, thị xã",
        "VPUB: CVP, PCVP Đ.H.Giang; phòng KGVX, TH, TKBT",
        "Lưu VT, KGVX (12)",
    ]
    sig = hanoi_2020.signature
    assert (sig.name, sig.title) == ("Ngô Văn Quý", "PHÓ CHỦ TỊCH")
    assert sig.block == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]


# --- Hà Nội 2025 draft ----------------------------------------------------------------------


def test_hanoi_2025_draft_has_no_number_and_no_date_but_a_year() -> None:
    p = parse(HANOI_2025)
    assert (p.number, p.symbol, p.issued_on, p.year, p.place) == (
        None,
        "KH-UBND",
        None,
        2025,
        "Hà Nội",
    )
    assert p.issuer == "UBND Thành phố"  # "Ủy ban nhân dân Thành phố ban hành …"
    assert p.title == (
        "Triển khai thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ năm 2025"
    )
    assert [(s.number, s.title, len(s.items)) for s in p.purpose] == [
        ("1", "Mục đích", 1),
        ("2", "Yêu cầu", 2),
    ]
    assert [(s.title, len(s.items)) for s in p.sections] == [
        (
            (
                "Tuyên truyền, phổ biến, giáo dục chính sách, pháp luật về bình đẳng giới và vì sự "
                "tiến bộ của phụ nữ"
            ),
            5,
        ),
        (
            (
                "Nâng cao năng lực và hoạt động quản lý Nhà nước về công tác bình đẳng giới và các "
                "hoạt động vì sự tiến bộ của phụ nữ"
            ),
            9,
        ),
        (
            (
                "Triển khai, thực hiện Chiến lược quốc gia về bình đẳng giới giai đoạn 2021-2030 "
                "và các chương trình, đề án liên quan khác"
            ),
            3,
        ),
        ("Hoạt động của Ban Vì sự tiến bộ của phụ nữ", 6),
        ("Kinh phí thực hiện", 2),
    ]
    assert len(p.blocks) == 14
    assert p.blocks[0].duties[6].count("\n+ ") == 2
    assert p.blocks[8].label == "Cục Thống kê Hà Nội"
    assert p.blocks[11].label == "Các Sở, ban, ngành khác"
    labour = ("Sở Lao động - Thương binh và Xã hội",)  # "cơ quan Thường trực (Sở …)"
    assert deadlines(p) == [
        (ReportKind.sub_plan, date(2025, 2, 15), labour),
        (ReportKind.six_month, date(2025, 5, 30), labour),  # "trước ngày 30/5": the plan's year
        (ReportKind.annual, date(2025, 11, 30), labour),
    ]
    assert p.recipients[2] == "Các PCT UBND Thành phố: Lê Hồng Sơn; Vũ Thu Hà"
    assert (p.signature.name, p.signature.title) == ("Vũ Thu Hà", "PHÓ CHỦ TỊCH")


# --- Hà Đông 2024, 70/KH-UBND ---------------------------------------------------------------


def test_hadong_2024_district_sub_plan() -> None:
    p = parse(HADONG_2024)
    assert (p.number, p.issued_on, p.year, p.place) == (
        "70/KH-UBND",
        date(2024, 2, 17),
        2024,
        "Hà Đông",
    )
    assert p.issuer == "UBND quận Hà Đông"
    assert p.title == (
        "Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ quận Hà Đông năm 2024"
    )
    parent = p.parent_plan
    assert (parent.number, parent.date, parent.issuer) == (
        "39/KH-UBND",
        date(2024, 1, 29),
        "UBND thành phố Hà Nội",
    )
    assert len(p.purpose) == 3
    assert [(s.number, len(s.items)) for s in p.sections] == [
        ("1", 5),
        ("2", 4),
        ("3", 2),
        ("4", 5),
    ]
    assert p.sections[3].title == "Tăng cường các hoạt động của Ban vì sự tiến bộ của phụ nữ"
    assert (
        "vận động sự tham gia tích cực của các cấp, các ngành, đoàn thể, các tổ chức"
        in (p.sections[0].items[2])
    )
    assert [b.label for b in p.blocks] == [
        "Phòng Lao động - Thương binh và Xã hội quận",
        "Hội Liên hiệp phụ nữ quận",
        "Phòng Tài chính - Kế hoạch quận",
        "Phòng Nội vụ quận",
        "Phòng Tư pháp quận",
        "Phòng Văn hoá và Thông tin, Trung tâm Văn hoá-Thông tin và TT",
        "Phòng Giáo dục và đào tạo",
        "Phòng Y tế",
        "Ủy ban Mặt trận Tổ quốc, các đoàn thể quận",
        "Ủy ban nhân dân các phường",
    ]
    assert [b.request for b in p.blocks] == [False, True] + [False] * 6 + [True, False]
    assert (
        "Định kỳ báo cáo kết quả hoạt động về Phòng Lao động - Thương binh và Xã hội quận"
        in (p.blocks[1].duties[3])
    )
    division = ("Phòng Lao động - Thương binh và Xã hội quận",)
    upward = ("UBND quận", "Sở Lao động - Thương binh và Xã hội")
    assert sorted(deadlines(p), key=lambda d: d[1]) == [
        (ReportKind.six_month, date(2024, 5, 20), division),
        (ReportKind.six_month, date(2024, 5, 25), upward),
        (ReportKind.annual, date(2024, 11, 20), division),
        (ReportKind.annual, date(2024, 11, 25), upward),
    ]
    owners = {d.due_on: d.from_units for d in p.deadlines}
    assert owners[date(2024, 5, 25)] == list(division)  # said inside the division's own block
    assert owners[date(2024, 5, 20)] == [
        "Ủy ban Mặt trận Tổ quốc",
        "các đoàn thể quận",
        "các phòng, ban, ngành",
        "UBND phường",
    ]
    assert p.recipients[0] == "Sở LĐ-TB&XH (để b/cáo)"
    assert p.recipients[-1] == "Lưu: VT"
    assert (p.signature.name, p.signature.title) == ("Trần Thị Lương An", "PHÓ CHỦ TỊCH")


# --- another province, another year, another layout -----------------------------------------


def test_a_daklak_plan_with_its_own_layout_parses_the_same_way() -> None:
    p = parse(DAKLAK_2023)
    assert (p.number, p.issued_on, p.place, p.year) == (
        "123/KH-UBND",
        date(2023, 3, 5),
        "Đắk Lắk",
        2023,
    )
    assert p.issuer == "UBND tỉnh Đắk Lắk"  # from the header, in two lines of capitals
    assert p.title == (
        "Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ trên địa bàn tỉnh năm 2023"
    )
    assert (p.parent_plan.number, p.parent_plan.issuer) == (
        "15/KH-BLĐTBXH",
        "Bộ Lao động - Thương binh và Xã hội",
    )
    # two content parts (II. NHIỆM VỤ VÀ GIẢI PHÁP, III. KINH PHÍ) numbered by part
    assert [(s.number, s.title) for s in p.sections] == [
        ("II.1", "Công tác truyền thông"),
        ("II.2", "Nâng cao năng lực"),
        ("II.3", "Kiểm tra, giám sát"),
        ("III", "KINH PHÍ THỰC HIỆN"),
    ]
    assert "đồng bào dân tộc thiểu số và các buôn" in p.sections[0].items[0]
    # "2. Các sở, ban, ngành" splits into lettered blocks a), b), c)
    assert [(b.number, b.label, b.role) for b in p.blocks] == [
        ("1", "Sở Lao động - Thương binh và Xã hội", Role.lead),
        ("2a", "Sở Y tế", Role.lead),
        ("2b", "Sở Giáo dục và Đào tạo", Role.lead),
        ("2c", "Công an tỉnh", Role.coordinate),
        ("2d", "Sở Văn hóa, Thể thao và Du lịch", Role.lead),  # a comma inside a name
        ("3", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, Hội Liên hiệp Phụ nữ tỉnh", Role.coordinate),
        ("4", "UBND các huyện, thị xã, thành phố", Role.lead),
    ]
    labour = ("Sở Lao động - Thương binh và Xã hội",)
    assert deadlines(p) == [
        # "báo cáo năm trước ngày 15/01" without a year: January of the next year
        (
            ReportKind.annual,
            date(2024, 1, 15),
            ("UBND tỉnh", "Bộ Lao động - Thương binh và Xã hội"),
        ),
        (ReportKind.six_month, date(2023, 6, 10), labour),  # "trước ngày 10 tháng 6 năm 2023"
        (ReportKind.annual, date(2023, 12, 5), labour),
        (ReportKind.sub_plan, date(2023, 3, 31), labour),  # "chậm nhất ngày 31/3"
    ]
    assert p.deadlines[1].from_units == ["Các sở, ban, ngành", "UBND các huyện, thị xã, thành phố"]
    assert (p.signature.name, p.signature.title) == ("Nguyễn Thị Mẫu", "CHỦ TỊCH")
    assert p.recipients[-1] == "Lưu: VT, KGVX"


# --- spelling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Phòng Văn hoá và Thông tin", "Phòng Văn hóa và Thông tin"),  # tone on a or on o
        ("Uỷ ban nhân dân", "Ủy ban nhân dân"),
        ("Sở Lao động - Thương binh và Xã hội", "Sở Lao động Thương binh và Xã hội"),
        ("Sở LĐ-TB&XH", "Sở LĐTBXH"),
        ("Hội Liên hiệp phụ nữ", "Hội Liên hiệp Phụ nữ"),
        ("Ho\u0300a Bi\u0300nh", "Hòa Bình"),  # decomposed Unicode
    ],
)
def test_spellings_of_one_name_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_names_keep_different_keys() -> None:
    assert name_key("Sở Y tế") != name_key("Sở Tư pháp")
    assert name_key("Phường Phú La") != name_key("Phường Phúc La")


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: unicodedata.normalize("NFD", t),
        lambda t: t.replace("\n", "\r\n"),
        lambda t: "\n".join(line for line in t.split("\n") if line.strip()),
        lambda t: "\ufeff" + t,
    ],
    ids=["decomposed", "crlf", "no-blank-lines", "bom"],
)
@pytest.mark.parametrize("seed", [HANOI_2020, HANOI_2025, HADONG_2024], ids=lambda p: p.stem)
def test_encoding_and_spacing_do_not_change_the_result(seed, variant) -> None:
    text = seed.read_text(encoding="utf-8")
    assert parse_plan(read_source(variant(text)).lines) == parse_plan(read_source(text).lines)


def test_a_programme_of_a_steering_committee() -> None:
    text = """BAN CHỈ ĐẠO CÔNG TÁC GIA ĐÌNH
Số: 1016/CTr-BCĐ
Hải Phòng, ngày 3 tháng 4 năm 2022
CHƯƠNG TRÌNH
Công tác gia đình năm 2022
I. MỤC TIÊU
Nâng cao chất lượng công tác gia đình.
II. NHIỆM VỤ
1. Truyền thông
- Tổ chức các hoạt động nhân Ngày Gia đình Việt Nam 28/6.
"""
    p = parse_plan(read_source(text).lines)
    assert (p.number, p.symbol, p.kind) == ("1016/CTr-BCĐ", "CTr-BCĐ", PlanKind.programme)
    assert (p.place, p.issued_on, p.title) == (
        "Hải Phòng",
        date(2022, 4, 3),
        "Công tác gia đình năm 2022",
    )
    assert [s.title for s in p.sections] == ["Truyền thông"]
    assert p.blocks == [] and p.warnings == ["không có phần TỔ CHỨC THỰC HIỆN: không có phân công"]
