"""Synthetic one-stop-shop exports (hồ sơ TTHC) for the sample province, for demos, tests and benchmarks.

The generator simulates every dossier's life (registration, receipt, supplement and fee requests, transfer
to a successor unit, finish, hand-over, apology, rating) against the reference data (units registry and
holidays), then writes the snapshots an export system would have produced: monthly full extractions,
daily partial ones, in every accepted file format and with the date, code and label variants real exports
show, plus a low rate of every kind of bad row of spec/sources.md §5 and three files that must be rejected.

Every record shows a dossier as of its file's extraction time (the time in the file name; a date alone
means 23:59:59 of that day), so no valid row carries an event after it. Standard library plus openpyxl.

    write_samples(out_dir, scale=1.0, seed=20250101)   -> paths under out_dir/one_stop_shop/
    generate_samples(...)                                -> the same, with per-file row and bad-row counts
    write_dossier_csv(path, rows, seed=1)              -> one large, valid CSV export (benchmark)
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import random
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

__all__ = [
    "BAD_ROW_KINDS",
    "DEFAULT_REFERENCE_DIR",
    "HEADERS",
    "LAST_EXTRACTION",
    "SampleReport",
    "generate_samples",
    "write_dossier_csv",
    "write_samples",
]

from reformwh.settings import DEFAULT_REFERENCE_DIR  # noqa: E402

FIRST_DAY = date(2024, 1, 1)
LAST_EXTRACTION = datetime(2025, 12, 20, 18, 0, 0)
DOSSIERS_AT_SCALE_1 = 40_000

# Contract headers (spec/sources.md §1), in the order the usual export writes them, and the portal names.
HEADERS = [
    "Mã hồ sơ",
    "Mã TTHC",
    "Tên TTHC",
    "Mã lĩnh vực",
    "Tên lĩnh vực",
    "Mã đơn vị",
    "Kênh thực hiện",
    "Mức độ DVC",
    "Chủ hồ sơ",
    "Số giấy tờ",
    "Số điện thoại",
    "Email",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày kết thúc xử lý",
    "Ngày trả kết quả",
    "Ngày từ chối",
    "Trạng thái",
    "Số hóa thành phần",
    "Thanh toán trực tuyến",
    "Lệ phí",
    "Số lần bổ sung",
    "Phiếu xin lỗi",
    "Mức độ hài lòng",
]
_EVENT_KEYS = ("finished", "returned", "refused")
EXTRA_HEADERS = ["Cán bộ tiếp nhận", "Ghi chú"]

STATUS_LABELS = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
CHANNEL_LABELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}
OPEN_STATUSES = (1, 2, 4, 5, 6)
TERMINAL_STATUSES = (7, 8, 9, 10)

BAD_ROW_KINDS = (
    "empty_required",  # a required value is empty
    "bad_date",  # a date that does not parse (31/02, month 13, ...)
    "bad_number",  # an amount or count that does not parse
    "unknown_unit",  # a unit code not in the registry
    "unit_not_valid",  # a unit code in the registry but not valid on the receipt date
    "due_before_received",
    "terminal_without_end",  # status 7/8/9/10 with no finish, return or refusal date
    "event_after_extraction",  # an event dated after the file's extraction time
    "duplicate_conflict",  # the same dossier code twice in one file with different content (both rows)
)
BAD_ROW_RATE = 0.003  # per row and kind


# --------------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    idx: int
    code: str
    name: str
    level: str
    parent: str
    valid_from: date
    valid_to: date  # date.max when open
    successor: str
    has_procedures: bool


class _Registry:
    """The units registry (units.csv) with the look-ups the generator needs."""

    def __init__(self, reference_dir: Path):
        with open(reference_dir / "units.csv", encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        self.versions: list[_Version] = []
        for i, row in enumerate(rows):
            r = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            self.versions.append(
                _Version(
                    idx=i,
                    code=r["unit_code"],
                    name=r["unit_name"],
                    level=r["unit_level"],
                    parent=r.get("parent_code", ""),
                    valid_from=date.fromisoformat(r["valid_from"]) if r["valid_from"] else date.min,
                    valid_to=date.fromisoformat(r["valid_to"]) if r.get("valid_to") else date.max,
                    successor=r.get("successor_code", ""),
                    has_procedures=r.get("has_procedures", "true").lower() in ("true", "1", "yes", "t"),
                )
            )
        self.by_code: dict[str, list[_Version]] = {}
        for v in self.versions:
            self.by_code.setdefault(v.code, []).append(v)
        for vs in self.by_code.values():
            vs.sort(key=lambda v: v.valid_from)
        self.codes = list(self.by_code)
        self.predecessors: dict[str, list[str]] = {}
        for code, vs in self.by_code.items():
            last = vs[-1]
            if last.successor and last.valid_to != date.max:
                self.predecessors.setdefault(last.successor, []).append(code)
        province = [v for v in self.versions if v.level == "province"]
        self.province_name = province[0].name if province else "UBND tỉnh"
        communes_per_district = {}
        for v in self.versions:
            if v.level == "commune" and self.level_of_parent(v) == "district":
                communes_per_district.setdefault(v.parent, set()).add(v.code)
        sizes = [len(s) for s in communes_per_district.values()]
        self.avg_communes_per_district = (sum(sizes) / len(sizes)) if sizes else 10.0

    def level_of_parent(self, version: _Version) -> str:
        parents = self.by_code.get(version.parent)
        return parents[0].level if parents else ""

    def valid(self, code: str, day: date) -> _Version | None:
        for v in self.by_code.get(code, ()):
            if v.valid_from <= day <= v.valid_to:
                return v
        return None

    def valid_versions(self, day: date) -> list[_Version]:
        return [v for v in self.versions if v.valid_from <= day <= v.valid_to]

    def last_valid_to(self, code: str) -> date:
        return self.by_code[code][-1].valid_to

    def size(self, code: str, day: date) -> int:
        """1 + the codes merged into this one (transitively) before `day`."""
        total = 1
        for p in self.predecessors.get(code, ()):
            if self.last_valid_to(p) < day:
                total += self.size(p, day)
        return total

    def absorbed_names(self, code: str, day: date) -> list[str]:
        names = []
        for p in self.predecessors.get(code, ()):
            if self.last_valid_to(p) < day:
                names.extend(v.name for v in self.by_code[p])
                names.extend(self.absorbed_names(p, day))
        return names


class _Calendar:
    """Working days: Monday to Friday, except the holidays of holidays.csv."""

    def __init__(self, reference_dir: Path):
        self.holidays: set[date] = set()
        path = reference_dir / "holidays.csv"
        if path.exists():
            with open(path, encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    value = (row.get("date") or "").strip()
                    if value:
                        self.holidays.add(date.fromisoformat(value))
        self._working: dict[date, bool] = {}
        self._ordinal: dict[date, int] = {}
        self._days: list[date] = []
        day = date(2019, 1, 1)
        while day <= date(2029, 12, 31):
            ok = day.weekday() < 5 and day not in self.holidays
            self._working[day] = ok
            if ok:
                self._ordinal[day] = len(self._days)
                self._days.append(day)
            day += timedelta(days=1)

    def is_working(self, day: date) -> bool:
        w = self._working.get(day)
        if w is None:
            return day.weekday() < 5 and day not in self.holidays
        return w

    def next_working(self, day: date) -> date:
        while not self.is_working(day):
            day += timedelta(days=1)
        return day

    def add(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n >= 0; n = 0 gives `day` itself if it is a working day)."""
        if n <= 0:
            return self.next_working(day)
        start = day + timedelta(days=1)
        start = self.next_working(start)
        i = self._ordinal.get(start)
        if i is not None and i + n - 1 < len(self._days):
            return self._days[i + n - 1]
        d = start
        for _ in range(n - 1):
            d = self.next_working(d + timedelta(days=1))
        return d

    def between(self, a: date, b: date) -> int:
        """Working days in (a, b]."""
        if b <= a:
            return 0
        count = 0
        d = a + timedelta(days=1)
        while d <= b:
            count += self.is_working(d)
            d += timedelta(days=1)
        return count


# --------------------------------------------------------------------------------------------------
# Procedures
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Proc:
    code: str
    name: str
    field_code: str
    field_name: str
    days: int  # processing time in working days
    fees: tuple[int, ...]
    level: str  # "Toàn trình", "Một phần" or "" (not offered online)
    weight: float
    scope: str  # "commune", "district" or "dept:<keyword>"


_P = _Proc
PROCEDURES: list[_Proc] = [
    # commune level
    _P("1.001193", "Đăng ký khai sinh", "HT", "Hộ tịch", 1, (0,), "Toàn trình", 3.0, "commune"),
    _P("1.000656", "Đăng ký khai tử", "HT", "Hộ tịch", 1, (0,), "Toàn trình", 1.0, "commune"),
    _P("1.000894", "Đăng ký kết hôn", "HT", "Hộ tịch", 1, (0,), "Một phần", 1.0, "commune"),
    _P("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "HT", "Hộ tịch", 3, (0,), "Toàn trình", 1.5, "commune"),
    _P(
        "2.000908",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp",
        "CT",
        "Chứng thực",
        1,
        (0, 10_000, 20_000, 50_000),
        "Một phần",
        5.0,
        "commune",
    ),
    _P(
        "2.000884",
        "Chứng thực chữ ký trong các giấy tờ, văn bản",
        "CT",
        "Chứng thực",
        1,
        (10_000,),
        "Một phần",
        1.5,
        "commune",
    ),
    _P(
        "2.001035",
        "Chứng thực hợp đồng, giao dịch liên quan đến quyền sử dụng đất, nhà ở",
        "CT",
        "Chứng thực",
        2,
        (50_000, 100_000),
        "Một phần",
        1.0,
        "commune",
    ),
    _P(
        "1.001776",
        "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng",
        "BTXH",
        "Bảo trợ xã hội",
        12,
        (0,),
        "Một phần",
        0.6,
        "commune",
    ),
    # district level (communes from the end of the district level)
    _P(
        "1.004227",
        "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở "
        "hữu tài sản gắn liền với đất lần đầu",
        "DD",
        "Đất đai",
        20,
        (100_000, 200_000, 500_000),
        "Một phần",
        14.0,
        "district",
    ),
    _P(
        "1.005399",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do chuyển "
        "nhượng, tặng cho, thừa kế",
        "DD",
        "Đất đai",
        10,
        (50_000, 100_000, 200_000),
        "Một phần",
        24.0,
        "district",
    ),
    _P(
        "1.002255",
        "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền",
        "DD",
        "Đất đai",
        15,
        (500_000, 1_000_000, 2_000_000),
        "Một phần",
        5.0,
        "district",
    ),
    _P(
        "1.009794",
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        "XD",
        "Hoạt động xây dựng",
        15,
        (75_000,),
        "Toàn trình",
        6.0,
        "district",
    ),
    _P(
        "2.000720",
        "Đăng ký thành lập hộ kinh doanh",
        "HKD",
        "Thành lập và hoạt động của hộ kinh doanh",
        3,
        (100_000,),
        "Toàn trình",
        8.0,
        "district",
    ),
    _P(
        "1.000593",
        "Đăng ký kết hôn có yếu tố nước ngoài",
        "HT",
        "Hộ tịch",
        10,
        (1_000_000,),
        "Một phần",
        0.5,
        "district",
    ),
    _P(
        "2.000620",
        "Cấp Giấy phép bán lẻ sản phẩm rượu",
        "LTHH",
        "Lưu thông hàng hóa trong nước",
        10,
        (1_200_000,),
        "Toàn trình",
        1.5,
        "district",
    ),
    # departments, by a keyword of the unit's name
    _P(
        "1.008377",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        "LLTP",
        "Lý lịch tư pháp",
        10,
        (200_000,),
        "Toàn trình",
        60.0,
        "dept:Tư pháp",
    ),
    _P(
        "1.001877",
        "Đăng ký hoạt động Văn phòng công chứng",
        "CC",
        "Công chứng",
        10,
        (1_000_000,),
        "Một phần",
        2.0,
        "dept:Tư pháp",
    ),
    _P(
        "2.001610",
        "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên",
        "DKKD",
        "Thành lập và hoạt động của doanh nghiệp",
        3,
        (50_000,),
        "Toàn trình",
        25.0,
        "dept:Kế hoạch và Đầu tư",
    ),
    _P(
        "2.002037",
        "Đăng ký thay đổi nội dung đăng ký doanh nghiệp",
        "DKKD",
        "Thành lập và hoạt động của doanh nghiệp",
        3,
        (50_000,),
        "Toàn trình",
        35.0,
        "dept:Kế hoạch và Đầu tư",
    ),
    _P(
        "1.002809",
        "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
        "GTVT",
        "Giao thông vận tải",
        5,
        (135_000,),
        "Toàn trình",
        60.0,
        "dept:Giao thông",
    ),
    _P(
        "1.002861",
        "Cấp phù hiệu xe ô tô kinh doanh vận tải",
        "GTVT",
        "Giao thông vận tải",
        2,
        (0,),
        "Toàn trình",
        15.0,
        "dept:Giao thông",
    ),
    _P(
        "1.000459",
        "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
        "LD",
        "Việc làm",
        5,
        (600_000,),
        "Toàn trình",
        10.0,
        "dept:Lao động",
    ),
    _P(
        "1.001978",
        "Giải quyết chế độ ưu đãi đối với người có công với cách mạng",
        "NCC",
        "Người có công",
        12,
        (0,),
        "Một phần",
        8.0,
        "dept:Lao động",
    ),
    _P(
        "1.004203",
        "Đăng ký biến động đất đai, tài sản gắn liền với đất đối với tổ chức",
        "DD",
        "Đất đai",
        10,
        (500_000, 1_000_000),
        "Một phần",
        12.0,
        "dept:Tài nguyên",
    ),
    _P(
        "1.000987",
        "Cấp giấy phép khai thác, sử dụng nước dưới đất",
        "TNN",
        "Tài nguyên nước",
        30,
        (1_500_000,),
        "Một phần",
        2.0,
        "dept:Tài nguyên",
    ),
    _P(
        "1.003625",
        "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở sản xuất, kinh doanh "
        "nông, lâm, thủy sản",
        "NLTS",
        "Quản lý chất lượng nông lâm sản và thủy sản",
        15,
        (700_000,),
        "Toàn trình",
        6.0,
        "dept:Nông nghiệp",
    ),
    _P(
        "1.009972",
        "Cấp giấy phép xây dựng mới đối với công trình cấp II, cấp III",
        "XD",
        "Hoạt động xây dựng",
        20,
        (150_000,),
        "Một phần",
        5.0,
        "dept:Xây dựng",
    ),
    _P(
        "1.009986",
        "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III",
        "XD",
        "Hoạt động xây dựng",
        20,
        (300_000,),
        "Toàn trình",
        6.0,
        "dept:Xây dựng",
    ),
    _P(
        "1.001907",
        "Cấp giấy phép hành nghề khám bệnh, chữa bệnh",
        "KCB",
        "Khám bệnh, chữa bệnh",
        20,
        (360_000,),
        "Một phần",
        8.0,
        "dept:Y tế",
    ),
    _P("1.002952", "Cấp Chứng chỉ hành nghề dược", "DUOC", "Dược phẩm", 20, (500_000,), "Toàn trình", 6.0, "dept:Y tế"),
    _P(
        "1.005092",
        "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc",
        "VBCC",
        "Văn bằng, chứng chỉ",
        2,
        (0,),
        "Toàn trình",
        6.0,
        "dept:Giáo dục",
    ),
    _P(
        "2.000633",
        "Cấp Giấy phép bán buôn sản phẩm rượu",
        "LTHH",
        "Lưu thông hàng hóa trong nước",
        15,
        (1_200_000,),
        "Toàn trình",
        4.0,
        "dept:Công Thương",
    ),
    _P(
        "1.001029",
        "Cấp Giấy phép kinh doanh dịch vụ karaoke",
        "VH",
        "Văn hóa",
        5,
        (1_000_000, 2_000_000),
        "Toàn trình",
        3.0,
        "dept:Văn hóa",
    ),
    _P(
        "1.003846",
        "Cấp giấy phép xuất bản bản tin",
        "XB",
        "Xuất bản, in và phát hành",
        10,
        (0,),
        "Toàn trình",
        3.0,
        "dept:Thông tin và Truyền thông",
    ),
    _P(
        "1.000712",
        "Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ",
        "KHCN",
        "Hoạt động khoa học và công nghệ",
        7,
        (0,),
        "Toàn trình",
        2.0,
        "dept:Khoa học",
    ),
    _P(
        "1.000933",
        "Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh",
        "TDKT",
        "Thi đua, khen thưởng",
        20,
        (0,),
        "Một phần",
        8.0,
        "dept:Nội vụ",
    ),
    _P(
        "1.003822",
        "Cho phép tổ chức hội nghị, hội thảo quốc tế",
        "NGV",
        "Công tác ngoại vụ",
        15,
        (0,),
        "Một phần",
        3.0,
        "dept:Ngoại vụ",
    ),
    _P(
        "2.001457",
        "Tiếp nhận, xử lý phản ánh, kiến nghị của cá nhân, tổ chức về quy định hành chính",
        "KSTT",
        "Kiểm soát thủ tục hành chính",
        10,
        (0,),
        "Toàn trình",
        2.0,
        "dept:Văn phòng",
    ),
    _P(
        "2.002339",
        "Giải quyết khiếu nại lần đầu",
        "KNTC",
        "Giải quyết khiếu nại, tố cáo",
        30,
        (0,),
        "",
        2.0,
        "dept:Thanh tra",
    ),
    _P(
        "1.009645",
        "Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án không thuộc diện chấp thuận chủ trương đầu tư",
        "DT",
        "Đầu tư tại Việt Nam",
        15,
        (0,),
        "Một phần",
        3.0,
        "dept:Khu kinh tế",
    ),
    _P(
        "1.005426",
        "Cấp mã số đơn vị có quan hệ với ngân sách",
        "TC",
        "Tài chính",
        2,
        (0,),
        "Toàn trình",
        4.0,
        "dept:Tài chính",
    ),
    _P(
        "2.000154",
        "Cung cấp thông tin, dữ liệu chuyên ngành",
        "KHAC",
        "Lĩnh vực khác",
        5,
        (0,),
        "Toàn trình",
        2.0,
        "dept:*",
    ),
]
_DEPT_WEIGHT = 2.0
_LATE_RATE = {"DD": 0.25}
_LATE_RATE_OTHER = 0.025


# --------------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------------

_SURNAMES = (
    ["Nguyễn"] * 38
    + ["Trần"] * 11
    + ["Lê"] * 10
    + ["Phạm"] * 7
    + ["Hoàng"] * 5
    + ["Phan"] * 4
    + ["Võ"] * 4
    + ["Đặng"] * 2
    + ["Bùi"] * 2
    + ["Đỗ"] * 2
    + ["Hồ"] * 2
    + ["Ngô"] * 2
    + [
        "Dương",
        "Lý",
        "Trương",
        "Đinh",
        "Đoàn",
        "Lương",
        "Mai",
        "Cao",
        "Tạ",
        "Hà",
        "Lưu",
        "Văn",
        "Thái",
        "Châu",
        "Huỳnh",
        "Vũ",
        "Tôn Nữ",
    ]
)
_MIDDLE_M = ["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thanh", "Xuân", "Ngọc", "Anh", "Đình", "Trọng"]
_MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Mai", "Kim", "Phương", "Hoài", "Bảo", "Diệu"]
_GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hùng",
    "Hải",
    "Hiếu",
    "Hoàng",
    "Huy",
    "Khánh",
    "Long",
    "Minh",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Thắng",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
    "Lộc",
    "Tài",
    "Thành",
    "Phúc",
    "Khoa",
    "Nhân",
    "Tâm",
    "Hưng",
]
_GIVEN_F = [
    "Anh",
    "Chi",
    "Dung",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Loan",
    "Mai",
    "Ngọc",
    "Nhung",
    "Oanh",
    "Phương",
    "Thảo",
    "Trang",
    "Vân",
    "Yến",
    "Huyền",
    "Nga",
    "Thủy",
    "Tuyết",
    "My",
    "Quỳnh",
    "Giang",
    "Hiền",
    "Nhi",
    "Lý",
]
_COMPANY_WORDS = [
    "Minh Phát",
    "Thành Công",
    "Hoàng Long",
    "Sơn Hà",
    "An Khang",
    "Phú Thịnh",
    "Đại Việt",
    "Tân Tiến",
    "Hưng Thịnh",
    "Bảo Ngọc",
    "Nam Trường",
    "Kim Ngân",
    "Việt Nhật",
    "Đông Á",
]
_COMPANY_KINDS = [
    "Công ty TNHH",
    "Công ty TNHH MTV",
    "Công ty Cổ phần",
    "Công ty TNHH Thương mại và Dịch vụ",
    "Công ty Cổ phần Xây dựng",
    "Công ty TNHH Đầu tư",
]
_PHONE_PREFIXES = [
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "086",
    "088",
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "070",
    "076",
    "077",
    "079",
    "081",
    "082",
    "083",
    "084",
    "085",
    "056",
    "058",
]
_NOTES = [
    "",
    "",
    "",
    "",
    "Hồ sơ đầy đủ",
    "Đã hướng dẫn công dân bổ sung",
    "Trả kết quả qua dịch vụ bưu chính",
    "Công dân nhận kết quả trực tiếp",
    "Hồ sơ liên thông",
    "Đã gọi điện hẹn trả kết quả",
]
_ORG_FIELDS = ("DKKD", "DT", "XB", "KHCN", "NGV", "TC", "LTHH", "NLTS")


def _choice(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


def _randint(rng: random.Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def _ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class _People:
    """Applicants: a pool that grows to POOL people, so that some people file several dossiers."""

    POOL = 30_000

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.pool: list[tuple[str, str, str, str]] = []

    def person(self, day: date) -> tuple[str, str, str, str]:
        if len(self.pool) >= self.POOL or (self.pool and self.rng.random() < 0.1):
            return self.pool[int(self.rng.random() * len(self.pool))]
        got = self._new(day)
        self.pool.append(got)
        return got

    def _new(self, day: date) -> tuple[str, str, str, str]:
        rng = self.rng
        female = rng.random() < 0.5
        name = " ".join(
            [
                _choice(rng, _SURNAMES),
                _choice(rng, _MIDDLE_F if female else _MIDDLE_M),
                _choice(rng, _GIVEN_F if female else _GIVEN_M),
            ]
        )
        year = _randint(rng, 1945, min(2007, day.year - 18))
        century = 0 if year < 2000 else 2
        idno = f"044{century + female}{year % 100:02d}{_randint(rng, 0, 999_999):06d}"
        phone = "" if rng.random() < 0.08 else _choice(rng, _PHONE_PREFIXES) + f"{_randint(rng, 0, 9_999_999):07d}"
        email = ""
        if rng.random() < 0.25:
            parts = _ascii(name).lower().split()
            local = _choice(
                rng, [parts[-1] + "".join(p[0] for p in parts[:-1]), parts[-1] + "." + parts[0], "".join(parts)]
            )
            domain = _choice(rng, ["gmail.com", "gmail.com", "yahoo.com.vn", "outlook.com"])
            email = f"{local}{_randint(rng, 1, 99)}@{domain}"
        return name, idno, phone, email

    def company(self) -> str:
        return f"{_choice(self.rng, _COMPANY_KINDS)} {_choice(self.rng, _COMPANY_WORDS)}"


# --------------------------------------------------------------------------------------------------
# Dossier simulation
# --------------------------------------------------------------------------------------------------


class _Dossier:
    __slots__ = (
        "code",
        "proc",
        "unit",
        "channel",
        "name",
        "idno",
        "phone",
        "email",
        "digit",
        "pay",
        "fees",
        "events",
        "supps",
        "first_t",
        "last_t",
        "officer",
        "note",
        "received_day",
    )

    def state(self, t: datetime) -> dict | None:
        """The record as an export at time t shows it (None before the dossier exists)."""
        if self.first_t > t:
            return None
        s = {
            "status": 1,
            "received": None,
            "due": None,
            "finished": None,
            "returned": None,
            "refused": None,
            "apology": False,
            "rating": "",
            "unit": self.unit,
        }
        for et, key, value in self.events:
            if et > t:
                break
            s[key] = value
        s["supp"] = [
            (r, sup if sup is not None and sup <= t else None, before, after if sup is not None and sup <= t else None)
            for r, sup, before, after in self.supps
            if r <= t
        ]
        return s

    def last_change(self, t: datetime) -> datetime:
        last = self.first_t
        for et, _key, _value in self.events:
            if et > t:
                break
            last = et
        for r, sup, _b, _a in self.supps:
            if r <= t and r > last:
                last = r
            if sup is not None and last < sup <= t:
                last = sup
        return last

    def changed_between(self, a: datetime, b: datetime) -> bool:
        return any(a <= et <= b for et, _k, _v in self.events) or any(
            a <= r <= b or (sup is not None and a <= sup <= b) for r, sup, _x, _y in self.supps
        )


_MORNING = (7 * 60 + 30, 11 * 60 + 30)
_AFTERNOON = (13 * 60 + 30, 17 * 60)


def _office_minutes() -> list[int]:
    return list(range(_MORNING[0], _MORNING[1])) + list(range(_AFTERNOON[0], _AFTERNOON[1] + 1))


_OFFICE = _office_minutes()


class _World:
    """Reference data, procedure distributions and the dossier simulator."""

    def __init__(self, reference_dir: Path, rng: random.Random, end: datetime = LAST_EXTRACTION):
        self.reg = _Registry(reference_dir)
        self.cal = _Calendar(reference_dir)
        self.rng = rng
        self.people = _People(rng)
        self.end = end
        self.start = (end - timedelta(days=720)).date() if end != LAST_EXTRACTION else FIRST_DAY
        self._dist_cache: dict[tuple, tuple[list, list[float]]] = {}
        self._day_key: dict[date, tuple] = {}
        self._invalid_codes: dict[date, list[str]] = {}
        self._district_communes: dict[str, list[str]] = {}
        for v in self.reg.versions:
            if v.level == "commune" and self.reg.level_of_parent(v) == "district":
                lst = self._district_communes.setdefault(v.parent, [])
                if v.code not in lst:
                    lst.append(v.code)

    # ---- where dossiers go -------------------------------------------------------------------------
    def _procs_for(self, version: _Version, day: date, districts_exist: bool) -> list[tuple[_Proc, float]]:
        reg = self.reg
        out: list[tuple[_Proc, float]] = []
        if version.level == "commune":
            size = reg.size(version.code, day)
            for p in PROCEDURES:
                if p.scope == "commune":
                    out.append((p, p.weight * size))
                elif p.scope == "district" and not districts_exist:
                    out.append((p, p.weight * size / reg.avg_communes_per_district))
        elif version.level == "district":
            out = [(p, p.weight) for p in PROCEDURES if p.scope == "district"]
        elif version.level == "department":
            names = [version.name] + [v.name for v in reg.by_code[version.code]] + reg.absorbed_names(version.code, day)
            for p in PROCEDURES:
                if p.scope.startswith("dept:"):
                    key = p.scope[5:]
                    if key != "*" and any(key.casefold() in n.casefold() for n in names):
                        out.append((p, p.weight * _DEPT_WEIGHT))
            if not out:
                out = [(p, p.weight * _DEPT_WEIGHT) for p in PROCEDURES if p.scope == "dept:*"]
        return out

    def distribution(self, day: date) -> tuple[list[tuple[str, _Proc]], list[float]]:
        """(unit code, procedure) pairs that can receive a dossier on `day`, with cumulative weights."""
        key = self._day_key.get(day)
        if key is None:
            versions = self.reg.valid_versions(day)
            key = (tuple(v.idx for v in versions), self._closed_count(day))
            self._day_key[day] = key
        cached = self._dist_cache.get(key)
        if cached is None:
            versions = self.reg.valid_versions(day)
            districts_exist = any(v.level == "district" for v in versions)
            items: list[tuple[str, _Proc]] = []
            cum: list[float] = []
            total = 0.0
            for v in versions:
                if not v.has_procedures or v.level == "province":
                    continue
                for p, w in self._procs_for(v, day, districts_exist):
                    total += w
                    items.append((v.code, p))
                    cum.append(total)
            cached = (items, cum)
            self._dist_cache[key] = cached
        return cached

    def _closed_count(self, day: date) -> int:
        return sum(1 for c in self.reg.codes if self.reg.last_valid_to(c) < day)

    def pick(self, day: date) -> tuple[str, _Proc] | None:
        items, cum = self.distribution(day)
        if not items:
            return None
        i = bisect.bisect_left(cum, self.rng.random() * cum[-1])
        return items[min(i, len(items) - 1)]

    def invalid_codes_on(self, day: date) -> list[str]:
        got = self._invalid_codes.get(day)
        if got is None:
            got = [
                c
                for c in self.reg.codes
                if self.reg.valid(c, day) is None
                and any(v.level in ("commune", "department", "district") for v in self.reg.by_code[c])
            ]
            self._invalid_codes[day] = got
        return got

    # ---- time helpers ------------------------------------------------------------------------------
    def office_time(self, day: date, after: datetime | None = None) -> datetime | None:
        """A random office-hours time on `day`, later than `after` (at least 10 minutes) if given."""
        lo = 0
        if after is not None and after.date() == day:
            m = after.hour * 60 + after.minute + 10
            lo = bisect.bisect_left(_OFFICE, m)
            if lo >= len(_OFFICE):
                return None
        elif after is not None and after.date() > day:
            return None
        m = _OFFICE[lo + int(self.rng.random() * (len(_OFFICE) - lo))]
        return datetime(day.year, day.month, day.day, m // 60, m % 60)

    def office_after(self, t: datetime, wd: int) -> datetime:
        """An office time on the wd-th working day after t (wd = 0: later the same day, or the next one)."""
        day = self.cal.add(t.date(), wd) if wd > 0 else self.cal.next_working(t.date())
        got = self.office_time(day, t)
        while got is None:
            day = self.cal.add(day, 1)
            got = self.office_time(day, t)
        return got

    def due_after(self, t: datetime, days: int) -> datetime:
        d = self.cal.add(t.date(), days)
        return datetime(d.year, d.month, d.day, 17, 0)

    # ---- one dossier -------------------------------------------------------------------------------
    def simulate(self, sub_day: date) -> _Dossier | None:
        rng, cal = self.rng, self.cal
        span = max(1, (self.end.date() - self.start).days)
        progress = min(1.0, max(0.0, (sub_day - self.start).days / span))
        p_online = 0.28 + 0.45 * progress
        working = cal.is_working(sub_day)
        picked = self.pick(sub_day)
        if picked is None:
            return None
        unit, proc = picked
        r = rng.random()
        if not proc.level:
            if not working:
                return None
            channel = 3 if r < 0.03 else 1
        elif r < p_online or not working:
            channel = 2
        else:
            channel = 3 if r < p_online + 0.03 else 1
        if channel == 2:
            m = _choice(rng, _OFFICE) if rng.random() < 0.75 and working else int(rng.random() * 1440)
            submitted = datetime(sub_day.year, sub_day.month, sub_day.day, m // 60, m % 60, int(rng.random() * 60))
            if working and _MORNING[0] <= m < _AFTERNOON[1] - 30:
                received = submitted + timedelta(minutes=_randint(rng, 5, 150))
                if received.hour * 60 + received.minute > _AFTERNOON[1]:
                    received = self.office_after(submitted, 1)
            else:
                received = self.office_after(submitted, 0 if not working or m < _MORNING[0] else 1)
            received = received.replace(second=int(rng.random() * 60))
            # the unit must be valid on the receipt date (a unit that closes stops receiving)
            tries = 0
            while self.reg.valid(unit, received.date()) is None or not proc.level:
                tries += 1
                picked = self.pick(received.date())
                if picked is None or tries > 20:
                    return None
                unit, proc = picked
        else:
            m = _choice(rng, _OFFICE)
            submitted = datetime(sub_day.year, sub_day.month, sub_day.day, m // 60, m % 60, int(rng.random() * 60))
            received = submitted

        d = _Dossier()
        d.proc, d.unit, d.channel = proc, unit, channel
        d.code = ""
        d.received_day = received.date()
        if proc.field_code in _ORG_FIELDS and rng.random() < 0.7:
            name = self.people.company()
            _n, idno, phone, email = self.people.person(sub_day)
        else:
            name, idno, phone, email = self.people.person(sub_day)
        d.name, d.idno, d.phone, d.email = name, idno, phone, email
        d.digit = rng.random() < (0.45 + 0.40 * progress + (0.1 if channel == 2 else 0.0))
        fee = _choice(rng, proc.fees)
        d.pay = 0
        if fee > 0:
            p_pay = (0.55 if channel == 2 else 0.12) + 0.2 * progress
            if rng.random() < p_pay:
                d.pay = 1 if rng.random() < 0.6 else 2
        if fee == 0:
            d.fees = []
        elif fee >= 200_000 and rng.random() < 0.5:
            part = (fee // 2 // 1000) * 1000
            d.fees = [("PHI", part, 2 if d.pay else 1), ("LEPHI", fee - part, 2 if d.pay else 1)]
        else:
            d.fees = [("LEPHI", fee, 2 if d.pay else 1)]
        d.officer = ""
        d.note = _choice(rng, _NOTES)
        events: list[tuple[datetime, str, object]] = []
        d.supps = []
        d.first_t = submitted

        if channel == 2:
            events.append((submitted, "status", 1))
            if rng.random() < 0.03:  # refused online submission: never received
                t = self.office_after(submitted, 0 if received.date() == submitted.date() else 1)
                events += [(t, "status", 3), (t, "refused", t)]
                d.events = events
                d.last_t = t
                return d
        d.officer = " ".join([_choice(rng, _SURNAMES), _choice(rng, _MIDDLE_F), _choice(rng, _GIVEN_F)])
        due = self.due_after(received, proc.days)
        events += [(received, "received", received), (received, "due", due), (received, "status", 2)]
        cur = received + timedelta(minutes=_randint(rng, 5, 120))
        events.append((cur, "status", 4))

        late_rate = _LATE_RATE.get(proc.field_code, _LATE_RATE_OTHER)
        end_state: tuple[datetime, int] | None = None  # withdrawn/stopped
        n_supp = 0
        x = rng.random()
        if x < 0.012:
            n_supp = 2
        elif x < 0.13:
            n_supp = 1
        for i in range(n_supp):
            if cur >= due:
                break
            req = self._between(cur, due)
            if req is None:
                break
            events.append((req, "status", 5))
            if rng.random() < 0.12 and i == n_supp - 1:  # the citizen never supplies
                d.supps.append((req, None, due, None))
                y = rng.random()
                if y < 0.5:
                    t = self.office_after(req, _randint(rng, 3, 20))
                    end_state = (t, 7)
                elif y < 0.8:
                    t = self.office_after(req, _randint(rng, 15, 30))
                    end_state = (t, 8)
                else:  # waits for months, then the unit stops processing it
                    t = self.office_after(req, _randint(rng, 60, 120))
                    end_state = (t, 8)
                cur = req
                break
            sup = self.office_after(req, _randint(rng, 1, 10))
            new_due = self.due_after(sup, proc.days)
            d.supps.append((req, sup, due, new_due))
            events += [(sup, "status", 4), (sup, "due", new_due)]
            cur, due = sup, new_due
        if end_state is None and proc.field_code == "DD" and rng.random() < 0.4 and cur < due:
            req = self._between(cur, due)
            if req is not None:
                paid = self.office_after(req, _randint(rng, 1, 7))
                waited = cal.between(req.date(), paid.date())
                new_due = self.due_after(due, waited) if waited else due
                events += [(req, "status", 6), (paid, "status", 4), (paid, "due", new_due)]
                cur, due = paid, new_due
        if end_state is None:
            y = rng.random()
            if y < 0.010:
                t = self._between(cur, due) or self.office_after(cur, 1)
                end_state = (t, 7)
            elif y < 0.016:
                t = self._between(cur, due) or self.office_after(cur, 1)
                end_state = (t, 8)

        finish: datetime | None = None
        late = False
        if end_state is not None:
            t, st = end_state
            if st == 7:
                events += [(t, "status", 7), (t, "finished", t)]
            elif st == 8:
                events += [(t, "status", 8), (t, "refused", t)]
                if rng.random() < 0.5:
                    events.append((t, "finished", t))
            finish = t if st in (7, 8) else None
        else:
            if due <= cur + timedelta(minutes=30):
                due = self.due_after(cur, 1)
                events.append((cur, "due", due))
            if rng.random() < late_rate:
                late = True
                k = _randint(rng, 1, 15) if proc.field_code == "DD" else _randint(rng, 1, 5)
                finish = self.office_after(due, k)
            else:
                finish = self._on_time(cur, due)
            no_finish_record = channel != 2 and rng.random() < 0.05
            if no_finish_record:  # only the hand-over is recorded: it ends the processing, the same day
                room = int((due - finish).total_seconds() // 60) if not late else 90
                returned = finish + timedelta(minutes=_randint(rng, 1, min(90, room))) if room >= 2 else finish
            elif proc.level == "Toàn trình" and channel == 2:
                returned = finish + timedelta(minutes=_randint(rng, 1, 30))
            else:
                k = 0 if rng.random() < 0.4 else _randint(rng, 1, 5)
                returned = self.office_after(finish, k)
            never_returned = rng.random() < 0.05 and not no_finish_record
            if no_finish_record:
                events += [(returned, "status", 10), (returned, "returned", returned)]
            else:
                events += [(finish, "status", 9), (finish, "finished", finish)]
                if not never_returned:
                    events += [(returned, "status", 10), (returned, "returned", returned)]
            if not never_returned and rng.random() < 0.35:
                rated = returned + timedelta(minutes=_randint(rng, 1, 3 * 24 * 60))
                z = rng.random()
                if late:
                    rating = "Không hài lòng" if z < 0.35 else ("Hài lòng" if z < 0.8 else "Rất hài lòng")
                else:
                    rating = "Không hài lòng" if z < 0.04 else ("Hài lòng" if z < 0.42 else "Rất hài lòng")
                events.append((rated, "rating", rating))
        # apology letters for a part of the late ones (finished late, or still open past the due date)
        if late and rng.random() < 0.45:
            t = self.office_after(due, _randint(rng, 1, 3))
            if finish is not None and t > finish:
                t = finish
            events.append((t, "apology", True))
        events.sort(key=lambda e: e[0])
        d.events = events
        last = events[-1][0]
        for req, sup, _b, _a in d.supps:
            last = max(last, req, sup or req)
        d.last_t = last
        return d

    def _between(self, a: datetime, b: datetime) -> datetime | None:
        """A random office time after a and before b (b excluded), or None."""
        days = []
        day = a.date()
        while day <= b.date() and len(days) < 40:
            if self.cal.is_working(day):
                days.append(day)
            day += timedelta(days=1)
        self.rng.shuffle(days)
        for day in days:
            t = self.office_time(day, a)
            if t is not None and t < b:
                return t
        return None

    def _on_time(self, cur: datetime, due: datetime) -> datetime:
        """A finish time after cur and not after due, on a random working day between them."""
        cal = self.cal
        a = cal._ordinal.get(cal.next_working(cur.date()))
        b = cal._ordinal.get(due.date() if cal.is_working(due.date()) else cal.next_working(due.date()))
        if a is not None and b is not None and b >= a:
            for _ in range(4):
                day = cal._days[a + int(self.rng.random() * (b - a + 1))]
                t = self.office_time(day, cur)
                if t is not None and t <= due:
                    return t
        day = cur.date()
        while day <= due.date():
            if cal.is_working(day):
                t = self.office_time(day, cur)
                if t is not None and t <= due:
                    return t
            day += timedelta(days=1)
        return due

    def add_transfers(self, dossiers: list[_Dossier]) -> int:
        """Open dossiers of a unit that closes move to its successor (half of them) or, for a district, to a
        commune of the district that carries on (a third of them): the unit of a later version changes."""
        reg, rng = self.reg, self.rng
        moved = 0
        for d in dossiers:
            if d.received_day is None:
                continue
            version = reg.valid(d.unit, d.received_day)
            if (
                version is None
                or version.valid_to == date.max
                or reg.valid(d.unit, version.valid_to + timedelta(days=1)) is not None
            ):
                continue
            nxt = version.valid_to + timedelta(days=1)
            first_day = self.cal.next_working(nxt)
            at = self.office_time(first_day)
            state = d.state(at)
            if state is None or state["status"] not in (2, 4, 5, 6) or at > self.end:
                continue
            target = ""
            if version.successor and rng.random() < 0.5:
                target = version.successor
            elif version.level == "district" and rng.random() < 0.33:
                options = [
                    c
                    for c in self._district_communes.get(d.unit, [])
                    if reg.valid(c, nxt) is not None and reg.valid(c, d.received_day) is not None
                ]
                if options:
                    target = _choice(rng, options)
            if target and reg.valid(target, d.received_day) is not None and reg.valid(target, nxt) is not None:
                d.events.append((at, "unit", target))
                d.events.sort(key=lambda e: e[0])
                d.last_t = max(d.last_t, at)
                moved += 1
        return moved


def _assign_codes(dossiers: list[_Dossier]) -> None:
    """Mã hồ sơ: <unit code>-<yymmdd of submission>-<4-digit sequence of that unit and day>."""
    dossiers.sort(key=lambda d: (d.first_t, d.unit))
    seq: dict[tuple[str, date], int] = {}
    for d in dossiers:
        key = (d.unit, d.first_t.date())
        n = seq.get(key, 0) + 1
        seq[key] = n
        d.code = f"{d.unit}-{d.first_t:%y%m%d}-{n:04d}"


def _day_weights(world: _World, first: date, last: date) -> tuple[list[date], list[float]]:
    days, weights = [], []
    day = first
    while day <= last:
        w = 1.0 if world.cal.is_working(day) else 0.12
        w *= 1.0 + 0.10 * (day - first).days / 365.0
        if day.month == 12 and day.day >= 15:
            w *= 1.15  # year-end rush
        days.append(day)
        weights.append(w)
        day += timedelta(days=1)
    return days, weights


def _spread(total: int, weights: list[float]) -> list[int]:
    s = sum(weights)
    acc, out, given = 0.0, [], 0
    for w in weights:
        acc += w * total / s
        n = int(round(acc)) - given
        out.append(n)
        given += n
    return out


# --------------------------------------------------------------------------------------------------
# Records and styles
# --------------------------------------------------------------------------------------------------


class _Raw(str):
    """A value written verbatim (used for bad values)."""


_EMPTY = _Raw("")


def _record(d: _Dossier, s: dict) -> dict:
    p = d.proc
    return {
        "code": d.code,
        "proc_code": p.code,
        "proc_name": p.name,
        "field_code": p.field_code,
        "field_name": p.field_name,
        "unit": s["unit"],
        "channel": d.channel,
        "mucdo": p.level,
        "name": d.name,
        "idno": d.idno,
        "phone": d.phone,
        "email": d.email,
        "received": s["received"],
        "due": s["due"],
        "finished": s["finished"],
        "returned": s["returned"],
        "refused": s["refused"],
        "status": s["status"],
        "digit": d.digit,
        "pay": d.pay,
        "fee": list(d.fees),
        "supp": s["supp"],
        "apology": s["apology"],
        "rating": s["rating"],
        "officer": d.officer,
        "note": d.note,
    }


@dataclass
class _Style:
    fmt: str  # csv | csv_semicolon | txt | xlsx | json | jsonl
    dt: str = "%d/%m/%Y %H:%M"
    due_date_only: bool = False
    end_date_only: bool = False  # only where the extraction time is the end of the day
    status: str = "label"  # code | label | mixed
    channel: str = "label"  # code | label
    yesno: str = "cokhong"  # cokhong | x | 10
    amount: str = "dot"  # dot | plain | comma | space
    nfd_rows: float = 0.0
    header: str = "plain"  # plain | upper | spaces | nfd
    extra: bool = False
    shuffle: bool = False
    crlf: bool = True
    serial_cols: tuple[str, ...] = ()  # xlsx: columns written as Excel serial numbers
    blank_row: bool = False  # xlsx: a blank row between the title block and the header
    json_bool: bool = False  # json: CoPhieuXinLoi as true/false instead of 1/0


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _fmt_amount(value: int, style: str) -> str:
    if style == "plain":
        return str(value)
    grouped = f"{value:,}"
    return {"dot": grouped.replace(",", "."), "comma": grouped, "space": grouped.replace(",", " ")}[style]


def _fee_total(rec: dict):
    fee = rec["fee"]
    if isinstance(fee, _Raw):
        return fee
    for item in fee:
        if isinstance(item[1], _Raw):
            return item[1]
    return sum(item[1] for item in fee)


def _text_row(rec: dict, st: _Style, rng: random.Random) -> list[str]:
    def dt(key: str) -> str:
        v = rec[key]
        if v is None:
            return ""
        if isinstance(v, _Raw):
            return str(v)
        if (key == "due" and st.due_date_only) or (key in _EVENT_KEYS and st.end_date_only):
            return v.strftime("%d/%m/%Y")
        return v.strftime(st.dt)

    def yn(v) -> str:
        if isinstance(v, _Raw):
            return str(v)
        if st.yesno == "x":
            return "x" if v else ""
        if st.yesno == "10":
            return "1" if v else "0"
        return "Có" if v else "Không"

    status = rec["status"]
    if isinstance(status, _Raw) or st.status == "code" or (st.status == "mixed" and rng.random() < 0.5):
        status_text = str(status)
    else:
        status_text = STATUS_LABELS[status]
    channel = rec["channel"]
    channel_text = (
        str(channel)
        if isinstance(channel, _Raw)
        else (str(channel) if st.channel == "code" else CHANNEL_LABELS[channel])
    )
    fee = _fee_total(rec)
    fee_text = str(fee) if isinstance(fee, _Raw) else _fmt_amount(fee, st.amount)
    supp = rec["supp"]
    supp_text = str(supp) if isinstance(supp, _Raw) else str(len(supp))
    row = [
        rec["code"],
        str(rec["proc_code"]),
        rec["proc_name"],
        rec["field_code"],
        rec["field_name"],
        str(rec["unit"]),
        channel_text,
        rec["mucdo"],
        rec["name"],
        rec["idno"],
        rec["phone"],
        rec["email"],
        dt("received"),
        dt("due"),
        dt("finished"),
        dt("returned"),
        dt("refused"),
        status_text,
        yn(rec["digit"]),
        str(rec["pay"]),
        fee_text,
        supp_text,
        yn(rec["apology"]),
        rec["rating"],
    ]
    if st.extra:
        row += [rec["officer"], rec["note"]]
    if st.nfd_rows and rng.random() < st.nfd_rows:
        row = [_nfd(v) for v in row]
    return row


def _portal_time(v) -> str:
    if v is None:
        return ""
    if isinstance(v, _Raw):
        return str(v)
    return v.strftime("%Y%m%d%H%M%S")


def _json_obj(rec: dict, st: _Style, rng: random.Random) -> dict:
    nfd = st.nfd_rows and rng.random() < st.nfd_rows
    text = _nfd if nfd else (lambda s: s)
    fee = rec["fee"]
    if isinstance(fee, _Raw):
        fees = [{"MaPhiLePhi": "LEPHI", "Gia": str(fee), "HinhThucThu": 1}]
    else:
        fees = [
            {"MaPhiLePhi": code, "Gia": str(gia) if isinstance(gia, _Raw) else gia, "HinhThucThu": how}
            for code, gia, how in fee
        ]
    supps = [
        {
            "NgayBoSung": _portal_time(r),
            "NgayTiepNhanBoSung": _portal_time(s),
            "NgayHenTraTruoc": _portal_time(b),
            "NgayHenTraMoi": _portal_time(a),
        }
        for r, s, b, a in (rec["supp"] if not isinstance(rec["supp"], _Raw) else [])
    ]

    def code_or_null(v):
        if isinstance(v, _Raw):
            return None if v == "" else str(v)
        return v

    apology = rec["apology"]
    return {
        "MaHoSo": rec["code"],
        "MaTTHC": str(rec["proc_code"]),
        "TenTTHC": text(rec["proc_name"]),
        "MaLinhVuc": rec["field_code"],
        "TenLinhVuc": text(rec["field_name"]),
        "DonViXuLy": str(rec["unit"]),
        "KenhThucHien": code_or_null(rec["channel"]),
        "MucDo": text(rec["mucdo"]),
        "ChuHoSo": text(rec["name"]),
        "SoGiayToChuHoSo": rec["idno"],
        "SoDienThoai": rec["phone"],
        "Email": rec["email"],
        "NgayTiepNhan": _portal_time(rec["received"]),
        "NgayHenTra": _portal_time(rec["due"]),
        "NgayKetThucXuLy": _portal_time(rec["finished"]),
        "NgayTra": _portal_time(rec["returned"]),
        "NgayTuChoi": _portal_time(rec["refused"]),
        "TrangThaiHoSo": code_or_null(rec["status"]),
        "HoSoCoThanhPhanSoHoa": 1 if rec["digit"] else 0,
        "DuocThanhToanTrucTuyen": rec["pay"],
        "DanhSachLePhi": fees,
        "DanhSachHoSoBoSung": supps,
        "CoPhieuXinLoi": bool(apology) if st.json_bool else (1 if apology else 0),
        "MucDoHaiLong": text(rec["rating"]),
    }


def _excel_serial(v: datetime) -> float:
    return (v - datetime(1899, 12, 30)).total_seconds() / 86400.0


# --------------------------------------------------------------------------------------------------
# Bad rows
# --------------------------------------------------------------------------------------------------

_BAD_DATES_TEXT = [
    "31/02/{y} 08:30",
    "15/13/{y} 09:15",
    "32/01/{y}",
    "30/02/{y} 14:00:00",
    "{y}-13-05 10:00:00",
    "00/06/{y} 08:00",
    "29/02/2025 10:00",
]
_BAD_DATES_PORTAL = ["{y}1305083000", "{y}0230090000", "{y}0732100000", "{y}0631080000"]
_BAD_AMOUNTS = ["1.5OO.000", "hai trăm nghìn", "#VALUE!", "không rõ", "12O.000"]
_BAD_COUNTS = ["hai", "một", "#N/A"]


class _Corruptor:
    """Turns a valid record into a bad one of a given kind; counts what it did."""

    def __init__(self, world: _World, rng: random.Random):
        self.world, self.rng = world, rng
        self.unknown = []
        known = set(world.reg.codes)
        for cand in [
            "000.00.99.H99",
            "000.49.05.H99",
            "000.41.31.H99",
            "000.00.16.H12",
            "000.00.57.H99",
            "000.46.27.H99",
            "000.00.21.H98",
            "001.00.16.H99",
        ]:
            if cand not in known:
                self.unknown.append(cand)

    def eligible(self, kind: str, rec: dict) -> bool:
        if kind == "unit_not_valid":
            return rec["received"] is not None and bool(self.world.invalid_codes_on(rec["received"].date()))
        if kind in ("due_before_received", "terminal_without_end"):
            return rec["received"] is not None and rec["due"] is not None
        return True

    def apply(self, kind: str, rec: dict, extraction: datetime, portal: bool) -> dict:
        rng = self.rng
        rec = dict(rec)
        year = (rec["received"] or rec["refused"] or extraction).year
        if kind == "empty_required":
            options = ["proc_code", "unit", "channel", "status"]
            if rec["status"] not in (1, 3):
                options += ["received", "due"]
            key = _choice(rng, options)
            rec[key] = None if key in ("received", "due") else _EMPTY
        elif kind == "bad_date":
            keys = [k for k in ("received", "due", "finished", "returned") if rec[k] is not None] or ["received"]
            key = _choice(rng, keys)
            pool = _BAD_DATES_PORTAL if portal else _BAD_DATES_TEXT
            rec[key] = _Raw(_choice(rng, pool).format(y=year))
        elif kind == "bad_number":
            if portal or rng.random() < 0.7:
                rec["fee"] = _Raw(_choice(rng, _BAD_AMOUNTS))
            else:
                rec["supp"] = _Raw(_choice(rng, _BAD_COUNTS))
        elif kind == "unknown_unit":
            rec["unit"] = _choice(rng, self.unknown)
        elif kind == "unit_not_valid":
            rec["unit"] = _choice(rng, self.world.invalid_codes_on(rec["received"].date()))
        elif kind == "due_before_received":
            d = rec["received"].date() - timedelta(days=_randint(rng, 1, 5))
            rec["due"] = datetime(d.year, d.month, d.day, 17, 0)
        elif kind == "terminal_without_end":
            rec["status"] = _choice(rng, TERMINAL_STATUSES)
            rec["finished"] = rec["returned"] = rec["refused"] = None
        elif kind == "event_after_extraction":
            later = extraction.date() + timedelta(days=_randint(rng, 1, 10))
            t = datetime(later.year, later.month, later.day, _randint(rng, 8, 16), _choice(rng, (0, 15, 30, 45)))
            key = _choice(rng, ("finished", "returned")) if rec["received"] is not None else "refused"
            rec[key] = t
        elif kind == "duplicate_conflict":
            rec["phone"] = _choice(rng, _PHONE_PREFIXES) + f"{_randint(rng, 0, 9_999_999):07d}"
            fee = rec["fee"]
            total = _fee_total(rec) if not isinstance(fee, _Raw) else 0
            rec["fee"] = [("LEPHI", (total if isinstance(total, int) else 0) + 50_000, 1)]
        return rec


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def _headers(st: _Style) -> list[str]:
    hs = HEADERS + (EXTRA_HEADERS if st.extra else [])
    if st.header == "upper":
        hs = [h.upper() for h in hs]
    elif st.header == "spaces":
        hs = [f" {h}  " for h in hs]
    elif st.header == "nfd":
        hs = [_nfd(h) for h in hs]
    return hs


def _permutation(n: int, st: _Style, rng: random.Random) -> list[int]:
    order = list(range(n))
    if st.shuffle:
        rest = order[1:]
        rng.shuffle(rest)
        order = [order[0]] + rest
        i = order.index(5)  # move "Mã đơn vị" to the front now and then
        order.insert(0, order.pop(i))
    return order


def _write_delimited(
    path: Path,
    recs: list[dict],
    st: _Style,
    rng: random.Random,
    headers: list[str] | None = None,
    encoding: str | None = None,
) -> int:
    hs = headers if headers is not None else _headers(st)
    order = _permutation(len(hs), st, rng)
    delim = {"csv": ",", "csv_semicolon": ";", "txt": "\t"}[st.fmt]
    rows = [[hs[i] for i in order]]
    for rec in recs:
        row = _text_row(rec, st, rng)
        if headers is not None and len(headers) != len(row):  # reject variants adjust their columns
            row = rec["_adjust"](row)
        rows.append([row[i] for i in order])
    term = "\r\n" if st.crlf else "\n"
    if st.fmt == "txt":
        with open(path, "w", encoding="utf-16-le", newline="") as handle:  # Excel "Unicode text"
            handle.write("\ufeff")
            csv.writer(handle, delimiter=delim, lineterminator=term).writerows(rows)
        return len(recs)
    enc = encoding or ("utf-8-sig" if st.fmt == "csv" else "utf-8")
    if enc == "cp1258":
        buf = io.StringIO()
        csv.writer(buf, delimiter=delim, lineterminator=term).writerows(rows)
        path.write_bytes(_to_cp1258(buf.getvalue()))
        return len(recs)
    with open(path, "w", encoding=enc, newline="") as handle:
        csv.writer(handle, delimiter=delim, lineterminator=term).writerows(rows)
    return len(recs)


def _to_cp1258(text: str) -> bytes:
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        encoded = None
        for split in range(len(marks), -1, -1):
            head = unicodedata.normalize("NFC", base + marks[:split])
            try:
                encoded = head.encode("cp1258") + "".join(marks[split:]).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        out += encoded if encoded is not None else b"?"
    return bytes(out)


def _write_json(path: Path, recs: list[dict], st: _Style, rng: random.Random) -> int:
    objs = [json.dumps(_json_obj(rec, st, rng), ensure_ascii=False) for rec in recs]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        if st.fmt == "json":
            handle.write("[\n" + ",\n".join(objs) + "\n]\n")
        else:
            for o in objs:
                handle.write(o + "\n")
    return len(recs)


def _write_xlsx(
    path: Path, recs: list[dict], st: _Style, rng: random.Random, title: tuple[str, str, str], stamp: datetime
) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách hồ sơ")
    bold = Font(bold=True)
    for line in title:
        c = WriteOnlyCell(ws, value=line)
        c.font = bold
        ws.append([c])
    if st.blank_row:
        ws.append([])
    hs = ["STT"] + _headers(st)
    header_cells = []
    for h in hs:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header_cells.append(c)
    ws.append(header_cells)
    date_cols = {"received": 12, "due": 13, "finished": 14, "returned": 15, "refused": 16}
    serial_keys = set(st.serial_cols)
    fee_sum = 0
    for n, rec in enumerate(recs, start=1):
        text = _text_row(rec, replace(st, nfd_rows=0.0), rng)
        cells: list[object] = [n]
        cells += [value if value != "" else None for value in text]
        for key, i in date_cols.items():
            v = rec[key]
            if v is None or isinstance(v, _Raw):
                cells[i + 1] = str(v) if isinstance(v, _Raw) and v else None
                continue
            if key in serial_keys:
                cells[i + 1] = round(_excel_serial(v), 8)
            else:
                c = WriteOnlyCell(ws, value=v)
                c.number_format = "dd/mm/yyyy hh:mm"
                cells[i + 1] = c
        fee = _fee_total(rec)
        cells[21] = str(fee) if isinstance(fee, _Raw) else fee
        if not isinstance(fee, _Raw):
            fee_sum += fee
        supp = rec["supp"]
        cells[22] = str(supp) if isinstance(supp, _Raw) else len(supp)
        cells[20] = rec["pay"]
        if st.nfd_rows and rng.random() < st.nfd_rows:
            cells = [_nfd(c) if isinstance(c, str) else c for c in cells]
        ws.append(cells)
    total = [None] * len(hs)
    total[0] = "Tổng cộng"
    total[21] = fee_sum
    ws.append(total)
    wb.save(path)
    _freeze_xlsx(path, stamp)
    return len(recs)


def _freeze_xlsx(path: Path, stamp: datetime) -> None:
    path.write_bytes(frozen_zip(path.read_bytes(), stamp))


def frozen_zip(data: bytes, stamp: date) -> bytes:
    """A ZIP or workbook rewritten with fixed times (its entries' and a workbook's document properties), so
    that the same seed gives byte-identical files (the loader recognises a file by its content hash)."""
    import zipfile

    when = stamp if isinstance(stamp, datetime) else datetime(stamp.year, stamp.month, stamp.day)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        entries = [(info.filename, src.read(info)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, content in entries:
            if name == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{iso}\g<2>", text)
                content = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Extractions
# --------------------------------------------------------------------------------------------------


@dataclass
class _Extraction:
    t: datetime
    name_has_time: bool
    full: bool
    style: _Style
    reject: str = ""  # "", "missing_column", "duplicate_header", "undecodable"

    @property
    def stamp(self) -> str:
        return self.t.strftime("%Y%m%dT%H%M%S") if self.name_has_time else self.t.strftime("%Y%m%d")

    @property
    def ext(self) -> str:
        return {"csv": "csv", "csv_semicolon": "csv", "txt": "txt", "xlsx": "xlsx", "json": "json", "jsonl": "jsonl"}[
            self.style.fmt
        ]

    @property
    def filename(self) -> str:
        return f"ho_so_{self.stamp}.{self.ext}"


def _month_ends(first: date, last: datetime) -> list[date]:
    out = []
    y, m = first.year, first.month
    while True:
        nxt = date(y + (m == 12), 1 if m == 12 else m + 1, 1)
        end = nxt - timedelta(days=1)
        if datetime(end.year, end.month, end.day, 23, 59, 59) >= last:
            break
        out.append(end)
        y, m = nxt.year, nxt.month
    return out


def _schedule(world: _World, rng: random.Random, partial_share: float) -> list[_Extraction]:
    ex: list[_Extraction] = []
    full_formats = {3: "xlsx", 6: "txt", 9: "csv_semicolon", 11: "json", 14: "csv_semicolon", 16: "xlsx", 20: "jsonl"}
    for i, end in enumerate(_month_ends(FIRST_DAY, LAST_EXTRACTION)):
        fmt = full_formats.get(i, "csv")
        date_only = i % 2 == 0 and fmt not in ("xlsx",)
        if date_only:
            t = datetime(end.year, end.month, end.day, 23, 59, 59)
        else:
            nxt = end + timedelta(days=1)
            t = datetime(nxt.year, nxt.month, nxt.day, _choice(rng, (1, 2, 6)), _choice(rng, (0, 30)), 0)
        st = _full_style(i, fmt, date_only)
        ex.append(_Extraction(t, not date_only, True, st))
    # the last extraction: a full one
    ex.append(
        _Extraction(
            LAST_EXTRACTION,
            True,
            True,
            _Style("csv", dt="%d/%m/%Y %H:%M:%S", status="label", channel="label", extra=True),
        )
    )
    # daily partial extractions (only dossiers changed that day)
    day = FIRST_DAY + timedelta(days=1)
    n = 0
    partial_cycle = [
        "csv",
        "csv",
        "csv_semicolon",
        "csv",
        "jsonl",
        "csv",
        "csv",
        "txt",
        "csv",
        "json",
        "csv",
        "csv",
        "csv_semicolon",
        "csv",
        "xlsx",
        "csv",
        "jsonl",
        "csv",
    ]
    taken = {e.stamp for e in ex}
    while day < LAST_EXTRACTION.date():
        if world.cal.is_working(day) and rng.random() < partial_share:
            t = datetime(
                day.year,
                day.month,
                day.day,
                _choice(rng, (17, 18, 19, 21, 22)),
                _choice(rng, (0, 30, 45)),
                _choice(rng, (0, 0, 15)),
            )
            fmt = partial_cycle[n % len(partial_cycle)]
            st = _partial_style(n, fmt, rng)
            e = _Extraction(t, True, False, st)
            if e.stamp not in taken:
                taken.add(e.stamp)
                ex.append(e)
                n += 1
        day += timedelta(days=1)
    # the three files that must be rejected, among the others
    for t, kind in (
        (datetime(2024, 6, 10, 11, 30), "missing_column"),
        (datetime(2025, 1, 15, 9, 0), "duplicate_header"),
        (datetime(2025, 10, 5, 7, 0), "undecodable"),
    ):
        ex.append(_Extraction(t, True, False, _Style("csv"), reject=kind))
    ex.sort(key=lambda e: e.t)
    return ex


def _full_style(i: int, fmt: str, date_only: bool) -> _Style:
    variants = [
        dict(dt="%d/%m/%Y %H:%M", status="label", channel="label", yesno="cokhong", amount="dot"),
        dict(dt="%d/%m/%Y %H:%M:%S", status="code", channel="code", yesno="10", amount="plain"),
        dict(dt="%Y-%m-%d %H:%M:%S", status="label", channel="code", yesno="x", amount="dot", due_date_only=True),
        dict(dt="%d/%m/%Y %H:%M", status="mixed", channel="label", yesno="cokhong", amount="space", nfd_rows=0.1),
        dict(
            dt="%d/%m/%Y %H:%M:%S",
            status="label",
            channel="label",
            yesno="cokhong",
            amount="comma",
            extra=True,
            shuffle=True,
        ),
    ]
    st = _Style(fmt, **variants[i % len(variants)])
    if date_only and fmt in ("csv", "csv_semicolon", "txt"):
        st.end_date_only = i % 4 == 0
        st.due_date_only = st.due_date_only or st.end_date_only  # date-only exports show every date so
    if fmt == "csv_semicolon":
        st.crlf = False
        st.header = "upper" if i < 12 else "spaces"
    if fmt == "txt":
        st.amount = "plain"
    if fmt == "xlsx":
        st.serial_cols = ("due", "returned") if i < 12 else ()
        st.blank_row = i >= 12
        st.nfd_rows = 0.0
    if fmt in ("json", "jsonl"):
        st.json_bool = fmt == "jsonl"
        st.nfd_rows = 0.2
    if i == 7:  # one whole file in decomposed Unicode, headers included
        st.nfd_rows, st.header = 1.0, "nfd"
    return st


def _partial_style(n: int, fmt: str, rng: random.Random) -> _Style:
    dts = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"]
    st = _Style(
        fmt,
        dt=dts[n % 3],
        status=("label", "code", "label", "mixed")[n % 4],
        channel=("label", "code")[n % 2],
        yesno=("cokhong", "cokhong", "x", "10")[n % 4],
        amount=("dot", "dot", "plain", "space", "comma")[n % 5],
        due_date_only=n % 6 == 5,
        nfd_rows=0.15 if n % 9 == 4 else 0.0,
        extra=n % 11 == 3,
    )
    if fmt == "csv_semicolon":
        st.crlf = False
    if fmt == "xlsx":
        st.serial_cols = ("due",) if n % 2 else ()
    if fmt in ("json", "jsonl"):
        st.json_bool = n % 2 == 0
    return st


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


@dataclass
class SampleReport:
    """What generate_samples wrote: files in name order, data rows per file (title, header and total rows
    excluded), bad rows per file and kind (a duplicate_conflict pair counts 2), the rejected files with the
    reason, and how many dossiers were simulated."""

    files: list[Path] = field(default_factory=list)
    rows: dict[Path, int] = field(default_factory=dict)
    bad_rows: dict[Path, dict[str, int]] = field(default_factory=dict)
    rejected: dict[Path, str] = field(default_factory=dict)
    extraction_times: dict[Path, datetime] = field(default_factory=dict)
    dossiers: int = 0
    transfers: int = 0

    def bad_totals(self) -> dict[str, int]:
        out = dict.fromkeys(BAD_ROW_KINDS, 0)
        for counts in self.bad_rows.values():
            for k, v in counts.items():
                out[k] += v
        return out


def _simulate_all(world: _World, n_total: int) -> list[_Dossier]:
    days, weights = _day_weights(world, FIRST_DAY, LAST_EXTRACTION.date())
    counts = _spread(n_total, weights)
    dossiers: list[_Dossier] = []
    for day, k in zip(days, counts, strict=True):
        for _ in range(k):
            d = world.simulate(day)
            if d is not None and d.first_t <= LAST_EXTRACTION:
                dossiers.append(d)
    return dossiers


def generate_samples(
    out_dir: Path, scale: float = 1.0, seed: int = 20250101, reference_dir: Path | None = None
) -> SampleReport:
    """Simulates the dossiers and writes the exports to out_dir/one_stop_shop/; see the module doc."""
    rng = random.Random(seed)
    world = _World(Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR, rng)
    n_total = max(1, round(DOSSIERS_AT_SCALE_1 * scale))
    dossiers = _simulate_all(world, n_total)
    _assign_codes(dossiers)
    report = SampleReport(dossiers=len(dossiers))
    report.transfers = world.add_transfers(dossiers)

    by_day: dict[date, list[int]] = {}
    for i, d in enumerate(dossiers):
        days = {d.first_t.date()}
        days.update(t.date() for t, _k, _v in d.events)
        for r, s, _b, _a in d.supps:
            days.add(r.date())
            if s is not None:
                days.add(s.date())
        for day in sorted(days):
            by_day.setdefault(day, []).append(i)

    target = Path(out_dir) / "one_stop_shop"
    target.mkdir(parents=True, exist_ok=True)
    corruptor = _Corruptor(world, rng)
    extractions = _schedule(world, random.Random(seed * 7919 + 17), partial_share=0.30)  # same files at any scale
    window = timedelta(days=45)
    totals = dict.fromkeys(BAD_ROW_KINDS, 0)
    province = world.reg.province_name
    for n, ex in enumerate(extractions):
        T = ex.t
        if ex.full:
            chosen = []
            for d in dossiers:
                if d.first_t > T:
                    break
                if d.last_t < T - window:
                    s = d.state(T)
                    if s["status"] not in OPEN_STATUSES:
                        continue
                else:
                    s = d.state(T)
                    if s["status"] not in OPEN_STATUSES and d.last_change(T) < T - window:
                        continue
                chosen.append(_record(d, s))
        else:
            start = datetime(T.year, T.month, T.day)
            if ex.reject:
                start -= timedelta(days=2)
            idx = []
            day = start.date()
            while day <= T.date():
                idx.extend(by_day.get(day, []))
                day += timedelta(days=1)
            chosen = []
            for i in sorted(set(idx)):
                d = dossiers[i]
                if d.first_t <= T and d.changed_between(start, T):
                    chosen.append(_record(d, d.state(T)))
        path = target / ex.filename
        report.extraction_times[path] = T
        if ex.reject:
            report.rejected[path] = _write_reject(path, ex, chosen, rng)
            report.rows[path] = len(chosen)
            report.files.append(path)
            continue
        # bad rows
        portal = ex.style.fmt in ("json", "jsonl")
        counts = dict.fromkeys(BAD_ROW_KINDS, 0)
        out: list[dict] = []
        dups: list[dict] = []
        last_file = n == len(extractions) - 1
        forced = [k for k in BAD_ROW_KINDS if totals[k] == 0] if last_file else []
        for rec in chosen:
            kind = None
            if forced:  # the last file makes sure every kind occurs at least once, even at a tiny scale
                kind = next((k for k in forced if corruptor.eligible(k, rec)), None)
            else:
                r = rng.random()
                if r < BAD_ROW_RATE * len(BAD_ROW_KINDS):
                    kind = BAD_ROW_KINDS[int(r / BAD_ROW_RATE)]
            if kind is not None and corruptor.eligible(kind, rec):
                if kind in forced:
                    forced.remove(kind)
                if kind == "duplicate_conflict":
                    out.append(rec)
                    dups.append(corruptor.apply(kind, rec, T, portal))
                    counts[kind] += 2
                else:
                    out.append(corruptor.apply(kind, rec, T, portal))
                    counts[kind] += 1
            else:
                out.append(rec)
        for dup in dups:  # the second copy goes somewhere later in the file
            pos = next(i for i, r in enumerate(out) if r["code"] == dup["code"])
            out.insert(_randint(rng, pos + 1, len(out)), dup)
        for k, v in counts.items():
            totals[k] += v
        st = ex.style
        if st.fmt in ("csv", "csv_semicolon", "txt"):
            rows = _write_delimited(path, out, st, rng)
        elif st.fmt in ("json", "jsonl"):
            rows = _write_json(path, out, st, rng)
        else:
            received = [r["received"] for r in out if isinstance(r["received"], datetime)]
            first = min(received) if received else T
            title = (
                f"{province.upper()} - TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
                "DANH SÁCH HỒ SƠ TIẾP NHẬN VÀ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
                f"Từ ngày {first:%d/%m/%Y} đến ngày {T:%d/%m/%Y} (trích xuất lúc {T:%H:%M} ngày {T:%d/%m/%Y})",
            )
            rows = _write_xlsx(path, out, st, rng, title, T)
        report.files.append(path)
        report.rows[path] = rows
        report.bad_rows[path] = {k: v for k, v in counts.items() if v}
    report.files.sort(key=lambda p: p.name)
    return report


def _write_reject(path: Path, ex: _Extraction, recs: list[dict], rng: random.Random) -> str:
    st = _Style("csv", dt="%d/%m/%Y %H:%M")
    if ex.reject == "missing_column":
        headers = [h for h in HEADERS if h != "Mã đơn vị"]
        for rec in recs:
            rec["_adjust"] = lambda row: row[:5] + row[6:]
        _write_delimited(path, recs, st, rng, headers=headers)
        return "required column 'Mã đơn vị' missing"
    if ex.reject == "duplicate_header":
        headers = HEADERS + ["Ngày tiếp nhận"]
        for rec in recs:
            rec["_adjust"] = lambda row: row + [row[12]]
        _write_delimited(path, recs, st, rng, headers=headers)
        return "header 'Ngày tiếp nhận' repeated (columns 13 and 25)"
    _write_delimited(path, recs, st, rng, encoding="cp1258")
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:  # pragma: no cover - only if the content happened to be ASCII
        path.write_bytes(data + "Mã".encode("cp1258"))
    return "not decodable: Windows-1258 bytes, not UTF-8 or UTF-16"


def write_samples(
    out_dir: Path, scale: float = 1.0, seed: int = 20250101, reference_dir: Path | None = None
) -> list[Path]:
    """Writes realistic synthetic exports of every source — out_dir/one_stop_shop/, document_management/ and
    self_reports/ — and returns the paths (a folder submission is one path)."""
    from reformwh.sample_reports import write_report_samples

    files = generate_samples(out_dir, scale=scale, seed=seed, reference_dir=reference_dir).files
    return files + write_report_samples(out_dir, seed, reference_dir or DEFAULT_REFERENCE_DIR, LAST_EXTRACTION)


_STAMP = re.compile(r"(\d{8})(?:T(\d{6}))?")


def write_dossier_csv(path: Path, rows: int, seed: int = 1, reference_dir: Path | None = None) -> Path:
    """One large UTF-8-with-BOM comma CSV (Vietnamese headers) of `rows` distinct valid dossiers, streamed to
    disk row by row (constant memory) — used by the benchmark (1,000,000 rows).

    Each dossier is shown as of the extraction time in the file name (`…_YYYYMMDD[THHMMSS].csv`; without one,
    2025-12-20 18:00), received over the two years before it; the format is the usual CSV export's
    (dd/mm/yyyy HH:MM, status and channel labels, Có/Không, amounts with dots)."""
    path = Path(path)
    end = LAST_EXTRACTION
    stamps = list(_STAMP.finditer(path.stem))
    if stamps:
        m = stamps[-1]
        try:
            end = datetime.strptime(m.group(1) + (m.group(2) or "235959"), "%Y%m%d%H%M%S")
        except ValueError:
            end = LAST_EXTRACTION
    rng = random.Random(seed)
    world = _World(Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR, rng, end=end)
    first = world.start
    days, weights = _day_weights(world, first, end.date())
    counts = _spread(rows, weights)
    st = _Style("csv")
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS)
        deficit = 0
        for i, (day, k) in enumerate(zip(days, counts, strict=True)):
            need = k + deficit  # a day that cannot take its share (no unit receives) passes it on
            last = i == len(days) - 1
            seq: dict[str, int] = {}
            made = attempts = 0
            while made < need and attempts < (1000 * need + 1000 if last else 3 * need + 3):
                attempts += 1
                d = world.simulate(day)
                if d is None or d.first_t > end:
                    continue
                n = seq.get(d.unit, 0) + 1
                seq[d.unit] = n
                d.code = f"{d.unit}-{day:%y%m%d}-{n:04d}"
                writer.writerow(_text_row(_record(d, d.state(end)), st, rng))
                made += 1
            deficit = need - made
            written += made
    if written != rows:
        raise RuntimeError(f"{path}: could only simulate {written} of {rows} dossiers with this reference data")
    return path


def write_daily_snapshots(
    out_dir: Path,
    dossiers: int,
    first_day: date = date(2024, 1, 1),
    last_day: date = date(2025, 12, 31),
    seed: int = 1,
    reference_dir: Path | None = None,
) -> list[tuple[Path, int]]:
    """A large province's one-stop-shop exports as overlapping daily snapshots (the volume benchmark,
    bench/bench_scale.py): about `dossiers` dossiers received from first_day to last_day, each exported at
    20:00 on three days of its life — the day it arrives, a day in progress and the day it ends (or two
    days later) — as the export shows it then. One UTF-8 CSV per day, `ho_so_YYYYMMDDT200000.csv`, written
    day by day: memory holds only the dossiers still to be exported, never the whole history. The
    simulation, the mergers of the reference data and the rate of each kind of bad row are the sample's.
    Returns (path, rows) per file, oldest first."""
    rng = random.Random(seed)
    world = _World(Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR, rng,
                   end=datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59))
    days, weights = _day_weights(world, first_day, last_day)
    counts = _spread(dossiers, weights)
    corruptor = _Corruptor(world, rng)
    style = _Style("csv")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    due: dict[date, list[_Dossier]] = {}  # export day -> dossiers shown that day
    written: list[tuple[Path, int]] = []
    for day, k in zip(days, counts, strict=True):
        seq: dict[str, int] = {}
        for _ in range(k):
            d = world.simulate(day)
            if d is None:
                continue
            n = seq.get(d.unit, 0) + 1
            seq[d.unit] = n
            d.code = f"{d.unit}-{day:%y%m%d}-{n:05d}"
            first = d.first_t.date()
            last = max(d.last_t.date(), first + timedelta(days=2))
            middle = first + timedelta(days=_randint(rng, 1, (last - first).days - 1))
            for export_day in (first, middle, last):
                due.setdefault(export_day, []).append(d)
        shown = due.pop(day, [])
        t = datetime(day.year, day.month, day.day, 20, 0, 0)
        path = target / f"ho_so_{t:%Y%m%dT%H%M%S}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(HEADERS)
            rows = 0
            for d in shown:
                if d.first_t > t:  # received after 20:00: the next export shows it
                    due.setdefault(day + timedelta(days=1), []).append(d)
                    continue
                rec = _record(d, d.state(t))
                r = rng.random()
                if r < BAD_ROW_RATE * len(BAD_ROW_KINDS):
                    kind = BAD_ROW_KINDS[int(r / BAD_ROW_RATE)]
                    if kind != "duplicate_conflict" and corruptor.eligible(kind, rec):
                        rec = corruptor.apply(kind, rec, t, portal=False)
                writer.writerow(_text_row(rec, style, rng))
                rows += 1
        written.append((path, rows))
    return written
