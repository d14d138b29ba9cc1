"""Build the .docx and PDF variants of two corpus plans, so those readers meet real text.

The paragraphs are the plans' own (the .txt copies with the web page's fixed-width wrapping
undone by hand); the header and the signature sit in borderless tables, as offices type them.
Run from the repository root: ``.venv/bin/python tests/documents/corpus/make_variants.py``
(the PDF needs LibreOffice: ``soffice``). The files are committed; this says how they were made.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

HERE = Path(__file__).parent

PHUYEN = {
    "left": ["ỦY BAN NHÂN DÂN", "TỈNH PHÚ YÊN", "-------", "Số: 54/KH-UBND"],
    "right": [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "---------------",
        "Phú Yên, ngày 09 tháng 3 năm 2022",
    ],
    "title": [
        "KẾ HOẠCH",
        (
            "TRIỂN KHAI CHƯƠNG TRÌNH VỀ PHÒNG, CHỐNG BẠO LỰC GIA ĐÌNH TRONG TÌNH HÌNH MỚI ĐẾN NĂM "
            "2025 TRÊN ĐỊA BÀN TỈNH PHÚ YÊN"
        ),
    ],
    "body": [
        (
            "",
            (
                "Căn cứ Quyết định số 45/QĐ-TTg ngày 13/01/2022 của Thủ tướng Chính phủ về việc phê "
                "duyệt Chương trình về phòng, chống bạo lực gia đình trong tình hình mới đến năm 2025; "
                "UBND tỉnh ban hành Kế hoạch triển khai Chương trình về phòng, chống bạo lực gia đình "
                "trong tình hình mới đến năm 2025 trên địa bàn tỉnh với những nội dung như sau:"
            ),
        ),
        ("Heading 1", "I. MỤC ĐÍCH, YÊU CẦU"),
        ("Heading 2", "1. Mục đích"),
        (
            "",
            (
                "- Tạo sự chuyển biến mạnh mẽ nhận thức về vị trí, vai trò, nâng cao trách nhiệm "
                "của các cấp, các ngành, tổ chức, cá nhân, cộng đồng trong việc triển khai thực hiện, "
                "nâng cao hiệu quả công tác gia đình, phòng, chống bạo lực gia đình trong tình hình mới "
                "đến năm 2025, góp phần giáo dục đạo đức, lối sống và xây dựng gia đình no ấm, bình "
                "đẳng, tiến bộ, hạnh phúc, văn minh, thực sự là tổ ấm của mỗi người, là tế bào lành "
                "mạnh của xã hội. Kịp thời ngăn chặn các biểu hiện suy thoái đạo đức, lối sống và các "
                "hành vi bạo lực gia đình."
            ),
        ),
        (
            "",
            (
                "- Tiếp tục triển khai thực hiện Chương trình hành động quốc gia về phòng, chống bạo "
                "lực gia đình; tăng cường sự chỉ đạo của các cấp, các ngành, gia đình và cộng đồng xã "
                "hội trong công tác phòng, chống bạo lực gia đình."
            ),
        ),
        ("Heading 2", "2. Yêu cầu"),
        (
            "",
            (
                "- Tăng cường công tác quản lý nhà nước về gia đình, phòng, chống bạo lực gia đình "
                "trong tình hình mới."
            ),
        ),
    ],
}

LAMDONG = {
    "left": ["ỦY BAN NHÂN DÂN", "TỈNH LÂM ĐỒNG", "-------", "Số: 1073/KH-UBND"],
    "right": [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "---------------",
        "Lâm Đồng, ngày 23 tháng 02 năm 2022",
    ],
    "title": [
        "KẾ HOẠCH",
        (
            "TRIỂN KHAI CHƯƠNG TRÌNH TRUYỀN THÔNG VỀ BÌNH ĐẲNG GIỚI ĐẾN NĂM 2030 TRÊN ĐỊA BÀN TỈNH "
            "LÂM ĐỒNG"
        ),
    ],
    "body": [
        (
            "",
            (
                "Thực hiện Quyết định số 1790/QĐ-TTg ngày 23/10/2021 của Thủ tướng Chính phủ về việc "
                "phê duyệt Chương trình truyền thông về bình đẳng giới đến năm 2030; văn bản số "
                "129/LĐTBXH-BĐG ngày 17/01/2022 của Bộ Lao động - Thương binh và Xã hội về việc triển "
                "khai Chương trình truyền thông về bình đẳng giới đến năm 2030, UBND tỉnh Lâm Đồng ban "
                "hành Kế hoạch triển khai trên địa bàn tỉnh, cụ thể như sau:"
            ),
        ),
        ("", "I. MỤC TIÊU"),
        ("", "1. Mục tiêu tổng quát"),
        ("", "a) Giai đoạn 1 (từ năm 2022 - 2025):"),
        ("", "Đổi mới về nội dung, hình thức và nâng cao chất lượng công tác truyền thông."),
        ("", "b) Giai đoạn 2 (từ năm 2026-2030):"),
        ("", "Trên cơ sở kết quả sơ kết việc triển khai giai đoạn 1 (từ năm 2022-2025)"),
    ],
}


def write_docx(plan: dict, out: Path) -> None:
    document = Document()
    table = document.add_table(rows=1, cols=2)
    for cell, lines in zip(table.rows[0].cells, (plan["left"], plan["right"]), strict=True):
        cell.paragraphs[0].text = lines[0]
        for line in lines[1:]:
            cell.add_paragraph(line)
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in plan["title"]:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(line).bold = True
    for style, text in plan["body"]:
        document.add_paragraph(text, style=style or None)
    document.save(out)


def main() -> None:
    write_docx(PHUYEN, HERE / "phuyen_2022_kh54.docx")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is needed for the PDF variant")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "lamdong_2022_kh1073.docx"
        write_docx(LAMDONG, source)
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
            timeout=180,
            env={"HOME": tmp, "PATH": "/usr/bin:/bin"},
        )
        shutil.copy(Path(tmp) / "lamdong_2022_kh1073.pdf", HERE / "lamdong_2022_kh1073.pdf")


if __name__ == "__main__":
    main()
