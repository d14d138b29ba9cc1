"""``planflow portal``: serve the units' portal; ``portal link`` / ``portal revoke`` a unit's
links."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import typer

portal_app = typer.Typer(
    help="Cổng thông tin cho đơn vị: chạy cổng, cấp đường dẫn mới, thu hồi đường dẫn.",
    invoke_without_command=True,
)


@portal_app.callback()
def portal(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="địa chỉ lắng nghe")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="cổng lắng nghe")] = 8080,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="số tiến trình")] = 1,
) -> None:
    """Chạy cổng thông tin cho đơn vị (đường dẫn gửi đi bắt đầu bằng PLANFLOW_PUBLIC_URL)."""
    if ctx.invoked_subcommand is not None:
        return
    from planflow.config.db import create_schema
    from planflow.config.settings import get_settings
    from planflow.portal.security import session_secret
    from planflow.portal.serving import serve

    create_schema()
    session_secret()  # written once here, not raced by the workers
    typer.echo(f"cổng thông tin cho đơn vị tại http://{host}:{port} (các đường dẫn trỏ tới "
               f"{get_settings().public_url})")
    serve(host, port, workers)


def _unit(session, code: str, tiers: int | None):
    from sqlmodel import select

    from planflow.models import OrgUnit
    from planflow.states import NotFound, ValidationFailed

    query = select(OrgUnit).where(OrgUnit.code == code)
    if tiers is not None:
        query = query.where(OrgUnit.tiers == tiers)
    found = list(session.exec(query))
    if not found:
        raise NotFound(
            f"không có đơn vị mã {code!r}" + (f" trong cây {tiers} cấp" if tiers else "")
        )
    if len(found) > 1:
        raise ValidationFailed(f"mã đơn vị {code!r} có ở cả hai cây: thêm --tiers 3 hoặc --tiers 2")
    return found[0]


TIERS_HELP = "3 hoặc 2, khi mã có ở cả hai cây"


@portal_app.command("link")
def link(
    unit_code: Annotated[str, typer.Argument(help="mã đơn vị (xem `planflow units tree`)")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="YYYY-MM-DD (mặc định: PLANFLOW_LINK_DAYS)")
    ] = None,
    tiers: Annotated[int | None, typer.Option("--tiers", help=TIERS_HELP)] = None,
) -> None:
    """In một đường dẫn truy cập mới cho đơn vị (các đường dẫn cũ vẫn dùng được)."""
    from planflow.config.db import create_schema, session_scope
    from planflow.models.time import local_tz, utcnow
    from planflow.notifications import links
    from planflow.states import ValidationFailed

    until = None
    if expires:
        try:
            day = date.fromisoformat(expires)
        except ValueError:
            raise ValidationFailed(
                f"--expires: {expires!r} không phải ngày dạng YYYY-MM-DD"
            ) from None
        until = datetime.combine(day, time.max, tzinfo=local_tz())
        if until <= utcnow():
            raise ValidationFailed(f"--expires: ngày {expires} đã qua")
    create_schema()
    with session_scope() as session:
        unit = _unit(session, unit_code, tiers)
        row, token = links.mint(session, unit.id, expires_at=until)
        label, ends = unit.label, row.expires_at.astimezone(local_tz())
    typer.echo(f"{label}: đường dẫn dùng được đến {ends:%d/%m/%Y %H:%M}")
    typer.echo(links.portal_url(token))


@portal_app.command("revoke")
def revoke(
    unit_code: Annotated[str, typer.Argument(help="mã đơn vị")],
    tiers: Annotated[int | None, typer.Option("--tiers", help=TIERS_HELP)] = None,
) -> None:
    """Thu hồi mọi đường dẫn của một đơn vị và các phiên đã mở bằng chúng."""
    from planflow.config.db import create_schema, session_scope
    from planflow.notifications import links

    create_schema()
    with session_scope() as session:
        unit = _unit(session, unit_code, tiers)
        count = links.revoke_all(session, unit.id)
        label = unit.label
    typer.echo(f"{label}: đã thu hồi {count} đường dẫn")
