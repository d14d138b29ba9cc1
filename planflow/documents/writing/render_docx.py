"""A ``Document`` as a Word file laid out per Decree 30/2020/NĐ-CP (Appendix I).

A4; margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman 14 pt body; the header
and the tail (Nơi nhận | signature) as borderless two-column tables; page numbers centred in
the top margin from the second page on.
"""

from __future__ import annotations

from io import BytesIO

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from planflow.documents.writing.charts import Figure
from planflow.documents.writing.render_model import Document, Para, Table

FONT = "Times New Roman"
BODY_PT = 14
PAGE = {"width": 21.0, "height": 29.7, "top": 2.0, "bottom": 2.0, "left": 3.0, "right": 1.5}
TEXT_WIDTH = PAGE["width"] - PAGE["left"] - PAGE["right"]  # 16.5 cm
HEADER_COLS = (6.4, TEXT_WIDTH - 6.4)
TAIL_COLS = (7.6, TEXT_WIDTH - 7.6)
INDENT = Cm(1.27)
ALIGN = {
    "l": WD_ALIGN_PARAGRAPH.LEFT,
    "c": WD_ALIGN_PARAGRAPH.CENTER,
    "r": WD_ALIGN_PARAGRAPH.RIGHT,
}
# w:pPr children that must follow w:pBdr (the schema fixes the order; Word enforces it)
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_AFTER_TBLBORDERS = (
    "w:shd",
    "w:tblLayout",
    "w:tblCellMar",
    "w:tblLook",
    "w:tblCaption",
    "w:tblDescription",
    "w:tblPrChange",
)


def docx_bytes(doc: Document) -> bytes:
    """The .docx file of ``doc``."""
    word = new_docx()
    _page_setup(word)
    _header(word, doc)
    _title(word, doc)
    for block in doc.body:
        if isinstance(block, Table):
            _table(word, block)
        elif isinstance(block, Figure):
            _figure(word, block)
        else:
            _para(word, block)
    _tail(word, doc)
    _no_trailing_page(word)
    buffer = BytesIO()
    word.save(buffer)
    return buffer.getvalue()


# --- page and styles ------------------------------------------------------------------------


def _page_setup(word) -> None:
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE["width"]), Cm(PAGE["height"])
    section.top_margin, section.bottom_margin = Cm(PAGE["top"]), Cm(PAGE["bottom"])
    section.left_margin, section.right_margin = Cm(PAGE["left"]), Cm(PAGE["right"])
    section.header_distance = Cm(1.0)
    section.footer_distance = Cm(1.0)
    normal = word.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(0), 1.0
    # page numbers: centred in the top margin, not on the first page
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    number._p.append(field)


def _run(
    paragraph: Paragraph,
    text: str,
    *,
    size: float | None = None,
    bold: bool = False,
    italic: bool = False,
) -> None:
    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if size:
        run.font.size = Pt(size)


def _format(
    paragraph: Paragraph,
    *,
    align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent=INDENT,
    before: float = 0,
    after: float = 6,
    spacing: float = 1.1,
) -> Paragraph:
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = indent
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing = spacing
    return paragraph


def _centered(
    container,
    text: str = "",
    *,
    size: float = 13,
    bold: bool = False,
    italic: bool = False,
    first: bool = False,
) -> Paragraph:
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    _format(paragraph, align=WD_ALIGN_PARAGRAPH.CENTER, indent=None, after=0, spacing=1.0)
    if text:
        _run(paragraph, text, size=size, bold=bold, italic=italic)
    return paragraph


def _rule(container, width_cm: float, box_cm: float) -> None:
    """A short horizontal line, centred under the line above (the decree's underlines)."""
    paragraph = container.add_paragraph()
    side = Cm(max((box_cm - width_cm) / 2 - 0.2, 0))
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = side
    # the border sits on top of a 1 pt paragraph pushed below the descenders of the line above
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(4), Pt(0), Pt(1)
    paragraph.add_run("").font.size = Pt(1)
    mark = paragraph._p.get_or_add_pPr()
    size = OxmlElement("w:rPr")
    half_points = OxmlElement("w:sz")
    half_points.set(qn("w:val"), "2")
    size.append(half_points)
    mark.append(size)  # the paragraph mark's own size decides an empty line's height
    border = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        top.set(qn(key), value)
    border.append(top)
    paragraph._p.get_or_add_pPr().insert_element_before(border, *_AFTER_PBDR)


# --- tables ---------------------------------------------------------------------------------


def _borderless(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.insert_element_before(borders, *_AFTER_TBLBORDERS)


def _widths(table, widths: tuple[float, ...]) -> None:
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)


def _header(word, doc: Document) -> None:
    table = word.add_table(rows=2, cols=2)
    _borderless(table)
    _widths(table, HEADER_COLS)
    (issuer, nation), (number, when) = (row.cells for row in table.rows)
    for i, line in enumerate(doc.header.issuer_lines):
        _centered(issuer, line, size=13, bold=True, first=i == 0)
    _rule(issuer, 2.2, HEADER_COLS[0])
    _centered(nation, doc.header.nation, size=13, bold=True, first=True)
    _centered(nation, doc.header.motto, size=14, bold=True)
    _rule(nation, 6.2, HEADER_COLS[1])
    _centered(
        number, doc.header.number_line, size=13, first=True
    ).paragraph_format.space_before = Pt(4)
    _centered(
        when, doc.header.place_date, size=14, italic=True, first=True
    ).paragraph_format.space_before = Pt(4)


def _title(word, doc: Document) -> None:
    _format(
        word.add_paragraph(),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        indent=None,
        before=18,
        after=0,
        spacing=1.0,
    ).add_run(doc.doc_type).bold = True
    subject = _format(
        word.add_paragraph(), align=WD_ALIGN_PARAGRAPH.CENTER, indent=None, after=0, spacing=1.0
    )
    subject.paragraph_format.left_indent = subject.paragraph_format.right_indent = Cm(1.0)
    subject.add_run(doc.title).bold = True
    _rule(word, 3.0, TEXT_WIDTH)
    word.paragraphs[-1].paragraph_format.space_after = Pt(12)


def _para(word, block: Para) -> None:
    paragraph = _format(word.add_paragraph())
    if block.kind == "part":
        _run(paragraph, block.text, bold=True)
        paragraph.paragraph_format.space_before = Pt(6)
        paragraph.paragraph_format.keep_with_next = True
    elif block.kind == "heading":
        _run(paragraph, block.text, bold=True)
        paragraph.paragraph_format.keep_with_next = True
    elif block.kind == "item":
        _run(paragraph, f"- {block.text}")
    elif block.kind == "subitem":
        _run(paragraph, f"+ {block.text}")
    elif block.kind == "note":
        _run(paragraph, block.text, size=12, italic=True)
    else:
        _run(paragraph, block.text)


def _table(word, block: Table) -> None:
    table = word.add_table(rows=1 + len(block.rows), cols=len(block.columns))
    table.style = word.styles["Table Grid"]
    _widths(table, block.widths)
    _cell_margins(table, 0.1)
    head = table.rows[0]
    head_pr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    head_pr.append(repeat)  # the column titles repeat on every page the table spans
    for cell, title in zip(head.cells, block.columns, strict=True):
        _cell_text(cell, title, WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    for row in table.rows:  # a row never breaks across pages: its names stay together
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    last = len(block.rows) - 1
    for r, values in enumerate(block.rows):
        bold = block.total_row and r == last
        for cell, value, align in zip(table.rows[r + 1].cells, values, block.align, strict=True):
            _cell_text(cell, value, ALIGN[align], bold=bold)
    _format(word.add_paragraph(), after=0, spacing=1.0)  # the decree's breathing space


def _cell_margins(table, cm: float) -> None:
    """Narrow left/right cell margins, so codes and figures fit their columns unbroken."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(round(cm * 567)))  # twips
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    table._tbl.tblPr.insert_element_before(
        margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange"
    )


def _cell_text(cell: _Cell, text: str, align, *, bold: bool = False) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    _format(paragraph, align=align, indent=None, before=1, after=1, spacing=1.0)
    _run(paragraph, text, size=11, bold=bold)


def _figure(word, figure: Figure) -> None:
    picture = _format(word.add_paragraph(), align=WD_ALIGN_PARAGRAPH.CENTER, indent=None, after=2)
    picture.paragraph_format.keep_with_next = True
    picture.add_run().add_picture(BytesIO(figure.png), width=Cm(min(figure.width_cm, TEXT_WIDTH)))
    caption = _format(word.add_paragraph(), align=WD_ALIGN_PARAGRAPH.CENTER, indent=None)
    _run(caption, figure.caption, size=12, italic=True)


def _no_trailing_page(word) -> None:
    """Word needs a paragraph after the closing table; left at 14 pt it spills onto a page of
    its own when the signature table ends a page. One point high, it never does."""
    last = word.paragraphs[-1]
    fmt = last.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(0), Pt(1)
    marks = last._p.get_or_add_pPr()
    run_props = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "2")
    run_props.append(size)
    marks.append(run_props)


def _tail(word, doc: Document) -> None:
    _format(word.add_paragraph(), after=0)
    table = word.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, TAIL_COLS)
    left, right = table.rows[0].cells
    label = left.paragraphs[0]
    _format(label, align=WD_ALIGN_PARAGRAPH.LEFT, indent=None, after=0, spacing=1.0)
    _run(label, "Nơi nhận:", size=12, bold=True, italic=True)
    for item in doc.recipients:
        line = _format(
            left.add_paragraph(), align=WD_ALIGN_PARAGRAPH.LEFT, indent=None, after=0, spacing=1.0
        )
        _run(line, f"- {item}", size=11)
    for i, signature_line in enumerate(doc.signature.lines):
        _centered(right, signature_line, size=14, bold=True, first=i == 0)
    for _ in range(4):  # room for the signature and the seal
        _centered(right, "", size=14)
    _centered(right, doc.signature.name, size=14, bold=True)


__all__ = ["PAGE", "docx_bytes"]
