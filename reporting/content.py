"""What the report says, shared by the DOCX and the XLSX: the form II.06a columns, the KPI labels and
the ranking of units. Figures are the marts' columns; the only arithmetic is the difference of two rates."""

from __future__ import annotations

from reporting.data import ReportData

NO_DATA = "chưa có số liệu"

# Form II.06a (Thông tư 01/2023/TT-VPCP): (group, label, mart column)
FORM_II06A: list[tuple[str, str, str]] = [
    ("Số hồ sơ tiếp nhận", "Tổng số", "received_total"),
    ("Số hồ sơ tiếp nhận", "Trực tuyến", "received_online"),
    ("Số hồ sơ tiếp nhận", "Trực tiếp và dịch vụ bưu chính", "received_direct_or_postal"),
    ("Số hồ sơ tiếp nhận", "Từ kỳ trước chuyển qua", "carried_over"),
    ("Số hồ sơ đã giải quyết", "Tổng số", "resolved_total"),
    ("Số hồ sơ đã giải quyết", "Trước hạn", "resolved_ahead"),
    ("Số hồ sơ đã giải quyết", "Đúng hạn", "resolved_on_time"),
    ("Số hồ sơ đã giải quyết", "Quá hạn", "resolved_late"),
    ("Số hồ sơ đang giải quyết", "Tổng số", "in_progress_total"),
    ("Số hồ sơ đang giải quyết", "Trong hạn", "in_progress_on_time"),
    ("Số hồ sơ đang giải quyết", "Quá hạn", "in_progress_overdue"),
]

# The rates of domain.md §3 shown against the previous period and the same period last year.
DOSSIER_RATES: list[tuple[str, str]] = [
    ("on_time_rate", "Tỷ lệ hồ sơ giải quyết trước và đúng hạn"),
    ("processing_on_time_rate", "Tỷ lệ hồ sơ đúng hạn (đã và đang giải quyết)"),
    ("online_rate", "Tỷ lệ hồ sơ tiếp nhận trực tuyến"),
    ("online_full_rate", "Tỷ lệ hồ sơ trực tuyến toàn trình"),
    ("digitization_rate", "Tỷ lệ số hóa hồ sơ"),
    ("online_payment_rate", "Tỷ lệ thanh toán trực tuyến"),
    ("apology_rate", "Tỷ lệ hồ sơ trễ hạn có phiếu xin lỗi"),
    ("satisfaction_rate", "Tỷ lệ hài lòng của người dân, doanh nghiệp"),
]

TARGET_LABELS = {
    "online_full_rate": "Dịch vụ công trực tuyến toàn trình",
    "digitization_rate": "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    "online_payment_rate": "Thanh toán trực tuyến",
}

# Headline KPIs for the weakest units: (rate, label, the count behind the rate)
HEADLINE_KPIS: list[tuple[str, str, str]] = [
    ("on_time_rate", "giải quyết trước và đúng hạn", "resolved_total"),
    ("online_full_rate", "tiếp nhận trực tuyến toàn trình", "received_in_period"),
    ("digitization_rate", "số hóa hồ sơ", "received_in_period"),
    ("online_payment_rate", "thanh toán trực tuyến", "received_with_fee"),
    ("satisfaction_rate", "hài lòng", "rated_total"),
]
DENOMINATOR = {rate: count for rate, _, count in HEADLINE_KPIS}

LEVEL_LABELS = {"province": "Cấp tỉnh", "department": "Sở, ban, ngành", "district": "Cấp huyện",
                "commune": "Cấp xã"}

REPORT_STATUS_LABELS = {
    "on_time": "đúng hạn", "late": "trễ hạn", "missing": "không gửi", "awaited": "chưa đến hạn, chưa nhận",
    "not_required": "không phải báo cáo",
}


def difference(current, other):
    return None if current is None or other is None else current - other


def subject(data: ReportData) -> str:
    return f"Kết quả thực hiện công tác cải cách hành chính {data.period_name(data.key)}"


def ranked(data: ReportData, rate: str, min_dossiers: int) -> list[dict]:
    """Units of the period with at least `min_dossiers` behind the rate, weakest first (ties by code)."""
    count = DENOMINATOR.get(rate, "resolved_total")
    rows = [u for u in data.procedure_units
            if u.get(rate) is not None and (u.get(count) or 0) >= min_dossiers]
    return sorted(rows, key=lambda u: (u[rate], u["unit_code"]))


def short_name(name: str) -> str:
    return name.removeprefix("UBND ")
