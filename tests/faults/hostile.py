"""Hostile files built on the fly: a .docx of many short lowercase lines, zip bombs (an honest
one and one whose header lies), a huge text, a workbook of a million cells."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOC_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
    b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
DOC_TAIL = b"</w:body></w:document>"
WORDS = ["và", "các", "thực", "hiện", "công", "tác", "bình", "đẳng", "giới", "năm", "phụ", "nữ"]


def short_lowercase_docx(path: Path, *, target_bytes: int = 240_000, seed: int = 13) -> int:
    """A .docx of short lowercase lines without final punctuation (each continues the one
    before: the worst case of the line joiner), grown until the file is ``target_bytes``.
    Returns its line count."""
    rng = random.Random(seed)
    paragraphs: list[bytes] = []
    while True:
        for _ in range(5000):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4)))
            paragraphs.append(f"<w:p><w:r><w:t>{words}</w:t></w:r></w:p>".encode())
        document = DOC_HEAD + b"".join(paragraphs) + DOC_TAIL
        data = _zip([_stored(b"[Content_Types].xml", CONTENT_TYPES),
                     _stored(b"_rels/.rels", RELS), _stored(b"word/document.xml", document)])
        if len(data) >= target_bytes:
            path.write_bytes(data)
            return len(paragraphs)


def _zip(entries: list[tuple[bytes, bytes, int, int, int]]) -> bytes:
    """A zip from (name, deflated data, crc, declared size, method) without zipfile's checks."""
    out, central = bytearray(), bytearray()
    for name, data, crc, size, method in entries:
        offset = len(out)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                             len(data), size, len(name), 0)
        out += header + name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                               crc, len(data), size, len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                      len(out), 0)
    return bytes(out + central + end)


def _stored(name: bytes, data: bytes) -> tuple[bytes, bytes, int, int, int]:
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = raw.compress(data) + raw.flush()
    return name, packed, zlib.crc32(data), len(data), 8


def zip_bomb_docx(path: Path, *, unpacked: int = 3 * 2**30, lie: bool = False) -> int:
    """A .docx whose document.xml inflates to ``unpacked`` bytes of blanks (about 1000:1);
    with ``lie`` the header declares 1 KB. Built from one deflated block repeated (a full
    flush resets the compressor, so the block is the same each time). Returns the file size."""
    chunk = b" " * 2**20
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(DOC_HEAD) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert again == block
    count = max(1, (unpacked - len(DOC_HEAD) - len(DOC_TAIL)) // len(chunk))
    tail = comp.compress(DOC_TAIL) + comp.flush()
    data = head + block * count + tail
    size = len(DOC_HEAD) + count * len(chunk) + len(DOC_TAIL)
    crc = zlib.crc32(DOC_HEAD)
    if not lie:
        for _ in range(count):
            crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(DOC_TAIL, crc)
    document = (b"word/document.xml", data, crc, 1024 if lie else size, 8)
    path.write_bytes(_zip([_stored(b"[Content_Types].xml", CONTENT_TYPES),
                           _stored(b"_rels/.rels", RELS), document]))
    return path.stat().st_size


def million_cell_xlsx(path: Path, *, rows: int = 10_000, cols: int = 100) -> int:
    """An .xlsx of ``rows`` × ``cols`` numbers, written as raw sheet XML (openpyxl would take
    a minute to write it). Returns the number of cells."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(c) for c in range(1, cols + 1)]
    parts = [(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')]
    for r in range(1, rows + 1):
        cells = "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in letters)
        parts.append(f'<row r="{r}">{cells}</row>'.encode())
    parts.append(b"</sheetData></worksheet>")
    sheet = b"".join(parts)
    workbook = (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name='
        '"Báo cáo" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ).encode()
    wb_rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
               b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
               b'"http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    types = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
             b'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
             b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             b'<Default Extension="xml" ContentType="application/xml"/><Override PartName='
             b'"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             b'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
             b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
             b'worksheet+xml"/></Types>')
    rels = RELS.replace(b"word/document.xml", b"xl/workbook.xml")
    path.write_bytes(_zip([
        _stored(b"[Content_Types].xml", types), _stored(b"_rels/.rels", rels),
        _stored(b"xl/workbook.xml", workbook), _stored(b"xl/_rels/workbook.xml.rels", wb_rels),
        _stored(b"xl/worksheets/sheet1.xml", sheet),
    ]))
    return rows * cols


def huge_text(path: Path, *, size: int = 50 * 2**20) -> None:
    """A plain text of ``size`` bytes of short lines."""
    line = "- thực hiện công tác bình đẳng giới\n".encode()
    with path.open("wb") as handle:
        for _ in range(size // len(line) + 1):
            handle.write(line)


def many_pages_pdf(path: Path, *, pages: int = 5_000) -> None:
    """A small PDF of ``pages`` blank pages: each would be laid out in turn."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as handle:
        writer.write(handle)
