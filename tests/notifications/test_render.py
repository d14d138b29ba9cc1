"""Templates: formal register, strict variables, escaped HTML, Zalo-sized texts."""

from __future__ import annotations

from datetime import date

import pytest
from jinja2 import UndefinedError

from planflow.models import OrgUnit, ReportKind, UnitKind
from planflow.notifications.compose import report_title, verb_for
from planflow.notifications.phones import normalise_phone
from planflow.notifications.render import ZALO_TEXT_LIMIT, fit_text, render

BASE = {
    "recipient": "UBND phường Văn Quán",
    "link": "https://planflow.example.vn/requests/1",
    "issuer": "UBND quận Hà Đông",
    "plan_ref": "Kế hoạch số 70/KH-UBND ngày 17/02/2025 của UBND quận Hà Đông",
    "report": "báo cáo kết quả thực hiện 6 tháng đầu năm 2025",
    "deadline": date(2025, 5, 30),
    "to": "Phòng Lao động - Thương binh và Xã hội quận Hà Đông",
    "verb": "yêu cầu",
}


def test_subordinate_units_are_required_and_mass_organisations_requested():
    ward = OrgUnit(tiers=3, code="W", name="phường Văn Quán", level="ward", kind=UnitKind.committee)
    union = OrgUnit(
        tiers=3,
        code="H",
        name="Hội LHPN quận",
        level="district",
        kind=UnitKind.mass_org,
        subordinate=False,
    )
    assert verb_for(ward) == "yêu cầu"
    assert verb_for(union) == "đề nghị"
    assert verb_for(ward, requested=True) == "đề nghị"


def test_report_titles_name_the_period():
    assert report_title(ReportKind.annual, "2025") == "báo cáo kết quả thực hiện năm 2025"
    assert "6 tháng đầu năm 2024" in report_title(ReportKind.six_month, "2024-H1")


def test_reminder_renders_subject_text_and_html():
    out = render("reminder", {**BASE, "due_today": False, "days_left": 3})
    assert (
        out.subject == "Nhắc hạn: Báo cáo kết quả thực hiện 6 tháng đầu năm 2025 (hạn 30/5/2025)"
    )
    assert out.text.startswith("Kính gửi: UBND phường Văn Quán")
    assert "yêu cầu UBND phường Văn Quán gửi báo cáo" in out.text
    assert "<strong>3</strong> ngày làm việc" in out.html


def test_missing_variable_is_an_error_not_a_blank():
    context = dict(BASE)
    del context["deadline"]
    with pytest.raises(UndefinedError):
        render("reminder", {**context, "due_today": False, "days_left": 3})


def test_html_is_escaped_but_text_is_not():
    out = render("returned", {**BASE, "reason": "Thiếu số liệu <b>tách biệt giới</b> & tỷ lệ"})
    assert "&lt;b&gt;tách biệt giới&lt;/b&gt; &amp; tỷ lệ" in out.html
    assert "<b>tách biệt giới</b> & tỷ lệ" in out.text


def test_long_text_becomes_a_summary_with_a_link_within_the_zalo_limit():
    rows = [
        {
            "unit": f"UBND phường số {i}",
            "report": BASE["report"],
            "plan_ref": BASE["plan_ref"],
            "deadline": date(2025, 5, 30),
            "days_late": 3,
        }
        for i in range(60)
    ]
    text = render("escalation", {**BASE, "items": rows, "today": date(2025, 6, 4)}).text
    assert len(text) > ZALO_TEXT_LIMIT
    fitted = fit_text(text, BASE["link"])
    assert len(fitted) <= ZALO_TEXT_LIMIT
    assert fitted.endswith(f"xem đầy đủ tại: {BASE['link']})")
    assert fitted.startswith("Kính gửi: UBND phường Văn Quán")
    assert fit_text("ngắn", BASE["link"]) == "ngắn"
    assert len(fit_text("x" * 5000, BASE["link"])) <= ZALO_TEXT_LIMIT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 345 678", "84912345678"),
        ("+84 912345678", "84912345678"),
        ("84912345678", "84912345678"),
        ("0912.345.678", "84912345678"),
        ("(+84) 98-765-4321", "84987654321"),
        ("0084912345678", "84912345678"),
        ("024 3826 1234", "842438261234"),
        ("", None),
        ("không có", None),
        ("12345", None),
        ("0012 345 678", None),
        ("+1 650 253 0000", None),
    ],
)
def test_phone_numbers_are_normalised_to_84_form(raw, expected):
    assert normalise_phone(raw) == expected
