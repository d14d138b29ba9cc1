"""Vietnamese text helpers for reading official documents: canonical forms, keys, dates.

Real documents spell the same name several ways: NFC or decomposed Unicode, the old or the new
tone-mark position ("hoá" / "hóa", "Uỷ" / "Ủy"), with or without hyphens and "và", capitals or
not. ``name_key`` maps all of those to one string; ``loose_key`` also drops the diacritics and is
only used when the exact key finds nothing.
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
    """Lower case without any diacritics; đ becomes d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


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
