"""The sample province every source of the samples shares: its time span, its units (the units registry with its
mergers, and the plainer view the document and self-report samples use), its working calendar, its people, the
random draws the simulations make, and the ZIP writer with fixed times that keeps a seed's files byte-identical.

The random helpers (`choice`, `randint`) draw with `rng.random()` once each, as the one-stop-shop simulation always
has: a seed's draws, and so its files, stay the same across Python versions.
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from reformwh.settings import DEFAULT_REFERENCE_DIR

__all__ = ["DEFAULT_REFERENCE_DIR", "FIRST_DAY", "LAST_EXTRACTION", "frozen_zip"]

FIRST_DAY = date(2024, 1, 1)
LAST_EXTRACTION = datetime(2025, 12, 20, 18, 0, 0)


# --------------------------------------------------------------------------------------------------
# Units and working days
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitVersion:
    idx: int
    code: str
    name: str
    level: str
    parent: str
    valid_from: date
    valid_to: date  # date.max when open
    successor: str
    has_procedures: bool


class UnitRegistry:
    """The units registry (units.csv), every version of every unit, with the look-ups the dossier simulation
    needs (which version is valid on a day, the mergers a unit absorbed)."""

    def __init__(self, reference_dir: Path):
        with open(reference_dir / "units.csv", encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        self.versions: list[UnitVersion] = []
        for i, row in enumerate(rows):
            r = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            self.versions.append(
                UnitVersion(
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
        self.by_code: dict[str, list[UnitVersion]] = {}
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

    def level_of_parent(self, version: UnitVersion) -> str:
        parents = self.by_code.get(version.parent)
        return parents[0].level if parents else ""

    def valid(self, code: str, day: date) -> UnitVersion | None:
        for v in self.by_code.get(code, ()):
            if v.valid_from <= day <= v.valid_to:
                return v
        return None

    def valid_versions(self, day: date) -> list[UnitVersion]:
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


class WorkingCalendar:
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


@dataclass
class ReportingUnit:
    """A row of units.csv as the document and self-report samples see it: a unit while it exists, its
    abbreviation in document numbers and its leaders' titles."""

    code: str
    name: str
    level: str
    valid_from: date
    valid_to: date | None

    def exists(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def abbreviation(self) -> str:
        if self.level in ("commune", "district", "province"):
            return "UBND"
        words = unicodedata.normalize("NFD", self.name).encode("ascii", "ignore").decode().split()
        return "".join(w[0].upper() for w in words if w[0].isalpha())[:6]

    @property
    def leader_titles(self) -> tuple[str, str]:
        return ("Chủ tịch", "Phó Chủ tịch") if self.level in ("commune", "district") else ("Giám đốc", "Phó Giám đốc")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_reporting_units(reference_dir: Path) -> list[ReportingUnit]:
    units = []
    for r in read_csv(reference_dir / "units.csv"):
        units.append(ReportingUnit(r["unit_code"], r["unit_name"], r["unit_level"],
                                   date.fromisoformat(r["valid_from"]),
                                   date.fromisoformat(r["valid_to"]) if r["valid_to"] else None))
    return units


def months(first: date, last: date):
    """(first day, last day) of every calendar month from first's to last's, the last one cut at `last`."""
    day = first.replace(day=1)
    while day <= last:
        nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        yield day, min(nxt - timedelta(days=1), last)
        day = nxt


# --------------------------------------------------------------------------------------------------
# People and random draws
# --------------------------------------------------------------------------------------------------

SURNAMES = (
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
MIDDLE_NAMES_MALE = [
    "Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thanh", "Xuân", "Ngọc", "Anh", "Đình", "Trọng",
]
MIDDLE_NAMES_FEMALE = [
    "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Mai", "Kim", "Phương", "Hoài", "Bảo", "Diệu",
]
GIVEN_NAMES_MALE = [
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
GIVEN_NAMES_FEMALE = [
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
COMPANY_WORDS = [
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
COMPANY_KINDS = [
    "Công ty TNHH",
    "Công ty TNHH MTV",
    "Công ty Cổ phần",
    "Công ty TNHH Thương mại và Dịch vụ",
    "Công ty Cổ phần Xây dựng",
    "Công ty TNHH Đầu tư",
]
PHONE_PREFIXES = [
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


def choice(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


def randint(rng: random.Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def ascii_fold(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class People:
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
                choice(rng, SURNAMES),
                choice(rng, MIDDLE_NAMES_FEMALE if female else MIDDLE_NAMES_MALE),
                choice(rng, GIVEN_NAMES_FEMALE if female else GIVEN_NAMES_MALE),
            ]
        )
        year = randint(rng, 1945, min(2007, day.year - 18))
        century = 0 if year < 2000 else 2
        idno = f"044{century + female}{year % 100:02d}{randint(rng, 0, 999_999):06d}"
        phone = "" if rng.random() < 0.08 else choice(rng, PHONE_PREFIXES) + f"{randint(rng, 0, 9_999_999):07d}"
        email = ""
        if rng.random() < 0.25:
            parts = ascii_fold(name).lower().split()
            local = choice(
                rng, [parts[-1] + "".join(p[0] for p in parts[:-1]), parts[-1] + "." + parts[0], "".join(parts)]
            )
            domain = choice(rng, ["gmail.com", "gmail.com", "yahoo.com.vn", "outlook.com"])
            email = f"{local}{randint(rng, 1, 99)}@{domain}"
        return name, idno, phone, email

    def company(self) -> str:
        return f"{choice(self.rng, COMPANY_KINDS)} {choice(self.rng, COMPANY_WORDS)}"


# --------------------------------------------------------------------------------------------------
# Files with fixed times
# --------------------------------------------------------------------------------------------------


def frozen_zip(data: bytes, stamp: date) -> bytes:
    """A ZIP or workbook rewritten with fixed times (its entries' and a workbook's document properties), so
    that the same seed gives byte-identical files (the loader recognises a file by its content hash)."""
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
