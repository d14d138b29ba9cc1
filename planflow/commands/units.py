"""``planflow units``: load the administrative hierarchy and look at it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from planflow.vntext import LEVEL_VI, UNIT_KIND_VI, vn_int

if TYPE_CHECKING:
    from rich.console import Console
    from rich.tree import Tree
    from sqlmodel import Session

    from planflow.models import OrgUnit

units_app = typer.Typer(
    help="Cây đơn vị hành chính: UBND, cơ quan chuyên môn, tổ chức đoàn thể.",
    no_args_is_help=True,
)

TIERS_HELP = "3: tỉnh → huyện → xã (đến 30/6/2025); 2: tỉnh → xã (từ 1/7/2025)"


def _tiers(value: int | None) -> int | None:
    if value is not None and value not in (2, 3):
        raise typer.BadParameter(f"phải là 3 hoặc 2, không phải {value}", param_hint="--tiers")
    return value


def _console() -> Console:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: keep long official names on one line
        console.width = 240
    return console


@units_app.command("load")
def load(
    province: str = typer.Option(..., "--province", help='tên, mã thống kê hoặc "all" (mọi tỉnh)'),
    tiers: int = typer.Option(..., "--tiers", help=TIERS_HELP, callback=_tiers),
    demo_contacts: bool = typer.Option(
        False, "--demo-contacts", help="gán cho mỗi đơn vị e-mail, Zalo và số điện thoại giả định"
    ),
) -> None:
    """Nạp UBND, cơ quan chuyên môn và tổ chức đoàn thể của một tỉnh (hoặc mọi tỉnh)."""
    from planflow.config.db import create_schema, get_engine, session_scope
    from planflow.services.hierarchy import load_units, resolve_provinces

    refs = resolve_provinces(province, tiers)  # fail on a bad name before touching the database
    engine = get_engine()
    create_schema(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        result = load_units(
            session=session, province=province, tiers=tiers, demo_contacts=demo_contacts
        )

    seconds = time.perf_counter() - started
    what = refs[0].name if len(refs) == 1 else f"{len(refs)} tỉnh, thành phố"
    console = _console()
    console.print(
        f"[bold]{what}[/] ({tiers} cấp): tạo mới {vn_int(result.total_created)} đơn vị, "
        f"{vn_int(result.total_existing)} đã có ({vn_int(result.total_updated)} cập nhật), "
        f"trong {seconds:.1f} giây"
    )
    for level, kind, created, existing in result.rows():
        console.print(f"  {level.value:<9} {kind.value:<10} {vn_int(created):>6} mới "
                      f"{vn_int(existing):>6} đã có")


@units_app.command("reorganise")
def reorganise(
    province: str = typer.Option(..., "--province", help='tên, mã thống kê hoặc "all" (mọi tỉnh)'),
    on: str = typer.Option("2025-07-01", "--on", help="ngày việc sắp xếp có hiệu lực"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="in những gì sẽ chuyển, không thay đổi gì"
    ),
    cascade: bool = typer.Option(
        True,
        "--cascade/--no-cascade",
        help="sau đó phân cấp các kế hoạch đã chuyển xuống đơn vị mới",
    ),
) -> None:
    """Chuyển kế hoạch và yêu cầu còn mở của một tỉnh qua đợt sắp xếp đơn vị hành chính 1/7/2025."""
    from datetime import date

    from sqlmodel import Session

    from planflow.config.db import create_schema, get_engine
    from planflow.services import reorganise as service
    from planflow.services.cascade import cascade_plan
    from planflow.states.errors import ValidationFailed

    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise ValidationFailed(f"--on {on!r}: cần một ngày dạng 2025-07-01") from None
    engine = get_engine()
    create_schema(engine)
    console = _console()
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        result = service.reorganise(session=session, province=province, on=day)
        lines = service.describe(result, dry_run=dry_run)
        if dry_run:
            session.rollback()
        else:
            for plan_id in result.plans_transferred:  # what the hourly reconcile would do
                made = cascade_plan(session=session, plan_id=plan_id) if cascade else None
                if made is not None:
                    lines.append(f"  Kế hoạch {plan_id}: {made.created:,} kế hoạch cấp xã mới")
            session.commit()
    for line in lines:
        console.print(line, markup=False)
    console.print(f"[dim]{time.perf_counter() - started:.1f} giây[/]")


@units_app.command("provinces")
def provinces(tiers: int = typer.Option(3, "--tiers", help=TIERS_HELP, callback=_tiers)) -> None:
    """Liệt kê các tỉnh theo danh mục chính thức của mô hình 3 hoặc 2 cấp: mã, tên, tên mã."""
    from planflow.config.hierarchy_data import divisions
    from planflow.services.hierarchy import list_provinces

    console = _console()
    source = divisions(tiers).source
    console.print(
        f"[dim]{source['package']} {source['version']} (data {source['data_date']}), "
        f"{tiers} cấp[/]"
    )
    for ref in list_provinces(tiers):
        console.print(f"  {ref.code}  {ref.name}  [dim]{ref.codename}[/]")


@units_app.command("tree")
def tree(
    code: str | None = typer.Argument(None, help="mã đơn vị (01, 268, 01-labour) hoặc tên tỉnh"),
    tiers: int | None = typer.Option(None, "--tiers", help=TIERS_HELP, callback=_tiers),
    depth: int = typer.Option(1, "--depth", min=0, help="số cấp hiện dưới mỗi đơn vị"),
) -> None:
    """Hiện cây đơn vị đã nạp: số đơn vị và cấp đầu của mỗi tỉnh, hoặc cây con của một đơn vị."""
    from planflow.config.db import get_engine, session_scope
    from planflow.services import hierarchy
    from planflow.states.errors import NotFound

    console = _console()
    with session_scope(get_engine()) as session:
        if not _has_tables(session):
            raise NotFound(_nothing_loaded(tiers))
        if code is None:
            roots = hierarchy.loaded_provinces(session, tiers)
            if not roots:
                raise NotFound(_nothing_loaded(tiers))
        else:
            roots = _find_units(session, code, tiers)
        for root in roots:
            console.print(_render(session, root, depth))


def _has_tables(session: Session) -> bool:
    from sqlalchemy import inspect

    return inspect(session.connection()).has_table("org_unit")


def _nothing_loaded(tiers: int | None) -> str:
    scheme = f" {tiers} cấp" if tiers else ""
    return (
        f"chưa nạp đơn vị nào{scheme}; chạy: planflow units load --province TÊN_TỈNH "
        f"--tiers {tiers or 3}"
    )


def _find_units(session: Session, code: str, tiers: int | None) -> list[OrgUnit]:
    """The unit ``code`` names in each loaded scheme (or the one asked for)."""
    from planflow.services import hierarchy
    from planflow.states.errors import NotFound

    found: list[OrgUnit] = []
    for scheme in [tiers] if tiers else [3, 2]:
        try:
            found.append(hierarchy.get_unit(session, scheme, code))
            continue
        except NotFound:
            pass
        try:
            ref = hierarchy.find_province(code, scheme)
            found.append(hierarchy.get_unit(session, scheme, ref.code))
        except NotFound:
            pass
    if not found:
        which = f" {tiers} cấp" if tiers else ""
        raise NotFound(f"chưa nạp đơn vị {code!r} vào cây{which}; xem: planflow units tree")
    return found


def _render(session: Session, root: OrgUnit, depth: int) -> Tree:
    from rich.tree import Tree

    from planflow.services import hierarchy

    counts = ", ".join(
        f"{UNIT_KIND_VI.get(kind.value, kind.value)} {LEVEL_VI.get(level.value, level.value)} "
        f"{vn_int(n)}"
        for level, kind, n in hierarchy.tree_summary(session, root)
    )
    top = Tree(f"{_label(root)}\n[dim]{root.tiers} cấp · {counts}[/]")
    nodes = {root.id: top}
    for unit in hierarchy.subtree(session, root, depth)[1:]:
        parent = nodes.get(unit.parent_id)
        if parent is not None:
            nodes[unit.id] = parent.add(_label(unit))
    return top


def _label(unit: OrgUnit) -> str:
    from rich.markup import escape

    from planflow.models import UnitKind
    from planflow.services.hierarchy import standing_role

    label = f"{escape(unit.label)} [dim]{escape(f'[{unit.code}]')}[/]"
    if unit.kind == UnitKind.mass_org:
        label += " [dim](tổ chức chính trị - xã hội)[/]"
    elif unit.kind == UnitKind.agency and unit.role_key == standing_role(unit.tiers, unit.level):
        label += " [bold](cơ quan thường trực)[/]"
    return label
