"""Messages from the Jinja2 templates: subject, plain text, HTML, and a Zalo-sized text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from planflow.models.outbox import MessageKind
from planflow.vntext import cap, uncap, vn_date

# Zalo OA rejects a consultation text over 2,000 characters; longer texts become summary + link.
ZALO_TEXT_LIMIT = 2000
# ZNS template parameters are short fields of an approved template; we cut each to this length.
ZNS_PARAM_LIMIT = 100


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    """The templates' environment: HTML autoescaped, every variable required."""
    env = Environment(
        loader=PackageLoader("planflow.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vn_date"] = vn_date
    env.filters["cap"] = cap
    env.filters["uncap"] = uncap
    return env


def render(kind: MessageKind | str, context: dict[str, Any]) -> Rendered:
    """Render ``<kind>.txt`` (with its ``subject`` block) and ``<kind>.html``."""
    env = environment()
    text_template = env.get_template(f"{kind}.txt")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(context)))
    subject = " ".join(subject.split())
    text = text_template.render(context)
    html = env.get_template(f"{kind}.html").render({**context, "subject": subject})
    return Rendered(subject=subject, text=text.strip() + "\n", html=html)


def fit_text(text: str, link: str, *, limit: int = ZALO_TEXT_LIMIT) -> str:
    """``text`` if it fits in ``limit`` characters, else its first whole lines and a link."""
    text = text.strip()
    if len(text) <= limit:
        return text
    lines = text.splitlines()
    for count in range(len(lines) - 1, 0, -1):
        tail = f"… (còn {len(lines) - count} dòng; xem đầy đủ tại: {link})"
        head = "\n".join(lines[:count]).rstrip()
        if len(head) + 1 + len(tail) <= limit:
            return f"{head}\n{tail}"
    tail = f"… (xem đầy đủ tại: {link})"  # one huge line: cut it by characters
    return f"{text[: max(limit - len(tail) - 1, 0)]}\n{tail}"[:limit]


def zns_params(*, unit: str, subject: str, deadline: date | None, link: str) -> dict[str, str]:
    """The data of the approved ZNS template: ``unit_name``, ``subject``, ``deadline``, ``link``."""
    values = {"unit_name": unit, "subject": subject, "deadline": _zns_date(deadline), "link": link}
    return {k: v[:ZNS_PARAM_LIMIT] for k, v in values.items()}


def _zns_date(value: date | None) -> str:
    # a ZNS template's date parameter is validated as dd/mm/yyyy: a format, not wording
    return value.strftime("%d/%m/%Y") if value else ""
