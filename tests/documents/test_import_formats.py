"""The same plan as .docx gives the same structure; garbage is refused with one clear error."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from planflow.config.db import session_scope
from planflow.documents.reading.importer import import_plan, save_plan
from planflow.models import Plan
from planflow.states.errors import ValidationFailed
from tests.documents.conftest import HADONG_2024, HANOI_2020, HANOI_2025, docx_from_text


@pytest.mark.parametrize("seed", [HANOI_2020, HANOI_2025, HADONG_2024], ids=lambda p: p.stem)
def test_a_docx_of_a_seed_imports_like_its_text(hanoi: Session, tmp_path: Path, seed: Path) -> None:
    path = docx_from_text(seed.read_text(encoding="utf-8"), tmp_path / f"{seed.stem}.docx")
    from_docx = import_plan(session=hanoi, text_or_path=path).to_dict()
    from_text = import_plan(session=hanoi, text_or_path=seed).to_dict()
    assert from_docx.pop("source") == f"{seed.stem}.docx"
    from_text.pop("source")
    assert from_docx.pop("shape") == "docx"
    # line numbers count the .docx's paragraphs and cell lines, not the text file's lines
    assert from_docx.pop("fields").keys() == from_text.pop("fields").keys()
    assert from_text.pop("shape") in ("plain", "markdown")
    assert _without_lines(from_docx) == _without_lines(from_text)


def _without_lines(data: dict) -> dict:
    """The structure without the items' line numbers (each is checked to be there)."""
    out = dict(data)
    for key in ("parts", "purpose", "sections", "assignments", "deadlines"):
        assert all("line" in row and "how" in row for row in data[key])
        out[key] = [{k: v for k, v in row.items() if k != "line"} for row in data[key]]
    return out


def test_a_docx_plan_is_saved_like_a_text_plan(hanoi: Session, tmp_path: Path) -> None:
    path = docx_from_text(HANOI_2020.read_text(encoding="utf-8"), tmp_path / "37.docx")
    with session_scope(hanoi.get_bind()) as session:
        plan = save_plan(session=session, imported=import_plan(session=session, text_or_path=path))
        assert plan.number == "37/KH-UBND"


NOT_A_PLAN = (
    "Sáng nay, Hội Liên hiệp Phụ nữ quận tổ chức gặp mặt nhân ngày Quốc tế phụ nữ 8/3.\n"
    "Tham dự có đại diện lãnh đạo các phòng, ban, ngành của quận.\n"
)


def _broken_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")


GARBAGE = {
    "empty.txt": (lambda p: p.write_bytes(b""), "tệp rỗng"),
    "blank.txt": (lambda p: p.write_text(" \n\n\t \n"), "tệp rỗng"),
    "scan.pdf": (lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "tệp PDF"),
    "renamed.txt": (lambda p: p.write_bytes(b"%PDF-1.4\n" + bytes(200)), "tệp PDF"),
    "image.txt": (lambda p: p.write_bytes(bytes(range(256)) * 8), "tệp nhị phân"),
    "latin1.txt": (
        lambda p: p.write_bytes("KÊ HOÀCH, Hà Nôi".encode("latin-1")), "không phải văn bản UTF-8"
    ),
    "truncated-utf16.txt": (lambda p: p.write_bytes(b"\xff\xfeabc"), "văn bản UTF-16 hỏng"),
    "old.doc": (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)), ".doc"),
    "broken.docx": (_broken_zip, "tệp .docx không đọc được"),
    "news.txt": (lambda p: p.write_text(NOT_A_PLAN, encoding="utf-8"), "không phải kế hoạch"),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_is_refused_and_nothing_is_stored(
    hanoi: Session, tmp_path: Path, name: str
) -> None:
    write, expected = GARBAGE[name]
    path = tmp_path / name
    write(path)
    with pytest.raises(ValidationFailed) as caught, session_scope(hanoi.get_bind()) as session:
        save_plan(session=session, imported=import_plan(session=session, text_or_path=path))
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and expected in message and "\n" not in message
    assert hanoi.exec(select(func.count()).select_from(Plan)).one() == 0


def test_a_docx_that_is_not_a_plan_is_refused(hanoi: Session, tmp_path: Path) -> None:
    from docx import Document

    document = Document()
    for line in NOT_A_PLAN.splitlines():
        document.add_paragraph(line)
    document.save(tmp_path / "news.docx")
    with pytest.raises(ValidationFailed, match=r"^news.docx: không phải kế hoạch"):
        import_plan(session=hanoi, text_or_path=tmp_path / "news.docx")


def test_a_missing_file_is_named(hanoi: Session, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="không có tệp này"):
        import_plan(session=hanoi, text_or_path=tmp_path / "nowhere.txt")


def test_text_can_be_given_directly(hanoi: Session) -> None:
    text = HANOI_2020.read_text(encoding="utf-8")
    imported = import_plan(session=hanoi, text_or_path=text)
    assert imported.to_dict()["source"] == "<text>" and imported.to_dict()["number"] == "37/KH-UBND"
    with pytest.raises(ValidationFailed, match=r"^<text>: không phải kế hoạch"):
        import_plan(session=hanoi, text_or_path=NOT_A_PLAN)
