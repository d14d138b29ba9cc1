"""The end of a plan: the distribution list (Nơi nhận) and the signature block."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planflow.documents.reading.layout import RECIPIENTS, SIGNATURE
from planflow.vntext import canonical, fold, is_upper_line, squash

_NAME_WORD = re.compile(r"^[^\W\d_]+$")
_SKIP_TAIL = re.compile(r"^\(?\s*(?:đã ký|ký|ký tên|ký, ghi rõ|ký và đóng dấu)", re.IGNORECASE)


@dataclass
class Signature:
    """The signature block ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", …) and the signer."""

    name: str | None
    title: str | None
    block: list[str]
    corrections: list[str] = field(default_factory=list)  # misspellings put right, as warnings


def find_tail(lines: list[str], *, after: int) -> int:
    """Where the body ends: the "Nơi nhận" line or the first signature line after ``after``."""
    for i in range(after + 1, len(lines)):
        line = lines[i]
        if RECIPIENTS.match(line) or SIGNATURE.match(line) or _is_signature_title(line):
            return i
    return len(lines)


# a decision's authority line ("CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ …", "BỘ TRƯỞNG BỘ TƯ PHÁP"):
# a title followed by the body it heads, never a signature
_AUTHORITY = re.compile(
    r"^(?:CHỦ\s+TỊCH|BỘ\s+TRƯỞNG|GIÁM\s+ĐỐC|TRƯỞNG\s+BAN)\s+(?:ỦY|UỶ|UBND|BỘ|SỞ|BAN)\b"
)


def _is_signature_title(line: str) -> bool:
    if not is_upper_line(line) or len(line) > 60 or _AUTHORITY.match(line):
        return False
    folded = fold(line)
    return any(
        word in folded
        # not "ỦY BAN NHÂN DÂN …": that is a decision's authority line ("TM. ỦY BAN NHÂN DÂN"
        # in a signature block is read by SIGNATURE)
        for word in _TITLE_WORDS
    )


_TITLE_WORDS = (
    "chu tich", "giam doc", "truong ban", "truong phong", "bo truong", "thu truong", "hieu truong",
)  # fmt: skip


# the words of signature blocks, spelled right; a line within two letters of one (without
# diacritics) is read as it, with a warning: "PHÓ CHỮ TỊCH", "THỦNG BAN"
_TITLES = (
    "CHỦ TỊCH",
    "PHÓ CHỦ TỊCH",
    "KT. CHỦ TỊCH",
    "TM. ỦY BAN NHÂN DÂN",
    "TRƯỞNG BAN",
    "PHÓ TRƯỞNG BAN",
    "KT. TRƯỞNG BAN",
    "TM. BAN CHỈ ĐẠO",
    "GIÁM ĐỐC",
    "PHÓ GIÁM ĐỐC",
    "KT. GIÁM ĐỐC",
    "TRƯỞNG PHÒNG",
    "PHÓ TRƯỞNG PHÒNG",
    "BỘ TRƯỞNG",
    "KT. BỘ TRƯỞNG",
    "THỨ TRƯỞNG",
    "HIỆU TRƯỞNG",
    "PHÓ HIỆU TRƯỞNG",
    "KT. HIỆU TRƯỞNG",
)


def _unglue(line: str) -> tuple[str, str] | None:
    """ "PHÓ CHỦ TỊCHSơn Thị Ánh Hồng" or "PHÓ CHỦ TỊCH Sơn Thị Ánh Hồng" (a table's cells
    flattened onto one line) -> ("PHÓ CHỦ TỊCH", "Sơn Thị Ánh Hồng")."""
    for i in range(2, len(line) - 1):
        if line[i].isupper() and line[i + 1].islower() and (
            line[i - 1].isalpha() or line[i - 1] == " "
        ):
            title, name = line[:i].strip(), line[i:].strip()
            glued = line[i - 1].isalpha() or _is_signature_title(title)
            if glued and is_upper_line(title) and _looks_like_name(name):
                return title, name
            return None
    return None


def _spelled(line: str) -> tuple[str, str | None]:
    """A signature line spelled right, and the warning when it was not."""
    if line in _TITLES or not is_upper_line(line) or len(line) > 30:
        return line, None
    key = fold(line).replace(" ", "")
    for right in _TITLES:
        target = fold(right).replace(" ", "")
        if canonical(line) == canonical(right):
            return line, None  # "UỶ" / "ỦY": where the tone mark sits is no misspelling
        if abs(len(key) - len(target)) <= 2 and _distance(key, target) <= 2:
            return right, f"chữ ký: {line!r} được đọc là {right!r}"
    return line, None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance of two short strings."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def read_tail(lines: list[str]) -> tuple[list[str], Signature]:
    """The distribution list (a line without a dash continues the item above it, until the
    "Lưu" item) and the signature; page numbers were removed earlier, "(Đã ký)" is skipped."""
    recipients: list[str] = []
    block: list[str] = []
    name: str | None = None
    corrections: list[str] = []
    mode = ""
    for raw in lines:
        line, fixed = _spelled(raw)
        glued = _unglue(line) if mode == "signature" and not name else None
        if glued:
            block.append(glued[0])
            name = glued[1]
            mode = ""
            continue
        if fixed:
            corrections.append(fixed)
        if RECIPIENTS.match(line):
            mode = "recipients"
            rest = RECIPIENTS.sub("", line, count=1).strip()
            if rest:
                recipients.append(rest.lstrip("- ").strip())
            continue
        if SIGNATURE.match(line) or (_is_signature_title(line) and not name):
            mode = "signature"
            block.append(line)
            continue
        if mode == "signature" and is_upper_line(line) and not name and len(line) < 60:
            block.append(line)
            continue
        if _SKIP_TAIL.match(line):
            continue
        if mode == "recipients":
            if line.startswith("- "):
                recipients.append(line[2:].strip())
                continue
            if recipients and not fold(recipients[-1]).startswith("luu"):
                recipients[-1] = f"{recipients[-1]} {line}"
                continue
            if recipients and len(line.split()) <= 2 and not is_upper_line(line):
                recipients[-1] = f"{recipients[-1]} {line}"  # the drafter's initials after "Lưu"
                continue
        if block and name is None and _looks_like_name(line):
            name = line
            mode = ""
    recipients = [squash(r).rstrip(" ;,.") for r in recipients if r.strip(" ;,.")]
    title = block[-1] if block else None
    return recipients, Signature(name=name, title=title, block=block, corrections=corrections)


def _looks_like_name(line: str) -> bool:
    words = line.split()
    return 2 <= len(words) <= 6 and all(
        _NAME_WORD.match(w) and w[0].isupper() and not w.isupper() for w in words
    )
