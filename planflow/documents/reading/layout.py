"""The layout of an administrative document (Decree 30/2020/NĐ-CP) as clean logical lines.

Text copied out of a Word or PDF file carries page furniture: bold markers ``**``, check marks,
non-breaking spaces, footnotes, lone page numbers, and sentences broken across a page gap. This
module removes the furniture and rejoins the broken sentences, so the parser sees one logical
line per heading, paragraph, bullet and signature line.
"""

from __future__ import annotations

import re

from planflow.vntext import is_upper_line, squash

_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_FOOTNOTE = re.compile(rf"^[{_SUPERSCRIPTS}]+\s*\S")
_PAGE_NUMBER = re.compile(r"^[-–]?\s*\d{1,3}\s*[-–]?$")
_NOISE = str.maketrans({"✓": " ", "✔": " ", "\u00a0": " ", "\u200b": "", "\ufeff": "", "\t": " "})
_BULLET = re.compile(r"^(?:[-–—•+*]\s*)+")
_SUB_BULLET = re.compile(r"^(?:[-–—•]\s*)*\+\s*")

ROMAN = re.compile(r"^([IVX]{1,5})\s*[.:/]\s*(\S.*)$")
NUMBERED = re.compile(r"^(\d{1,2})\s*[.)]\s+(\S.*)$")
LETTERED = re.compile(r"^([a-zđ])\s*\)\s+(\S.*)$")
SIGNATURE = re.compile(r"^(?:TM|KT|TL|TUQ|Q|PT)\s*\.\s*\S")
RECIPIENTS = re.compile(r"^Nơi\s+nhận\s*:?", re.IGNORECASE)
_TERMINAL = (".", ";", ":", "!", "?", "…", ")", '"', "”", "/.")
_NO_SUPERSCRIPTS = {ord(ch): None for ch in _SUPERSCRIPTS}


def _upper_line(pieces: list[str]) -> bool:
    """``is_upper_line`` of the joined pieces, without joining them: a line in capitals never
    takes a continuation (``_continues``), so a line of several pieces is never one."""
    return len(pieces) == 1 and is_upper_line(pieces[0])


def clean_lines(raw: list[str]) -> list[str]:
    """The document's logical lines: furniture removed, broken sentences rejoined."""
    # each logical line as its pieces, joined once at the end: linear in the text's size even
    # for one paragraph broken over thousands of lines
    pieces: list[list[str]] = []
    for line in raw:
        text = squash(line.translate(_NOISE).replace("**", "").replace("__", ""))
        if not text or _PAGE_NUMBER.match(text) or _FOOTNOTE.match(text):
            continue
        text = squash(text.translate(_NO_SUPERSCRIPTS))
        text = _normalise_bullet(text)
        if pieces and _continues(pieces[-1], text):
            pieces[-1].append(text)
        else:
            pieces.append([text])
    return [" ".join(p) for p in pieces]


def _normalise_bullet(text: str) -> str:
    """ " - + Tổ chức …" -> "+ Tổ chức …"; "• Tăng cường …" -> "- Tăng cường …"."""
    if _SUB_BULLET.match(text):
        return "+ " + _SUB_BULLET.sub("", text, count=1)
    if _BULLET.match(text) and not re.match(r"^-?\d", text):
        return "- " + _BULLET.sub("", text, count=1)
    return text


def is_structural(text: str) -> bool:
    """A line that starts something: a part, a numbered item, a bullet, a signature line."""
    return bool(
        text.startswith(("- ", "+ ", "Số:", "Số :"))
        or ROMAN.match(text)
        or NUMBERED.match(text)
        or LETTERED.match(text)
        or SIGNATURE.match(text)
        or RECIPIENTS.match(text)
        or is_upper_line(text)
    )


def _continues(pieces: list[str], text: str) -> bool:
    """Whether ``text`` carries on the sentence a logical line (``pieces``) left open (a page or
    line break). Only its first and last pieces are looked at, never the whole line."""
    first, previous = pieces[0], pieces[-1]
    if is_structural(text) or _upper_line(pieces) or RECIPIENTS.match(first):
        return False
    if previous.endswith(","):
        return True
    return not previous.endswith(_TERMINAL) and text[:1].islower()
