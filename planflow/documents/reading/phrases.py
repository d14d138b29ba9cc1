"""Unit phrases in plan prose: where a list of units starts and ends, and how it splits.

Plans name units in running text: "Các Sở, ngành: Y tế, Văn hóa và Thể thao … và các cơ quan
liên quan căn cứ …", "Đề nghị Ủy ban Mặt trận Tổ quốc, các đoàn thể quận", "UBND quận, Sở Lao
động - Thương binh và Xã hội". Commas separate units but also sit inside group names ("UBND các
quận, huyện, thị xã"), and "và" joins units but also sits inside names ("Văn hóa và Thể thao").
The rules below are about the wording, not about any one document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planflow.vntext import canonical, fold, squash

# words a unit's name starts with (compared in lower case with canonical tone marks)
UNIT_WORDS = (
    "sở",
    "phòng",
    "ubnd",
    "ủy ban",
    "văn phòng",
    "ban",
    "cục",
    "chi cục",
    "hội",
    "bộ",
    "công an",
    "trung tâm",
    "liên đoàn",
    "thành đoàn",
    "quận đoàn",
    "huyện đoàn",
    "đoàn thanh niên",
    "thanh tra",
    "viện",
    "tòa án",
    "kho bạc",
    "bảo hiểm xã hội",
    "đài phát thanh",
    "mặt trận",
    "mttq",
    "hđnd",
    "cơ quan",
    "thường trực",
    "bộ chỉ huy",
    "các",
)
# phrases that start like a unit but are verbs or events: "Ban hành", "Hội nghị"
_NOT_UNITS = ("ban hành", "hội nghị", "hội thảo", "hội thi", "hội diễn", "viện dẫn")
_UNIT_KEYS = tuple(canonical(w) for w in UNIT_WORDS)
_NOT_UNIT_KEYS = tuple(canonical(w) for w in _NOT_UNITS)

# lower-case words that continue a group name after a comma: "các Sở, ban, ngành, đoàn thể"
_CONTINUATIONS = (
    "ban",
    "nganh",
    "huyen",
    "thi xa",
    "thanh pho",
    "xa",
    "thi tran",
    "phuong",
    "quan",
    "doan the",
    "don vi",
    "co quan",
    "to chuc",
    "hoi",
    "dia phuong",
    "dac khu",
)

# lower-case verbs that end a list of units and start what they must do
DUTY_VERBS = (
    "căn cứ",
    "phối hợp",
    "chủ trì",
    "chủ động",
    "xây dựng",
    "tổ chức",
    "triển khai",
    "thực hiện",
    "tham mưu",
    "chịu trách nhiệm",
    "có trách nhiệm",
    "tiếp tục",
    "tăng cường",
    "hướng dẫn",
    "nghiêm túc",
    "ban hành",
    "gửi",
    "báo cáo",
    "định kỳ",
    "khẩn trương",
    "tổng hợp",
    "bố trí",
    "theo dõi",
    "rà soát",
    "đẩy mạnh",
    "quan tâm",
    "lồng ghép",
    "nộp",
)
_VERB_RE = re.compile(r"\s(?:" + "|".join(re.escape(v) for v in DUTY_VERBS) + r")(?=\s|$|[,:;])")
_LIST_INTRO = re.compile(
    r"^(?:các|Các)\s+(sở|Sở|phòng|Phòng|cơ quan|đơn vị|ngành)(?:\s*,\s*(?:ban|ngành|sở|Sở|phòng))*$"
)
_REQUEST = re.compile(r"^(?:Đề nghị|đề nghị|ĐỀ NGHỊ)\s+")


@dataclass(frozen=True)
class Mention:
    """One unit or group of units as a plan names it."""

    text: str  # what to resolve: "Sở Y tế" even where the plan wrote "Các Sở, ngành: Y tế"
    group: bool  # "các …": several units, or a collective with no single unit


def starts_with_unit_word(text: str) -> bool:
    """True when ``text`` begins like a unit's name (Sở, Phòng, UBND, Hội, …) or "các …"."""
    low = canonical(squash(text)).lower()
    if any(low == w or low.startswith(w + " ") for w in _NOT_UNIT_KEYS):
        return False
    return any(low == w or low.startswith(w + " ") for w in _UNIT_KEYS)


def first_verb(text: str) -> int | None:
    """Index of the first lower-case duty verb (" căn cứ", " phối hợp" …) in ``text``."""
    match = _VERB_RE.search(text)
    return match.start() if match else None


def before_verb(text: str) -> str:
    """``text`` up to its first duty verb: "Công an Thành phố căn cứ …" -> "Công an Thành phố"."""
    at = first_verb(" " + text)
    return text if at is None else text[: max(at - 1, 0)]


def strip_request(text: str) -> tuple[str, bool]:
    """``text`` without a leading "Đề nghị", and whether it had one."""
    match = _REQUEST.match(text)
    return (text[match.end() :], True) if match else (text, False)


def split_heading(text: str) -> tuple[str, str]:
    """A block heading split into (the units it names, the duty written after them).

    "Ủy ban nhân dân các quận, huyện, thị xã: Xây dựng …" splits at the colon; "Các Sở, ngành:
    Y tế, … căn cứ Kế hoạch …" is a list after the colon and splits at the first duty verb.
    """
    text = squash(text)
    head, colon, rest = text.partition(":")
    if colon and not _LIST_INTRO.match(head.strip()):
        return head.strip(), rest.strip()
    at = first_verb(text)
    if at is None:
        return text.rstrip(" .;"), ""
    return text[:at].strip(" ,;"), text[at:].strip()


def mentions(phrase: str) -> list[Mention]:
    """The units a phrase names, in order: "A, các B và C" -> [A, các B, C]."""
    phrase = squash(phrase).strip(" .;:,")
    if not phrase:
        return []
    head, colon, rest = phrase.partition(":")
    intro = _LIST_INTRO.match(head.strip()) if colon else None
    if intro:
        kind = fold(intro.group(1))
        prefix = {"so": "Sở", "phong": "Phòng"}.get(kind, "")
        out = []
        for item in _split_list(rest, bare_items=True):
            if starts_with_unit_word(item) or not prefix:
                out.append(Mention(item, is_group(item)))
            else:
                out.append(Mention(f"{prefix} {item}", False))
        return out
    return [Mention(item, is_group(item)) for item in _split_list(phrase)]


def is_group(text: str) -> bool:
    """True for collective names: "các …", "UBND các quận", "các đoàn thể quận"."""
    folded = fold(text)
    return folded.startswith("cac ") or " cac " in folded


_AND_UNIT = re.compile(r"\s+và\s+(?=\S)")


def _split_list(text: str, *, bare_items: bool = False) -> list[str]:
    """Split at commas and at "và" before a unit, then glue back what continues a name: group
    words ("các Sở, ban, ngành") and, unless the items are bare names after "Các Sở, ngành:",
    any piece that does not start like a unit ("Sở Văn hóa, Thể thao và Du lịch")."""
    pieces: list[str] = []
    for comma_part in text.split(","):
        chunks = _AND_UNIT.split(comma_part)
        current = chunks[0]
        for chunk in chunks[1:]:
            if starts_with_unit_word(chunk):
                pieces.append(current)
                current = chunk
            else:
                current = f"{current} và {chunk}"
        pieces.append(current)
    out: list[str] = []
    for piece in (squash(p) for p in pieces):
        if not piece:
            continue
        if out and (_is_continuation(piece) or not (bare_items or starts_with_unit_word(piece))):
            out[-1] = f"{out[-1]}, {piece}"
        else:
            out.append(piece)
    return out


def _is_continuation(piece: str) -> bool:
    if not piece[:1].islower():
        return False
    folded = fold(piece)
    return any(folded == w or folded.startswith(w + " ") for w in _CONTINUATIONS)


def unit_list_at(text: str) -> list[str]:
    """The unit phrases at the start of ``text``, up to the first duty verb or sentence end."""
    span = re.split(r"[;:.(]", before_verb(text), maxsplit=1)[0]
    return [m.text for m in mentions(span)] if starts_with_unit_word(span) else []
