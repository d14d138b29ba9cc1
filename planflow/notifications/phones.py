"""Vietnamese phone numbers in the ``84…`` form Zalo ZNS expects."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")
# 84 + 9 digits (mobile, after the 2018 renumbering) or + 9-10 digits (landline area codes)
_VALID = re.compile(r"84[1-9]\d{8,9}")


def normalise_phone(raw: str) -> str | None:
    """``0912 345 678``, ``+84 912345678``, ``84912345678`` → ``84912345678``; junk → None."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0084"):
        digits = digits[2:]
    if not digits.isdigit():
        return None
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    return digits if _VALID.fullmatch(digits) else None
