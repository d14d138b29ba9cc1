"""The end of a plan: the distribution list (Nơi nhận) and the signature block."""

from __future__ import annotations

import re
from dataclasses import dataclass

from planflow.documents.reading.layout import RECIPIENTS, SIGNATURE
from planflow.documents.vntext import fold, is_upper_line, squash

_NAME_WORD = re.compile(r"^[^\W\d_]+$")
_SKIP_TAIL = re.compile(r"^\(?\s*(?:đã ký|ký|ký tên|ký, ghi rõ|ký và đóng dấu)", re.IGNORECASE)


@dataclass
class Signature:
    """The signature block ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", …) and the signer."""

    name: str | None
    title: str | None
    block: list[str]


def find_tail(lines: list[str], *, after: int) -> int:
    """Where the body ends: the "Nơi nhận" line or the first signature line after ``after``."""
    for i in range(after + 1, len(lines)):
        line = lines[i]
        if RECIPIENTS.match(line) or SIGNATURE.match(line) or _is_signature_title(line):
            return i
    return len(lines)


def _is_signature_title(line: str) -> bool:
    if not is_upper_line(line) or len(line) > 60:
        return False
    folded = fold(line)
    return any(
        word in folded
        for word in ("chu tich", "giam doc", "truong ban", "truong phong", "uy ban nhan dan")
    )


def read_tail(lines: list[str]) -> tuple[list[str], Signature]:
    """The distribution list (a line without a dash continues the item above it, until the
    "Lưu" item) and the signature; page numbers were removed earlier, "(Đã ký)" is skipped."""
    recipients: list[str] = []
    block: list[str] = []
    name: str | None = None
    mode = ""
    for line in lines:
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
        if block and name is None and _looks_like_name(line):
            name = line
            mode = ""
    recipients = [squash(r).rstrip(" ;,.") for r in recipients if r.strip(" ;,.")]
    title = block[-1] if block else None
    return recipients, Signature(name=name, title=title, block=block)


def _looks_like_name(line: str) -> bool:
    words = line.split()
    return 2 <= len(words) <= 6 and all(
        _NAME_WORD.match(w) and w[0].isupper() and not w.isupper() for w in words
    )
