"""Every field of the import JSON says where it came from: the line of the file as it came
(1-based) and whether it was read or guessed — the header and tail fields (``fields``), and each
part, section, assignment, deadline, recipient and signature line."""

from __future__ import annotations

import re

from sqlmodel import Session

from planflow.documents.reading.importer import import_plan
from planflow.vntext import fold
from tests.documents.conftest import HADONG_2024


def _words(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(text))


def test_every_item_of_the_ha_dong_plan_names_its_line(hanoi: Session) -> None:
    data = import_plan(session=hanoi, text_or_path=HADONG_2024).to_dict()
    lines = HADONG_2024.read_text(encoding="utf-8").split("\n")

    def at(n: int | None) -> str:
        assert n is not None
        return _words(lines[n - 1])

    for part in data["parts"]:
        assert part["how"] == "read"
        assert at(part["line"]).startswith(_words(f"{part['number']}. {part['title']}"))
    for section in data["purpose"] + data["sections"]:
        if section["number"]:
            assert at(section["line"]).startswith(_words(f"{section['number']}."))
    assert data["assignments"]
    for row in data["assignments"]:
        assert at(row["line"]).startswith(_words(row["block"]))
        assert row["how"] == "read"
    assert [row["line"] for row in data["assignments"]] == sorted(
        row["line"] for row in data["assignments"]
    )
    assert data["deadlines"]
    for row in data["deadlines"]:
        day, month = row["due_on"][8:], row["due_on"][5:7]
        assert f"{int(day)}/{int(month)}" in lines[row["line"] - 1]
        assert row["how"] == "read"  # the year is written beside each date
    fields = data["fields"]
    assert len(fields["recipient_lines"]) == len(data["recipients"])
    for recipient, where in zip(data["recipients"], fields["recipient_lines"], strict=True):
        assert _words(recipient) in at(where["line"])
    for line, where in zip(data["signer"]["block"], fields["signer_block"], strict=True):
        assert _words(line) in at(where["line"])
    assert "39KHUBND" in at(fields["parent_plan"]["line"]).upper()
    assert at(fields["preamble"]["line"]).startswith(_words("Thực hiện Kế hoạch số 39"))
    assert at(fields["closing"]["line"]).startswith(_words("Trên đây là"))


def test_a_deadline_without_its_year_is_guessed(hanoi: Session) -> None:
    """ "trước ngày 15/6": the year is the plan's, not the text's, so the row says guessed."""
    text = (
        "ỦY BAN NHÂN DÂN\nQUẬN HÀ ĐÔNG\nSố: 9/KH-UBND\nHà Đông, ngày 02 tháng 01 năm 2024\n"
        "KẾ HOẠCH\nCÔNG TÁC GIA ĐÌNH NĂM 2024\nI. MỤC ĐÍCH\n- Gia đình no ấm.\n"
        "II. TỔ CHỨC THỰC HIỆN\n1. Phòng Văn hóa và Thông tin quận\n"
        "- Chủ trì, báo cáo kết quả 6 tháng trước ngày 15/6 và báo cáo năm trước ngày "
        "20/11/2024.\n"
    )
    data = import_plan(session=hanoi, text_or_path=text).to_dict()
    rows = {row["due_on"]: row for row in data["deadlines"]}
    assert rows["2024-06-15"]["how"] == "guessed"
    assert rows["2024-11-20"]["how"] == "read"
    assert rows["2024-06-15"]["line"] == rows["2024-11-20"]["line"] == 11
    assert data["assignments"][0]["line"] == 10
    assert data["fields"]["closing"] == {"line": None, "how": "missing"}
