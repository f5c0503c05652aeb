"""What the report says, shared by the DOCX and the XLSX: the form II.06a columns, the KPI labels and
the ranking of units. Figures are the marts' columns; the only arithmetic is the difference of two rates."""

from __future__ import annotations

import re
from datetime import timedelta

from reformwh import formatting as fmt
from reporting.data import ReportData

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

# The rows of form II.06a by level of government (the form's "cấp tỉnh" includes the departments).
FORM_LEVELS: list[tuple[str, tuple[str, ...]]] = [
    ("Cấp tỉnh", ("province", "department")), ("Cấp huyện", ("district",)), ("Cấp xã", ("commune",))]

# gap_type of marts.evidence_gaps as the office writes it
GAP_LABELS = {
    "NO_EVIDENCE": "không có tài liệu kiểm chứng",
    "FILE_MISSING": "tệp không có trong hồ sơ",
    "FILE_EMPTY": "tệp rỗng",
    "DOCUMENT_NOT_FOUND": "văn bản không có trong sổ văn bản",
    "DOCUMENT_UNVERIFIABLE": "không có sổ văn bản để đối chiếu",
    "DOCUMENT_AFTER_SUBMISSION": "văn bản ban hành sau ngày gửi báo cáo",
    "INVALID_SCORE": "điểm tự chấm không hợp lệ",
    "REPORT_MISSING": "không gửi báo cáo",
    "REPORT_LATE": "gửi báo cáo trễ hạn",
}
# report discipline, told apart from evidence in section I
REPORT_GAPS = ("REPORT_MISSING", "REPORT_LATE")

LEVEL_LABELS = {"province": "Cấp tỉnh", "department": "Sở, ban, ngành", "district": "Cấp huyện",
                "commune": "Cấp xã"}


def difference(current, other):
    """The change between two rates as printed: both rounded to the printed two decimals first, so that
    92,75% − 94,14% reads −1,39 and never disagrees with the figures beside it."""
    if current is None or other is None:
        return None
    return fmt.rounded_rate(current) - fmt.rounded_rate(other)


def count_change(current, other):
    """The relative change of a count (0,123 = +12,3%); None when there is nothing to compare with."""
    if current is None or not other:
        return None
    return (current - other) / other


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


def compared_periods(data: ReportData) -> list[tuple[str, str]]:
    """(period key, column label) of the periods the rates are compared with: the previous period and the
    same period last year, once only when they are the same period (the annual report's previous year)."""
    if data.previous_key and data.previous_key == data.last_year_key:
        return [(data.last_year_key, "Năm trước")]
    return [(key, label) for key, label in ((data.previous_key, "Kỳ trước"),
                                            (data.last_year_key, "Cùng kỳ năm trước")) if key]


def annex_numbers(data: ReportData) -> list[str]:
    """The annexes the workbook holds (V, the self-assessment scores, only in the annual report)."""
    return ["I", "II", "III", "IV", "V"] if data.is_annual else ["I", "II", "III", "IV"]


def annex_range(data: ReportData) -> str:
    numbers = annex_numbers(data)
    return f"Phụ lục {numbers[0]}–{numbers[-1]}"


def unit_name(data: ReportData, code: str) -> str:
    unit = data.unit_directory.get(code)
    return unit["unit_name"] if unit else code


def merged_label(data: ReportData, code: str) -> str | None:
    """"đã hợp nhất vào … từ …" for a unit that no longer exists at the end of the period, else None."""
    unit = data.unit_directory.get(code)
    if code in data.existing_at_end or unit is None or unit["valid_to"] is None:
        return None
    since = fmt.short_date(unit["valid_to"] + timedelta(days=1))
    if unit["successor_code"]:
        return f"đã hợp nhất vào {unit['successor_name'] or unit['successor_code']} từ {since}"
    return f"đã giải thể từ {since}"


def evidence_gaps_by_unit(data: ReportData) -> dict[str, list[dict]]:
    """The gaps that flag a unit for missing evidence (the mart's flags_unit), apart from report discipline
    (not sent, sent late), which section I states on its own — by unit code, in the mart's order."""
    units: dict[str, list[dict]] = {}
    for gap in data.evidence_gaps or []:
        if gap["gap_type"] in REPORT_GAPS or not gap.get("flags_unit", True):
            continue
        units.setdefault(gap["unit_code"], []).append(gap)
    return units



def gap_subject(gap: dict) -> str:
    """What a gap is about, as the office reads it: "Tiêu chí 1.1.1 (Ban hành kế hoạch CCHC năm …)", "Chỉ số
    TTHC_SO_RA_SOAT (Số TTHC được rà soát, …)" — the catalog's code and name — or "Báo cáo" for the report itself."""
    for kind, code, name in (("Tiêu chí", "criterion_code", "criterion_name"),
                             ("Chỉ số", "indicator_code", "indicator_name")):
        if gap.get(code):
            return f"{kind} {gap[code]}" + (f" ({gap[name]})" if gap.get(name) else "")
    return "Báo cáo"


def gap_summary(gaps: list[dict]) -> str:
    """"2 tệp không có trong hồ sơ; 1 tệp rỗng": what is missing, by kind, in Vietnamese."""
    kinds: dict[str, int] = {}
    for gap in gaps:
        label = GAP_LABELS.get(gap["gap_type"], gap["gap_type"])
        kinds[label] = kinds.get(label, 0) + 1
    return "; ".join(f"{fmt.count(n)} nội dung {label}" if label.startswith(("không", "điểm")) else
                     f"{fmt.count(n)} {label}" for label, n in kinds.items())


# ingestion's quarantine reasons (English, for operators) as the office writes them, for the gaps that quote one
_DETAILS_EN = [
    (re.compile(r"^(?P<field>[^:]+): '(?P<value>[^']*)' is outside the criterion's range "
                r"\[(?P<lo>[^,]+), (?P<hi>[^]]+)\]$"),
     lambda m: f"{m['field']} {m['value']} ngoài thang điểm của tiêu chí (từ {m['lo']} đến {m['hi']} điểm)"),
    (re.compile(r"^(?P<field>[^:]+): '(?P<value>[^']*)' is not a (whole )?number$"),
     lambda m: f"{m['field']} \"{m['value']}\" không phải là số"),
]


def gap_detail(gap: dict) -> str | None:
    """The mart's detail of a gap, in Vietnamese (the few quarantine reasons it quotes are translated)."""
    detail = gap.get("detail")
    for pattern, vietnamese in _DETAILS_EN:
        match = pattern.match(detail or "")
        if match:
            return vietnamese(match)
    return detail
