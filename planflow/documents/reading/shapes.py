"""The shapes plan texts come in, normalised to one logical line per heading, paragraph, bullet
and signature line before the parser sees them.

- ``plain``: text as typed or saved from Word, one paragraph a line.
- ``markdown``: text converted to Markdown: ``### **IV. TỔ CHỨC THỰC HIỆN**``, ``**bold**``,
  ``*italics*``, tables ``| ỦY BAN NHÂN DÂN | CỘNG HÒA … |`` with a ``|---|`` row.
- ``web``: a copy of a web page: the site's own text before the document (its name, "Đang tải
  nội dung…", a list of related documents) and after it ("Tin mới nhất", "Văn bản liên quan" …),
  table cells flattened to ``a | b |`` rows or to lines of their own between lone ``|`` lines,
  and lines wrapped at a fixed width.
- ``docx`` and ``pdf``: read by ``source``; a PDF's text layer is wrapped like a web copy.

Every step is one pass over the lines (joined pieces are collected in lists and joined once), so
the time is linear in the size of the text.
"""

from __future__ import annotations

import itertools
import re

from planflow.documents.reading.layout import LETTERED, NUMBERED, RECIPIENTS, ROMAN, SIGNATURE

SHAPES = ("plain", "markdown", "web", "docx", "pdf")

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_MD_BULLET = re.compile(r"^\s*\*\s+")  # "+ " stays: the plans' own sub-bullet
_RULE = re.compile(r"^[-_=–—.]{3,}$")
_RULE_IN_CELL = re.compile(r"\s*(?:^|\s)[-_=–—]{3,}(?:\s|$)\s*")

# where the document itself starts: its issuer's line, the national motto, its number
_START = re.compile(
    r"^(?:(?:ỦY|UỶ|Ủy|Uỷ)(?:\s+BAN\b.*)?$|UBND\b|CỘNG\s*HÒA\b|CỘNG\s*HOÀ\b|CỘNG$|HỘI\s+ĐỒNG\b"
    r"|BAN\s+(?:CHỈ\s+ĐẠO|VÌ\s+SỰ|THƯỜNG\s+VỤ)|TỈNH\s+ỦY|Số\s*:)"
)
# an issuing body other than a committee heading the document, in capitals: a ministry, a
# department, a school ("BỘ TƯ PHÁP", "SỞ Y TẾ", "TRƯỜNG MG …")
_BODY_START = re.compile(r"^(?:BỘ|SỞ|TRƯỜNG|PHÒNG|TRUNG\s+TÂM|BỆNH\s+VIỆN)\s+\S")
# the site's own lines about a post, above the document: "Thứ ba - 19/04/2022 13:50 331 0",
# "Đăng ngày 09 - 03 - 2022", "Cập nhật lúc: 22:09 28/04/2018"
_POST_LINE = re.compile(
    r"^(?:(?:Thứ\s+(?:hai|ba|tư|năm|sáu|bảy|[2-7])|Chủ\s+nhật)\s*[-,]?\s*\d{1,2}/\d{1,2}/\d{4}"
    r"|(?:Đăng ngày|Ngày đăng|Cập nhật(?: lúc)?|Lượt xem|Lượt đọc)\b)",
    re.IGNORECASE,
)
# the site's text after the document (only looked for after "Nơi nhận" or a signature line)
_SITE_AFTER = re.compile(
    r"^(?:Tin mới nhất|Tin liên quan|Tin khác|Các tin (?:tức )?khác|Bài viết liên quan"
    r"|Văn bản liên quan|Văn bản cùng lĩnh vực|Lượt xem|Chia sẻ|In trang|Về đầu trang|Tải về"
    r"|Nội dung chi tiết tại đây|Bình luận|Đánh giá bài viết|Từ khóa)\b",
    re.IGNORECASE,
)
_TERMINAL = (".", ";", ":", "!", "?", "…")
# lines that always begin a logical line of their own in a wrapped text
_OPENS = re.compile(
    r"^(?:[-–—•+*]\s|Căn cứ\b|Thực hiện\b|Xét đề nghị\b|Theo đề nghị\b|Điều\s+\d+|Phần thứ\b"
    r"|(?:ỦY|UỶ)\s+BAN\s+NHÂN\s+DÂN\b|CHỦ\s+TỊCH\s+(?:ỦY|UỶ)\s+BAN\b|CỘNG\s+HÒA\b|Độc lập\b"
    r"|Số\s*:|\((?:Kèm|Ban hành)\b"
    r"|BỘ\s+TRƯỞNG\s+BỘ\b|GIÁM\s+ĐỐC\s+SỞ\b"
    r"|(?:PHÓ\s+)?(?:CHỦ\s+TỊCH|TRƯỞNG\s+BAN|GIÁM\s+ĐỐC|TRƯỞNG\s+PHÒNG|HIỆU\s+TRƯỞNG)$"
    r"|(?:BỘ|THỨ)\s+TRƯỞNG$)"
)
# headings whole by themselves: they open a line and nothing joins onto them
_WHOLE = re.compile(r"^(?:QUYẾT ĐỊNH|KẾ HOẠCH|CHƯƠNG TRÌNH)\s*:?$")
# header lines complete once read to their end (the number, the place and date)
_COMPLETE = re.compile(
    r"^Số\s*[:.]?\s*\d*\s*/\s*(?:\d{4}\s*/\s*)?[A-ZĐ][\w.&\-]*$"
    r"|^[^,\d]{2,60}(?:\s\d{1,2})?,\s*ngày\b.*\bnăm\s+\d{4}$"
    r"|^\((?:Đã ký|đã ký|Ký|ký)[^)]*\)$"
)
_NUMBER_OPEN = re.compile(r"^Số\s*[:.]?$")
_DATE_START = re.compile(r"^[^,\d]{2,60}(?:\s\d{1,2})?,\s*ngày\b")


def normalise(lines: list[str], *, shape: str | None = None) -> tuple[list[str], str]:
    """The document's lines in reading order, and the shape they were read as."""
    if shape is None and _printed(lines):  # a PDF's text with its layout, saved as text
        lines, shape = pdf_lines(_page_breaks(lines)), "pdf"
    seen = shape or _detect(lines)
    out = _demarkdown(lines) if seen == "markdown" else list(lines)
    out = _split_number_and_date(out)
    cells, had_cells = _split_cells(out)
    body, had_site = _drop_site_text(cells)
    if seen == "plain" and (had_cells or had_site):
        seen = "web"
    wrapped = seen in ("web", "pdf") or _wrapped(body)
    body = _unwrap(body) if wrapped else _mend_plain(body)
    return _join_lone_dashes(body), seen


PAGE_BREAK = "\f"  # between two pages of ``pdf_lines``'s input
_PAGE_NUMBER = re.compile(r"^\s*(?:-\s*)?\d{1,3}(?:\s*-)?\s*$")
_CELL_GAP = re.compile(r"\s{6,}")  # as wide a run of spaces parts two cells of a table row
_SPACES = re.compile(r"\s{2,}")
_BROKEN_AT_HYPHEN = re.compile(r"[\w/]-$")


def pdf_lines(printed: list[str]) -> list[str]:
    """A PDF's pages as printed (pypdf's layout mode: each row of print a line, spaces where
    the page is empty) as lines for ``_unwrap``: each page's number dropped; the rows of a
    paragraph joined, as print shows them: a row that reaches the right margin goes on into the
    next unless that one starts indented (a first line) or opens something (a bullet, a numbered
    item), and a row that stops short ends its paragraph ("…năm 2020" of a title before the
    preamble's "Năm 2020 …"; "…giới;" going on "Bộ luật …" does not end one); a row of a table
    without borders (the header's two columns, the recipients beside the signature, also across
    a page break) read column by column, its cells' wrapped lines left for ``_unwrap``. A blank
    line after each paragraph keeps ``_unwrap`` from joining what print keeps apart."""
    rows: list[str] = []
    pages = [list(group) for is_break, group in itertools.groupby(printed, key=PAGE_BREAK.__eq__)
             if not is_break]
    for page_rows in pages:
        filled = [i for i, row in enumerate(page_rows) if row.strip()]
        if not filled:
            continue
        for i in {filled[0], filled[-1]}:
            if _PAGE_NUMBER.match(page_rows[i]):
                page_rows[i] = ""
        filled = [i for i, row in enumerate(page_rows) if row.strip()]
        if filled:
            rows.extend(page_rows[filled[0] : filled[-1] + 1])
    lengths = sorted(len(row.rstrip()) for row in rows if row.strip())
    if not lengths:
        return []
    long = [n for n in lengths if n >= lengths[-1] // 2]
    # most rows of a page are full ones; a justified row with wide spaces prints full but
    # comes out shorter (a row of 65 characters among rows of 78), so the bar is low, which
    # holds because a paragraph's first row starts indented or opens something
    full = 0.75 * long[len(long) // 2]
    middle = long[len(long) // 2] // 2
    margin = min(len(row) - len(row.lstrip()) for row in rows if row.strip())
    out: list[str] = []
    paragraph: list[str] = []
    goes_on = indented = False  # the paragraph's last row reached the margin / was indented
    above = 0  # that row's indent

    def end_paragraph() -> None:
        if paragraph:
            # a row broken after a hyphen inside a word or a symbol ("98/2017/TT-" / "BTC",
            # "2016-" / "2020") goes on without a space
            text = "".join(f"{piece} " if not _BROKEN_AT_HYPHEN.search(piece) else piece
                           for piece in paragraph)
            out.extend([text.rstrip(), ""])
            paragraph.clear()

    i = 0
    while i < len(rows):
        row = rows[i].rstrip()
        if not row.strip():
            end_paragraph()
            i += 1
            continue
        indent = len(row) - len(row.lstrip())
        if not _CELL_GAP.search(row.strip()):
            text = _SPACES.sub(" ", row.strip())
            # a row goes on the paragraph above when that one reached the right margin and this
            # one neither opens something nor starts indented (a first line), unless the row
            # above was indented by another width (a centred title; two first lines of
            # paragraphs share their indent)
            first_line = indent > margin + 2 and not (indented and abs(indent - above) > 2)
            joins = goes_on and not _opens(text) and not first_line
            if not joins:
                end_paragraph()
            paragraph.append(text)
            goes_on, indented, above = len(row) >= full, indent > margin + 2, indent
            i += 1
            continue
        # a table's rows, until a blank row or a row of body text across the page
        end_paragraph()
        block: list[list[tuple[int, str]]] = []  # each row's cells with where they start
        while i < len(rows) and rows[i].strip():
            row = rows[i].rstrip()
            indent = len(row) - len(row.lstrip())
            cells = _CELL_GAP.split(row.strip())
            if len(cells) == 1 and len(row) >= full and indent < middle:
                break
            at, placed = indent, []
            for piece in cells:
                at = row.index(piece, at)
                placed.append((at, _SPACES.sub(" ", piece)))
                at += len(piece)
            block.append(placed)
            i += 1
        # the right column starts where the nearest second cell of a row does (a row of two
        # cells has one in each column, wherever the printer put them)
        right = min((placed[1][0] for placed in block if len(placed) > 1), default=middle)
        columns: tuple[list[str], list[str]] = ([], [])
        for placed in block:
            for n, (start, cell) in enumerate(placed):
                columns[n > 0 or (len(placed) == 1 and start >= right)].append(cell)
        out.extend([*columns[0], "", *columns[1], ""])
        goes_on = indented = False
    end_paragraph()
    return out


# the header's two columns side by side, as a PDF's text keeps them when saved with its layout
# (pdftotext -layout, a viewer's copy): "ỦY BAN NHÂN DÂN          CỘNG HÒA XÃ HỘI …"
_PRINTED_HEADER = re.compile(
    r"^\s*\S.*?\S\s{6,}(?:CỘNG\s*H[OÒ]A|Độc lập|[^,\d\s][^,\d]{1,59},\s*ngày\b)"
)


# the number and the place and date, the header's two cells, run together on one line as a
# PDF's text copied without its layout gives them: "Số: 37/KH-UBND Hà Nội, ngày 20 tháng 02 …"
_NUMBER_AND_DATE = re.compile(
    r"^\s*(Số\s*[:.]?\s*\S*/\S+)\s+([^\s,\d][^,\d]{1,59},\s*ngày\b.*\bnăm\s+\d{4}\.?)\s*$"
)


def _split_number_and_date(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        both = _NUMBER_AND_DATE.match(line) if line.lstrip().startswith("Số") else None
        out.extend(both.groups() if both else (line,))
    return out


def _printed(lines: list[str]) -> bool:
    head = itertools.islice((x for x in lines if x.strip()), 30)
    return sum(1 for x in head if _PRINTED_HEADER.match(x)) >= 2


def _page_breaks(lines: list[str]) -> list[str]:
    """A form feed starting a line (pdftotext's page break) as a line of its own."""
    out: list[str] = []
    for line in lines:
        while line.startswith(PAGE_BREAK):
            out.append(PAGE_BREAK)
            line = line[1:]
        out.append(line)
    return out


def _detect(lines: list[str]) -> str:
    sample = lines[:400]
    if any(_MD_HEADING.match(x) for x in sample) or any(
        "|" in x and _MD_RULE.match(x) for x in sample
    ):
        return "markdown"
    if sum(1 for x in sample if _MD_EMPHASIS.search(x)) >= 3:
        return "markdown"
    return "plain"


def _demarkdown(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if "|" in line and _MD_RULE.match(line):
            continue
        text = _MD_HEADING.sub("", line)
        text = _MD_BULLET.sub("- ", text)
        for _ in range(2):  # "***x***" is bold inside italics
            text = _MD_EMPHASIS.sub(r"\2", text)
        text = _MD_ITALIC.sub(r"\1", text)
        out.append(_MD_ESCAPE.sub(r"\1", text).replace("<br>", " ").replace("<br/>", " "))
    return out


def _split_cells(lines: list[str]) -> tuple[list[str], bool]:
    """Table rows as one line per cell, each row and each lone "|" a hard break (an empty
    line)."""
    out: list[str] = []
    had = False
    for line in lines:
        text = line.strip()
        if text == "|":
            out.append("")
            had = True
            continue
        if text.count("|") >= 1 and (text.endswith("|") or text.startswith("|")):
            had = True
            out.append("")
            for cell in text.strip("|").split("|"):
                out.extend(x for x in _RULE_IN_CELL.split(cell.strip()) if x)
            out.append("")
            continue
        out.append(line)
    return out, had


def _drop_site_text(lines: list[str]) -> tuple[list[str], bool]:
    """The lines from the document's first header line to the site's own text after it."""
    start = next((i for i, x in enumerate(lines[:200]) if _starts(x.strip())), 0)
    dropped = any(x.strip() for x in lines[:start])
    posts = {i for i in range(start, min(start + 40, len(lines))) if _POST_LINE.match(lines[i])}
    if posts:  # a portal's date and view count above a post that has no header
        lines = ["" if i in posts else x for i, x in enumerate(lines)]  # a break, as the site's
        dropped = True
    end = len(lines)
    tail_seen = False
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if RECIPIENTS.match(text) or SIGNATURE.match(text):
            tail_seen = True
        elif tail_seen and _SITE_AFTER.match(text):
            end = i
            dropped = True
            break
    return lines[start:end], dropped


def _starts(text: str) -> bool:
    return bool(_START.match(text)) or (
        bool(_BODY_START.match(text)) and not any(ch.islower() for ch in text)
    )


def _wrapped(lines: list[str]) -> bool:
    """Lines broken at a fixed width: many lines end mid-sentence and the next goes on in
    lower case."""
    texts = [x.strip() for x in lines if x.strip()]
    if len(texts) < 8:
        return False
    broken = sum(
        1 for a, b in itertools.pairwise(texts) if not a.endswith(_TERMINAL) and b[:1].islower()
    )
    return broken >= max(3, len(texts) // 12)


def _case(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "none"
    return "upper" if all(ch.isupper() for ch in letters) else "mixed"


def _opens(text: str) -> bool:
    return bool(
        _OPENS.match(text)
        or ROMAN.match(text)
        or NUMBERED.match(text)
        or LETTERED.match(text)
        or SIGNATURE.match(text)
        or RECIPIENTS.match(text)
        or _WHOLE.match(text)
    )


def _unwrap(lines: list[str]) -> list[str]:
    """Rejoin lines broken at a fixed width, also where the next piece starts with a capital
    ("Luật …", "TÂY NINH GIAI ĐOẠN …"), but never across a blank line, a line that opens
    something (a bullet, a numbered item, "Căn cứ", a signature line …) or a change between an
    all-capitals line and a sentence."""
    out: list[str] = []
    pieces: list[str] = []
    case = "none"

    def flush() -> None:
        nonlocal case
        if pieces:
            out.append(" ".join(pieces))
            pieces.clear()
        case = "none"

    for raw in lines:
        text = raw.replace("**", "").strip()
        if not text or _RULE.match(text):
            flush()
            if not text:
                out.append("")
            continue
        if pieces and _joins(pieces[-1], case, text):
            pieces.append(text)
            if case == "none":
                case = _case(text)
            # a header line completed by this piece ("Số:" / "1782/QĐ-UBND"); header lines are
            # a few pieces long, so looking only then keeps the pass linear
            if len(pieces) <= 4 and (
                _COMPLETE.match(joined := " ".join(pieces)) or _WHOLE.match(joined)
            ):
                flush()
            continue
        flush()
        pieces.append(text)
        case = _case(text)
        if _WHOLE.match(text) or _COMPLETE.match(text):
            flush()
    flush()
    return out


def _mend_plain(lines: list[str]) -> list[str]:
    """A plain text keeps its lines, but two breaks that no writer means are mended: in the
    header above the first heading, a word left alone on its line goes on with the next one
    ("Kon" / "Tum, ngày …", "ỦY" / "BAN NHÂN DÂN", "Số:" / "47/KH-UBND"); anywhere, a line
    ending with a comma goes on with the next one unless that one opens something
    ("I. MỤC ĐÍCH," / "YÊU CẦU")."""
    head = next((i for i, x in enumerate(lines[:200]) if _WHOLE.match(x.strip())), 0)
    out: list[str] = []
    for i, line in enumerate(lines):
        text = line.strip()
        last = out[-1].strip() if out else ""
        lone = i <= head and len(last.split()) == 1 and not _RULE.match(last)
        if text and (lone or (last.endswith(",") and not _opens(text))):
            out[-1] = f"{last} {text}"
        else:
            out.append(line)
    return out


def _joins(last: str, case: str, text: str) -> bool:
    if _NUMBER_OPEN.match(last) or (last.endswith("Lao động") and text.startswith("- Thương")):
        return True  # "Số:" / "1782/…"; "Sở Lao động" / "- Thương binh và Xã hội"
    if _DATE_START.match(text) and len(last.split()) > 1:
        return False  # a place and date line, unless it goes on a place cut in two ("Lâm")
    if _opens(text) or last.endswith(_TERMINAL) or last == "-":
        return last == "-"
    if text[:1].islower() or text[:1].isdigit() or text[:1] in '(“"':
        return not (case == "upper" and _case(text) == "mixed" and len(text.split()) > 1)
    mine = _case(text)
    return not (case != "none" and mine != "none" and case != mine and len(text.split()) > 1)


def _join_lone_dashes(lines: list[str]) -> list[str]:
    """A dash alone on its line ("-" / "TT.HĐND tỉnh;") belongs to the line after it."""
    out: list[str] = []
    waiting = False
    for line in lines:
        text = line.strip()
        if text in ("-", "–", "+"):
            waiting = True
            continue
        if waiting and text:
            out.append(f"- {text}")
            waiting = False
            continue
        out.append(line)
    return out


__all__ = ["SHAPES", "normalise"]
