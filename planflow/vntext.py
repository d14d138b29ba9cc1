"""Vietnamese text: the one home of planflow's wording and formats, and of reading names.

Writing: dates (``vn_date``, ``date_words``), numbers (``vn_int``, ``vn_number``), the names
of report kinds, unit kinds and levels. Every text an officer reads formats through here.

Reading: real documents spell the same name several ways: NFC or decomposed Unicode, the old
or the new tone-mark position ("hoá" / "hóa", "Uỷ" / "Ủy"), with or without hyphens and "và",
capitals or not. ``name_key`` maps all of those to one string; ``loose_key`` also drops the
diacritics and is only used when the exact key finds nothing. ``fold`` is the one diacritic
folding every other key is built on.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# the five tone marks; the vowel-quality marks (breve, circumflex, horn) are letters, not tones
_TONES = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_CONNECTIVE = re.compile(r"(?<!\w)(và|&)(?!\w)", re.IGNORECASE)

_TYPE_WORDS_LOWER = ("thành phố", "thị xã", "thị trấn", "tỉnh", "quận", "huyện", "phường", "xã")


def nfc(text: str) -> str:
    """``text`` in Unicode NFC (what a reader sees is unchanged)."""
    return unicodedata.normalize("NFC", text)


def canonical(text: str) -> str:
    """NFC with each syllable's tone mark moved to one fixed vowel, so "hoá" == "hóa"."""
    return _WORD.sub(_retone_word, nfc(text))


def _retone_word(match: re.Match[str]) -> str:
    word = match.group(0)
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONES]
    if len(tones) != 1:
        return word
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    index = _tone_position(bare)
    if index is None:
        return word
    placed = bare[: index + 1] + tones[0] + bare[index + 1 :]
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", placed))


_VOWELS = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
_MARKED = set("ăâêôơưĂÂÊÔƠƯ")


def _tone_position(bare: str) -> int | None:
    """Where the tone mark goes in a toneless syllable; only being deterministic matters."""
    low = bare.lower()
    start = 0
    if low.startswith("qu") or (low.startswith("gi") and len(low) > 2 and low[2] in _VOWELS):
        start = 2
    vowels = [i for i in range(start, len(bare)) if bare[i] in _VOWELS]
    if not vowels:
        vowels = [i for i in range(len(bare)) if bare[i] in _VOWELS]
    if not vowels:
        return None
    for i in vowels:  # a vowel with a quality mark always carries the tone (ơ in "ươ")
        if bare[i] in _MARKED:
            marked = [j for j in vowels if bare[j] in _MARKED]
            return marked[-1]
    if len(vowels) == 1:
        return vowels[0]
    ends_with_vowel = vowels[-1] == len(bare) - 1
    if len(vowels) >= 3:
        return vowels[1]
    # two vowels: oa, oe, uy take the second ("hóa" -> "hoá" in the new rule), others the first
    pair = low[vowels[0]] + low[vowels[1]]
    if not ends_with_vowel or pair in ("oa", "oe", "uy"):
        return vowels[1]
    return vowels[0]


def fold(text: str) -> str:
    """Lower case without any diacritics; đ becomes d: "Đắk Lắk" -> "dak lak"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_key(text: str) -> str:
    """A comparison key: canonical tones, lower case, no punctuation, spaces or "và"/"&"."""
    text = _CONNECTIVE.sub(" ", canonical(text).lower())
    return _NOT_ALNUM.sub("", text)


def loose_key(text: str) -> str:
    """``name_key`` without diacritics: a fallback for names typed without accents."""
    return fold(name_key(text))


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def initials(words: str) -> str:
    """The abbreviation Vietnamese offices use: first letters of the syllables, "và" dropped.

    "Lao động - Thương binh và Xã hội" -> "LĐTBXH"; "Kế hoạch và Đầu tư" -> "KHĐT".
    """
    parts = [w for w in _WORD.findall(nfc(words)) if w.lower() != "và"]
    return "".join(w[0].upper() for w in parts)


def is_upper_line(text: str) -> bool:
    """True when every letter of ``text`` is a capital (a heading or a signature line)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def title_case_area(text: str) -> str:
    """ "THÀNH PHỐ HÀ NỘI" -> "thành phố Hà Nội": the area type in lower case, names capitalised."""
    words = squash(text).split(" ")
    out = [w[:1].upper() + w[1:].lower() for w in words]
    joined = " ".join(out)
    for type_word in _TYPE_WORDS_LOWER:
        capital = " ".join(p.capitalize() for p in type_word.split(" "))
        if joined.startswith(capital + " ") or joined == capital:
            return type_word + joined[len(capital) :]
    return joined


_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{4}))?")
_LONG = re.compile(r"(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s+năm\s+(\d{4}))?", re.IGNORECASE)


def parse_date(text: str, *, default_year: int | None) -> tuple[date | None, bool]:
    """The first date in ``text`` ("20/3/2020", "30/5", "15 tháng 02 năm 2025").

    Returns (date or None, whether the year was written). A date without a year takes
    ``default_year``; an impossible date gives None.
    """
    match = _LONG.match(text) or _DMY.match(text)
    if not match:
        return None, False
    day, month, year = match.group(1), match.group(2), match.group(3)
    explicit = year is not None
    y = int(year) if explicit else default_year
    if y is None:
        return None, explicit
    try:
        return date(y, int(month), int(day)), explicit
    except ValueError:
        return None, explicit


DATE_PATTERN = (
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*\d{4})?|\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?"
)


# --- writing: dates, numbers and names as officers read them ---------------------------------


def _month(day: date) -> str:
    # Nghị định 30/2020: a zero before days under 10 and before months 1 and 2
    return f"{day.month:02d}" if day.month < 3 else str(day.month)


def vn_date(day: date | None) -> str:
    """20/5/2025, 15/02/2025, 05/3/2025 (see ``_month``); an empty string for None."""
    return f"{day.day:02d}/{_month(day)}/{day.year}" if day else ""


def date_words(day: date) -> str:
    """'ngày 14 tháng 02 năm 2025': the date line of a document."""
    return f"ngày {day.day:02d} tháng {_month(day)} năm {day.year}"


def vn_int(value: int | None) -> str:
    """1234567 → '1.234.567'; None → '–'."""
    return "–" if value is None else f"{value:,}".replace(",", ".")


def vn_number(value: float | None) -> str:
    """32 → '32'; 25.5 → '25,5'; 1234.57 → '1.234,57' (Vietnamese separators)."""
    if value is None:
        return "–"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def cap(value: str) -> str:
    """The first letter in capitals, the rest untouched (unlike ``capitalize``)."""
    return value[:1].upper() + value[1:]


def uncap(value: str) -> str:
    """The first letter in lower case: a title continuing a sentence."""
    return value[:1].lower() + value[1:]


# keyed by the enums' values (ReportKind, UnitKind, Level are StrEnums: either key works)
KIND_VI = {
    "sub_plan": "kế hoạch thực hiện của đơn vị",
    "six_month": "báo cáo 6 tháng",
    "annual": "báo cáo năm",
    "ad_hoc": "báo cáo đột xuất",
}
UNIT_KIND_VI = {"committee": "UBND", "agency": "cơ quan chuyên môn", "mass_org": "tổ chức đoàn thể"}
LEVEL_VI = {"province": "cấp tỉnh", "district": "cấp huyện", "ward": "cấp xã"}


def kind_vi(kind: str) -> str:
    """A report kind's name mid-sentence: ``báo cáo 6 tháng``; an unknown kind as it is."""
    return KIND_VI.get(str(kind), str(kind))
