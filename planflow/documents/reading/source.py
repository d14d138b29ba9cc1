"""Reading a plan's text from a file or a string: UTF-8 text (plain, Markdown or a web page's
copy), .docx or a PDF with a text layer; garbage refused. ``shapes.normalise`` then turns each
shape into the same logical lines, and ``SourceText.shape`` says which shape was read.

Everything wrong with the input raises ``ValidationFailed`` naming the file and the problem, so
the command line prints one line and nothing is stored.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from planflow.config.settings import get_settings
from planflow.documents.reading.limits import check_lines, check_pages, check_zip, read_bounded
from planflow.documents.reading.shapes import PAGE_BREAK, normalise, pdf_lines
from planflow.states.errors import ValidationFailed
from planflow.vntext import nfc

_TEXT_NAME = "<text>"


@dataclass(frozen=True)
class SourceText:
    """A document's lines, in reading order, the name to use in messages, and the shape it
    came in (``plain``, ``markdown``, ``web``, ``docx`` or ``pdf``)."""

    name: str
    lines: list[str]
    shape: str = "plain"
    raw: list[str] | None = None  # the lines as they came, before normalising: for line numbers


def read_source(text_or_path: str | Path) -> SourceText:
    """The lines of a plan given as a path (``.txt``/``.md``/``.docx``/``.pdf``) or as the text
    itself, normalised from the shape it came in."""
    if isinstance(text_or_path, Path) or _looks_like_path(text_or_path):
        path = Path(text_or_path)
        if not path.is_file():
            raise ValidationFailed(f"{path}: không có tệp này")
        name = path.name
        raw, shape = _lines_of_bytes(name, read_bounded(path))
    else:
        name = _TEXT_NAME
        limit = get_settings().import_max_bytes
        if len(text_or_path) > limit:
            raise ValidationFailed(
                f"{name}: văn bản quá lớn ({len(text_or_path)} ký tự, tối đa {limit}; "
                "PLANFLOW_IMPORT_MAX_BYTES)"
            )
        raw, shape = _split(name, text_or_path), None
    lines, seen = normalise(raw, shape=shape)
    return SourceText(name, lines, seen, raw)


def _looks_like_path(value: str) -> bool:
    """A one-line string naming an existing file, or ending like a document file name."""
    if "\n" in value or "\x00" in value or len(value) > 4096:
        return False
    path = Path(value)
    if path.suffix.lower() in (".txt", ".md", ".docx", ".doc", ".pdf"):
        return True
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system is text
        return False


def _lines_of_bytes(name: str, data: bytes) -> tuple[list[str], str | None]:
    """The raw lines and, for a binary format, its shape (text shapes are detected later)."""
    if not data.strip():
        raise ValidationFailed(f"{name}: tệp rỗng")
    if data.lstrip()[:5] == b"%PDF-":
        return _pdf_lines(name, data), "pdf"
    if data[:4] == b"PK\x03\x04":
        check_zip(name, data)
        return _docx_lines(name, data), "docx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValidationFailed(f"{name}: tệp Word .doc cũ; hãy lưu lại thành .docx")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16, as Notepad saves "Unicode"
        try:
            return _split(name, data.decode("utf-16")), None
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                f"{name}: văn bản UTF-16 hỏng (không đọc được byte {exc.start})"
            ) from None
    if b"\x00" in data:
        raise ValidationFailed(f"{name}: tệp nhị phân, không phải văn bản UTF-8 hay .docx")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"{name}: không phải văn bản UTF-8 (không đọc được byte {exc.start}) cũng không "
            "phải .docx"
        ) from None
    return _split(name, text), None


def _split(name: str, text: str) -> list[str]:
    if not text.strip():
        raise ValidationFailed(f"{name}: văn bản rỗng")
    controls = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls > 8:
        raise ValidationFailed(f"{name}: tệp nhị phân, không phải văn bản UTF-8 hay .docx")
    check_lines(name, text.count("\n") + 1)
    text = nfc(text).lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _docx_lines(name: str, data: bytes) -> list[str]:
    """Paragraphs and table cells of a .docx, in document order (merged cells once)."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError) as exc:
        # a zip without Word's parts (KeyError), or not a zip at all after its first bytes
        raise ValidationFailed(f"{name}: tệp .docx không đọc được ({type(exc).__name__})") from None
    lines: list[str] = []
    limit = get_settings().import_max_lines

    def walk(parent, element) -> None:
        for child in element.iterchildren():
            if child.tag == qn("w:p"):
                lines.extend(Paragraph(child, parent).text.split("\n"))
                if len(lines) > limit:  # refused before the rest is read
                    check_lines(name, len(lines))
            elif child.tag == qn("w:tbl"):
                table = Table(child, parent)
                for row in table.rows:
                    seen: set[int] = set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:
                            continue
                        seen.add(id(cell._tc))
                        walk(cell, cell._tc)
            elif child.tag == qn("w:sdt"):  # content controls wrap paragraphs in some templates
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    walk(parent, content)

    walk(document, document.element.body)
    if not any(line.strip() for line in lines):
        raise ValidationFailed(f"{name}: văn bản không có chữ")
    return _split(name, "\n".join(lines))


def _pdf_lines(name: str, data: bytes) -> list[str]:
    """The text layer of a PDF, page after page; a scan without one is refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # pypdf logs what it repairs; the error below says it once
    try:
        reader = PdfReader(io.BytesIO(data))
        check_pages(name, len(reader.pages))
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationFailed(
            f"{name}: tệp PDF không đọc được ({type(exc).__name__}); hãy lưu thành .docx"
        ) from None
    finally:
        quiet.setLevel(level)
    if not any(p.strip() for p in pages):
        raise ValidationFailed(
            f"{name}: tệp PDF không có lớp chữ (bản quét); hãy dùng văn bản hoặc tệp .docx"
        )
    return pdf_lines(_split(name, f"\n{PAGE_BREAK}\n".join(pages)))
