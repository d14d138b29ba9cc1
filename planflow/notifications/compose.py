"""From domain rows to drafts: wording helpers, each unit's addresses, one draft per address."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session

from planflow.config.settings import get_settings
from planflow.models import OrgUnit, Plan, ReportKind, Role
from planflow.models.outbox import MessageKind
from planflow.notifications import links
from planflow.notifications.outbox import Draft, make_key
from planflow.notifications.phones import normalise_phone
from planflow.notifications.render import fit_text, render, zns_params
from planflow.vntext import vn_date

ROLE_LABELS = {Role.lead: "chủ trì", Role.coordinate: "phối hợp"}


def verb_for(unit: OrgUnit, *, requested: bool = False) -> str:
    """Subordinate units are required ("yêu cầu"); mass organisations are asked ("đề nghị")."""
    return "đề nghị" if requested or not unit.subordinate else "yêu cầu"


def report_title(kind: ReportKind | str, period: str) -> str:
    """How a letter names a report, mid-sentence: ``báo cáo kết quả thực hiện năm 2025``."""
    year = period.split("-")[0]
    titles = {
        ReportKind.sub_plan: "kế hoạch thực hiện của đơn vị",
        ReportKind.six_month: f"báo cáo kết quả thực hiện 6 tháng đầu năm {year}",
        ReportKind.annual: f"báo cáo kết quả thực hiện năm {year}",
        ReportKind.ad_hoc: f"báo cáo đột xuất ({period})",
    }
    return titles.get(ReportKind(kind), f"báo cáo {period}")


def plan_doc(plan: Plan) -> str:
    """``Kế hoạch số 70/KH-UBND ngày 17/02/2024``, or the plan by its title while unnumbered."""
    noun = "Kế hoạch" if plan.kind == "plan" else "Chương trình"
    if plan.number:
        issued = f" ngày {vn_date(plan.issued_on)}" if plan.issued_on else ""
        return f"{noun} số {plan.number}{issued}"
    return f"{noun} «{plan.title}»"


def plan_ref(plan: Plan, issuer: OrgUnit) -> str:
    """``Kế hoạch số 70/KH-UBND ngày 17/02/2024 của UBND quận Hà Đông``."""
    return f"{plan_doc(plan)} của {issuer.label}"


def addresses(unit: OrgUnit, channel: str) -> list[str]:
    """Where ``channel`` reaches ``unit``: its e-mails, Zalo user ids or phones, de-duplicated."""
    if channel == "file":
        # the demo writes one file per unit and message, addressed like the e-mail would be
        return [unit.emails[0].strip() if unit.emails else f"{unit.code.lower()}@don-vi.invalid"]
    raw = {"email": unit.emails, "zalo": unit.zalo_user_ids, "zns": unit.phones}.get(channel, [])
    seen: dict[str, None] = {}
    for value in raw or []:
        value = (value or "").strip()
        if channel == "zns":
            value = normalise_phone(value) or value  # junk stays as is: the channel refuses it
        if value:
            seen.setdefault(value, None)
    return list(seen)


def drafts_for_unit(
    session: Session,
    unit: OrgUnit,
    *,
    kind: MessageKind,
    about: str,
    context: dict[str, Any],
    channels: Sequence[str],
    path: str,
    deadline: date | None = None,
) -> list[Draft]:
    """Render ``kind`` for ``unit`` once; one draft per channel and address, keyed by ``about``.

    The message carries a fresh access link to the units' portal, landing on ``path``."""
    targets = [(c, a) for c in channels for a in addresses(unit, c)]
    if not targets:
        return []
    link, token = links.new_link(unit.id)  # type: ignore[arg-type]  # stored by enqueue
    url = links.portal_url(token, path)
    rendered = render(kind, {"recipient": unit.label, "link": url, **context})
    drafts = []
    for channel, address in targets:
        html = rendered.html if channel in ("email", "file") else None
        text = rendered.text if html else fit_text(rendered.text, url)
        params = (
            zns_params(unit=unit.label, subject=rendered.subject, deadline=deadline, link=url)
            if channel == "zns"
            else {}
        )
        drafts.append(
            Draft(
                key=make_key(about, channel, address),
                kind=kind,
                unit_id=unit.id,  # type: ignore[arg-type]
                channel=channel,
                address=address,
                subject=rendered.subject,
                body_text=text,
                body_html=html,
                params=params,
                link=link,
            )
        )
    return drafts


def configured_channels(channels: Iterable[str] | None) -> list[str]:
    """The channels to write messages for: the given ones, else ``PLANFLOW_CHANNELS``."""
    return list(channels) if channels is not None else get_settings().channel_names
