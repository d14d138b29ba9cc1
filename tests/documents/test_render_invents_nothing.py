"""Rendering never invents, on the texts every clone has: the Đắk Lắk plan, the three Hà Nội
plans shipped in planflow/samples, and the made-up openings of test_import_failures.py.

The same sentence-by-sentence check as test_render_corpus.py (which runs on the corpus's real
texts when PLANFLOW_CORPUS_DIR holds them): every sentence of the rendered Markdown is either in
the imported source or made of layout words and the plan's own header values. And the other way
round, on the whole plans: every line of the body, from part I to the distribution list (the
assignment blocks, the reporting regime, the closing), is in the render, so nothing is lost or
reworded either.

A footnote's text, which a copied page prints in the page gap, in the middle of a sentence
broken over the gap, is rendered at the end of its part (its mark stays in the sentence): the
source is compared with its footnotes moved to its end, so a sentence the reader rejoined over
the gap is the source's own, and a footnote is the source's own too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import Session

import planflow.samples
from planflow.documents.reading.importer import import_plan, save_plan
from planflow.documents.reading.source import read_source
from planflow.documents.writing.render import render_plan
from planflow.documents.writing.render_model import as_written, lines_of
from planflow.services.hierarchy import load_units
from tests.documents import test_import_failures as made_up
from tests.documents.conftest import DAKLAK_2023
from tests.documents.test_render_corpus import _key, _sentences, render_and_check

SAMPLES = Path(planflow.samples.__file__).parent
SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
FOOTNOTE = re.compile(rf"^\s*[{SUPERSCRIPTS}]+\s*\S")
PROVINCES = ("Hà Nội", "Đắk Lắk", "Bắc Kạn", "Sóc Trăng", "Cao Bằng", "Quảng Trị")
MADE_UP = {
    "Bắc Kạn (a decision carrying the plan)": made_up.DECISION,
    "Sóc Trăng (signer on the title line)": made_up.GLUED_SIGNER,
    "Cao Bằng (heading wrapped after a comma)": made_up.COMMA_HEADING,
    "Quảng Trị (title over three lines)": made_up.THREE_LINE_TITLE,
}


@pytest.fixture
def provinces(session: Session) -> Session:
    for name in PROVINCES:
        load_units(session=session, province=name, tiers=3)
    session.commit()
    return session


def _footnotes_last(lines: list[str]) -> list[str]:
    return [x for x in lines if not FOOTNOTE.match(x)] + [x for x in lines if FOOTNOTE.match(x)]


def _render(session: Session, text_or_path: str | Path) -> tuple[str, list[str]]:
    """The Markdown render of an imported plan, and the sentences in it the source lacks."""
    lines = _footnotes_last(read_source(text_or_path).lines)
    markdown, invented = render_and_check(session, text_or_path, lines)
    assert len(_sentences(markdown)) > 10  # the check read a real render
    return markdown, invented


def _check(session: Session, text_or_path: str | Path) -> list[str]:
    return _render(session, text_or_path)[1]


def _body(path: Path) -> list[str]:
    """The source's lines from part I to the distribution list, footnotes included."""
    lines = read_source(path).lines
    start = next(i for i, line in enumerate(lines) if re.match(r"^I\s*\.", line.strip()))
    end = next(i for i, line in enumerate(lines) if line.strip().startswith("Nơi nhận"))
    return [line for line in lines[start:end] if _key(line)]


@pytest.mark.parametrize(
    "path",
    [DAKLAK_2023, *sorted(SAMPLES.glob("*.txt"))],
    ids=lambda p: p.name,
)
def test_a_whole_plan_renders_without_inventing(provinces: Session, path: Path) -> None:
    assert _check(provinces, path) == []


@pytest.mark.parametrize("name", sorted(MADE_UP))
def test_a_made_up_opening_renders_without_inventing(provinces: Session, name: str) -> None:
    assert _check(provinces, MADE_UP[name]) == []


@pytest.mark.parametrize(
    "path",
    [DAKLAK_2023, *sorted(SAMPLES.glob("*.txt"))],
    ids=lambda p: p.name,
)
def test_a_whole_plan_renders_every_line_of_its_body(provinces: Session, path: Path) -> None:
    """Part IV's blocks in the plan's words and numbering (no database name, no "Đề nghị" the
    text lacks), part V's own sentences, the closing: each line of the body is in the render."""
    markdown, _ = _render(provinces, path)
    rendered = _key(re.sub(r"<[^>]+>", " ", markdown))
    body = _body(path)
    assert len(body) > 20
    assert [line for line in body if _key(line) not in rendered] == []


def test_the_daklak_render_keeps_its_lettered_blocks_and_its_reporting_regime(
    provinces: Session,
) -> None:
    markdown, _ = _render(provinces, DAKLAK_2023)
    order = [
        "**IV. TỔ CHỨC THỰC HIỆN**",
        "**2\\. Các sở, ban, ngành**",
        "a) Sở Y tế: Chủ trì truyền thông về mất cân bằng giới tính khi sinh.",
        "3\\. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, Hội Liên hiệp Phụ nữ tỉnh phối hợp",
        "**V. CHẾ ĐỘ BÁO CÁO**",
        "Các sở, ban, ngành, UBND các huyện, thị xã, thành phố gửi báo cáo về Sở Lao động",
        "1\\. Báo cáo 6 tháng: trước ngày 10 tháng 6 năm 2023.",
        "3\\. Kế hoạch của đơn vị: chậm nhất ngày 31/3.",
        "Trên đây là Kế hoạch thực hiện công tác bình đẳng giới năm 2023 của tỉnh",
    ]
    at = [markdown.find(text) for text in order]
    assert -1 not in at and at == sorted(at), dict(zip(order, at, strict=True))
    assert "Sở Y tế tỉnh Đắk Lắk" not in markdown  # the database's name, not the plan's words
    assert "- a)" not in markdown and "- b)" not in markdown
    # the plan's own bullets: a dash where the text has one, none where it has none
    assert "- Nâng cao nhận thức của cán bộ" in markdown
    assert "\n  + Phát thanh song ngữ" in markdown
    assert "\nKinh phí thực hiện từ nguồn ngân sách" in markdown


def test_lines_as_written_keep_their_own_marks() -> None:
    paras = as_written(
        [
            "1. Sở Lao động - Thương binh và Xã hội",
            "a) Chủ trì, phối hợp các đơn vị triển khai Kế hoạch này.",
            "2. Đề nghị Hội Liên hiệp Phụ nữ tỉnh phối hợp tuyên truyền.",
            "3. Các sở, ban, ngành",
            "- Xây dựng kế hoạch;",
            "+ Tọa đàm tại các buôn.",
            "Kinh phí từ ngân sách nhà nước.",
            "4. Báo cáo năm: trước ngày 05/12/2023.",
        ]
    )
    assert [(p.kind, p.text[:12]) for p in paras] == [
        ("heading", "1. Sở Lao độ"),  # lines under it: a heading
        ("text", "a) Chủ trì, "),  # its own letter, no dash
        ("text", "2. Đề nghị H"),  # followed by the next number: a paragraph
        ("heading", "3. Các sở, b"),
        ("item", "Xây dựng kế "),
        ("subitem", "Tọa đàm tại "),
        ("text", "Kinh phí từ "),  # no dash where the text has none
        ("text", "4. Báo cáo n"),  # the last line: a paragraph
    ]


def test_a_lettered_duty_of_a_cascaded_draft_gets_no_dash() -> None:
    """Assignments store duties as "- " lines; a lettered one keeps only its letter."""
    paras = lines_of("- a) Chủ trì triển khai.\n- Tổng hợp, báo cáo.\n+ Trước ngày 15/01.")
    assert [(p.kind, p.text) for p in paras] == [
        ("text", "a) Chủ trì triển khai."),
        ("item", "Tổng hợp, báo cáo."),
        ("subitem", "Trước ngày 15/01."),
    ]


def test_a_footnote_keeps_its_mark_and_its_text(provinces: Session) -> None:
    """Hà Nội 2020 cites three decisions in footnotes printed in a page gap: each mark stays
    where the sentence has it, each note is printed after the part, in the text's words."""
    markdown, invented = _render(provinces, SAMPLES / "hanoi-2020-37-KH-UBND.txt")
    assert invented == []
    assert "giai đoạn 2011-2020¹; 5 năm thực hiện" in markdown
    assert "giai đoạn 2016-2020² và Đề án" in markdown and "tầm nhìn đến năm 2030³." in markdown
    notes = [
        "*¹ Quyết định số 2351/QĐ-TTg, ngày 24/12/2010 và Quyết định số 800/QĐ-TTg",
        "*² Quyết định số 1696/QĐ-TTg ngày 02/10/2015 của Thủ tướng Chính phủ.*",
        "*³ Quyết định số 1464/QĐ-TTg ngày 22/7/2016 của Thủ tướng Chính phủ.*",
    ]
    at = [markdown.find(n) for n in notes]
    assert -1 not in at and at == sorted(at)
    assert markdown.find("**II. NỘI DUNG THỰC HIỆN**") < at[0] < markdown.find("**III. TỔ CHỨC")
    # the sentence the reader rejoined over the page gap stays one sentence, its mark-less copy
    # in Part II (the same decisions cited in full) keeps no mark
    assert "tham gia giải quyết một số vấn đề xã hội" in markdown
    assert markdown.count("¹") == 2 and markdown.count("²") == 2 and markdown.count("³") == 2


WITHOUT_PARTS = """ỦY BAN NHÂN DÂN
QUẬN HÀ ĐÔNG
Số: 12/KH-UBND
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Hà Đông, ngày 10 tháng 3 năm 2020

KẾ HOẠCH
Thực hiện công tác bình đẳng giới năm 2020

Thực hiện Kế hoạch số 37/KH-UBND ngày 20/02/2020 của UBND Thành phố về công tác bình đẳng
giới năm 2020, UBND quận Hà Đông giao các phòng, ban chủ động triển khai
"""


def test_a_plan_without_parts_under_a_stored_plan_is_not_a_draft(provinces: Session) -> None:
    """A text without parts I., II., … whose parent plan is stored: not the cascade's draft,
    so none of the parent's parts, and no closing, recipients or signature made up."""
    save_plan(
        session=provinces,
        imported=import_plan(session=provinces, text_or_path=SAMPLES / "hanoi-2020-37-KH-UBND.txt"),
    )
    imported = import_plan(session=provinces, text_or_path=WITHOUT_PARTS)
    plan = save_plan(session=provinces, imported=imported)
    assert plan.parent_id is not None and plan.parts == []
    markdown = render_plan(provinces, plan_id=plan.id, fmt="md").decode("utf-8")
    for invented in ("MỤC ĐÍCH", "Trên đây là", "TM. ỦY BAN NHÂN DÂN", "Phó Chủ tịch", "như sau"):
        assert invented not in markdown
    assert "| ***Nơi nhận:***<br>- … | **…**" in markdown
