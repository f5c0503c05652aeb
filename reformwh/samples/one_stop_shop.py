"""One-stop-shop exports (hồ sơ TTHC) of the sample province.

The generator simulates every dossier's life (registration, receipt, supplement and fee requests, transfer
to a successor unit, finish, hand-over, apology, rating) against the reference data (units registry and
holidays) and the procedure catalogue (procedures.csv, beside this module), then writes the snapshots an export
system would have produced: monthly full extractions, daily partial ones, in every accepted file format and with
the date, code and label variants real exports show, plus a low rate of every kind of bad row of spec/sources.md
§5 and three files that must be rejected.

Every record shows a dossier as of its file's extraction time (the time in the file name; a date alone
means 23:59:59 of that day), so no valid row carries an event after it. Standard library plus openpyxl.

    generate_samples(out_dir, scale=1.0, seed=20250101) -> SampleReport: paths under out_dir/one_stop_shop/,
                                                           with per-file row and bad-row counts
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import random
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

from reformwh.samples.world import (
    DEFAULT_REFERENCE_DIR,
    FIRST_DAY,
    GIVEN_NAMES_FEMALE,
    LAST_EXTRACTION,
    MIDDLE_NAMES_FEMALE,
    PHONE_PREFIXES,
    SURNAMES,
    People,
    UnitRegistry,
    UnitVersion,
    WorkingCalendar,
    choice,
    frozen_zip,
    randint,
)

__all__ = ["BAD_ROW_KINDS", "HEADERS", "PROCEDURES", "SampleReport", "generate_samples"]

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
# Procedures
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field_code: str
    field_name: str
    days: int  # processing time in working days
    fees: tuple[int, ...]
    level: str  # "Toàn trình", "Một phần" or "" (not offered online)
    weight: float
    scope: str  # "commune", "district" or "dept:<keyword>"


def read_procedures() -> list[Procedure]:
    """The procedure catalogue, procedures.csv beside this module (package data): per procedure its code, name and
    field, the processing time in working days, the possible fees (VND, separated by spaces), the online level,
    the relative weight of its dossiers and where it is offered: `commune`, `district` (by the communes too once
    the districts are gone), or `dept:<keyword>` by a department whose name holds the keyword (`dept:*`: a
    department that matches no keyword)."""
    text = resources.files(__package__).joinpath("procedures.csv").read_text(encoding="utf-8")
    return [
        Procedure(
            code=row["procedure_code"],
            name=row["procedure_name"],
            field_code=row["field_code"],
            field_name=row["field_name"],
            days=int(row["processing_working_days"]),
            fees=tuple(int(fee) for fee in row["fees_vnd"].split()),
            level=row["online_level"],
            weight=float(row["weight"]),
            scope=row["scope"],
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


PROCEDURES: list[Procedure] = read_procedures()


_DEPT_WEIGHT = 2.0
_LATE_RATE = {"DD": 0.25}
_LATE_RATE_OTHER = 0.025


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


# --------------------------------------------------------------------------------------------------
# Dossier simulation
# --------------------------------------------------------------------------------------------------


class Dossier:
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


class DossierSimulator:
    """Reference data, procedure distributions and the dossier simulator."""

    def __init__(self, reference_dir: Path, rng: random.Random, end: datetime = LAST_EXTRACTION):
        self.reg = UnitRegistry(reference_dir)
        self.cal = WorkingCalendar(reference_dir)
        self.rng = rng
        self.people = People(rng)
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
    def _procs_for(self, version: UnitVersion, day: date, districts_exist: bool) -> list[tuple[Procedure, float]]:
        reg = self.reg
        out: list[tuple[Procedure, float]] = []
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

    def distribution(self, day: date) -> tuple[list[tuple[str, Procedure]], list[float]]:
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
            items: list[tuple[str, Procedure]] = []
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

    def pick(self, day: date) -> tuple[str, Procedure] | None:
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
    def simulate(self, sub_day: date) -> Dossier | None:
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
            m = choice(rng, _OFFICE) if rng.random() < 0.75 and working else int(rng.random() * 1440)
            submitted = datetime(sub_day.year, sub_day.month, sub_day.day, m // 60, m % 60, int(rng.random() * 60))
            if working and _MORNING[0] <= m < _AFTERNOON[1] - 30:
                received = submitted + timedelta(minutes=randint(rng, 5, 150))
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
            m = choice(rng, _OFFICE)
            submitted = datetime(sub_day.year, sub_day.month, sub_day.day, m // 60, m % 60, int(rng.random() * 60))
            received = submitted

        d = Dossier()
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
        fee = choice(rng, proc.fees)
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
        d.note = choice(rng, _NOTES)
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
        d.officer = " ".join([choice(rng, SURNAMES), choice(rng, MIDDLE_NAMES_FEMALE), choice(rng, GIVEN_NAMES_FEMALE)])
        due = self.due_after(received, proc.days)
        events += [(received, "received", received), (received, "due", due), (received, "status", 2)]
        cur = received + timedelta(minutes=randint(rng, 5, 120))
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
                    t = self.office_after(req, randint(rng, 3, 20))
                    end_state = (t, 7)
                elif y < 0.8:
                    t = self.office_after(req, randint(rng, 15, 30))
                    end_state = (t, 8)
                else:  # waits for months, then the unit stops processing it
                    t = self.office_after(req, randint(rng, 60, 120))
                    end_state = (t, 8)
                cur = req
                break
            sup = self.office_after(req, randint(rng, 1, 10))
            new_due = self.due_after(sup, proc.days)
            d.supps.append((req, sup, due, new_due))
            events += [(sup, "status", 4), (sup, "due", new_due)]
            cur, due = sup, new_due
        if end_state is None and proc.field_code == "DD" and rng.random() < 0.4 and cur < due:
            req = self._between(cur, due)
            if req is not None:
                paid = self.office_after(req, randint(rng, 1, 7))
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
                k = randint(rng, 1, 15) if proc.field_code == "DD" else randint(rng, 1, 5)
                finish = self.office_after(due, k)
            else:
                finish = self._on_time(cur, due)
            no_finish_record = channel != 2 and rng.random() < 0.05
            if no_finish_record:  # only the hand-over is recorded: it ends the processing, the same day
                room = int((due - finish).total_seconds() // 60) if not late else 90
                returned = finish + timedelta(minutes=randint(rng, 1, min(90, room))) if room >= 2 else finish
            elif proc.level == "Toàn trình" and channel == 2:
                returned = finish + timedelta(minutes=randint(rng, 1, 30))
            else:
                k = 0 if rng.random() < 0.4 else randint(rng, 1, 5)
                returned = self.office_after(finish, k)
            never_returned = rng.random() < 0.05 and not no_finish_record
            if no_finish_record:
                events += [(returned, "status", 10), (returned, "returned", returned)]
            else:
                events += [(finish, "status", 9), (finish, "finished", finish)]
                if not never_returned:
                    events += [(returned, "status", 10), (returned, "returned", returned)]
            if not never_returned and rng.random() < 0.35:
                rated = returned + timedelta(minutes=randint(rng, 1, 3 * 24 * 60))
                z = rng.random()
                if late:
                    rating = "Không hài lòng" if z < 0.35 else ("Hài lòng" if z < 0.8 else "Rất hài lòng")
                else:
                    rating = "Không hài lòng" if z < 0.04 else ("Hài lòng" if z < 0.42 else "Rất hài lòng")
                events.append((rated, "rating", rating))
        # apology letters for a part of the late ones (finished late, or still open past the due date)
        if late and rng.random() < 0.45:
            t = self.office_after(due, randint(rng, 1, 3))
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

    def add_transfers(self, dossiers: list[Dossier]) -> None:
        """Open dossiers of a unit that closes move to its successor (half of them) or, for a district, to a
        commune of the district that carries on (a third of them): the unit of a later version changes."""
        reg, rng = self.reg, self.rng
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
                    target = choice(rng, options)
            if target and reg.valid(target, d.received_day) is not None and reg.valid(target, nxt) is not None:
                d.events.append((at, "unit", target))
                d.events.sort(key=lambda e: e[0])
                d.last_t = max(d.last_t, at)


def _assign_codes(dossiers: list[Dossier]) -> None:
    """Mã hồ sơ: <unit code>-<yymmdd of submission>-<4-digit sequence of that unit and day>."""
    dossiers.sort(key=lambda d: (d.first_t, d.unit))
    seq: dict[tuple[str, date], int] = {}
    for d in dossiers:
        key = (d.unit, d.first_t.date())
        n = seq.get(key, 0) + 1
        seq[key] = n
        d.code = f"{d.unit}-{d.first_t:%y%m%d}-{n:04d}"


def day_weights(world: DossierSimulator, first: date, last: date) -> tuple[list[date], list[float]]:
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


def spread(total: int, weights: list[float]) -> list[int]:
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


def record(d: Dossier, s: dict) -> dict:
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
class ExportStyle:
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


def text_row(rec: dict, st: ExportStyle, rng: random.Random) -> list[str]:
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


def _json_obj(rec: dict, st: ExportStyle, rng: random.Random) -> dict:
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


class Corruptor:
    """Turns a valid record into a bad one of a given kind; counts what it did."""

    def __init__(self, world: DossierSimulator, rng: random.Random):
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
            key = choice(rng, options)
            rec[key] = None if key in ("received", "due") else _EMPTY
        elif kind == "bad_date":
            keys = [k for k in ("received", "due", "finished", "returned") if rec[k] is not None] or ["received"]
            key = choice(rng, keys)
            pool = _BAD_DATES_PORTAL if portal else _BAD_DATES_TEXT
            rec[key] = _Raw(choice(rng, pool).format(y=year))
        elif kind == "bad_number":
            if portal or rng.random() < 0.7:
                rec["fee"] = _Raw(choice(rng, _BAD_AMOUNTS))
            else:
                rec["supp"] = _Raw(choice(rng, _BAD_COUNTS))
        elif kind == "unknown_unit":
            rec["unit"] = choice(rng, self.unknown)
        elif kind == "unit_not_valid":
            rec["unit"] = choice(rng, self.world.invalid_codes_on(rec["received"].date()))
        elif kind == "due_before_received":
            d = rec["received"].date() - timedelta(days=randint(rng, 1, 5))
            rec["due"] = datetime(d.year, d.month, d.day, 17, 0)
        elif kind == "terminal_without_end":
            rec["status"] = choice(rng, TERMINAL_STATUSES)
            rec["finished"] = rec["returned"] = rec["refused"] = None
        elif kind == "event_after_extraction":
            later = extraction.date() + timedelta(days=randint(rng, 1, 10))
            t = datetime(later.year, later.month, later.day, randint(rng, 8, 16), choice(rng, (0, 15, 30, 45)))
            key = choice(rng, ("finished", "returned")) if rec["received"] is not None else "refused"
            rec[key] = t
        elif kind == "duplicate_conflict":
            rec["phone"] = choice(rng, PHONE_PREFIXES) + f"{randint(rng, 0, 9_999_999):07d}"
            fee = rec["fee"]
            total = _fee_total(rec) if not isinstance(fee, _Raw) else 0
            rec["fee"] = [("LEPHI", (total if isinstance(total, int) else 0) + 50_000, 1)]
        return rec


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def _headers(st: ExportStyle) -> list[str]:
    hs = HEADERS + (EXTRA_HEADERS if st.extra else [])
    if st.header == "upper":
        hs = [h.upper() for h in hs]
    elif st.header == "spaces":
        hs = [f" {h}  " for h in hs]
    elif st.header == "nfd":
        hs = [_nfd(h) for h in hs]
    return hs


def _permutation(n: int, st: ExportStyle, rng: random.Random) -> list[int]:
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
    st: ExportStyle,
    rng: random.Random,
    headers: list[str] | None = None,
    encoding: str | None = None,
) -> int:
    hs = headers if headers is not None else _headers(st)
    order = _permutation(len(hs), st, rng)
    delim = {"csv": ",", "csv_semicolon": ";", "txt": "\t"}[st.fmt]
    rows = [[hs[i] for i in order]]
    for rec in recs:
        row = text_row(rec, st, rng)
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


def _write_json(path: Path, recs: list[dict], st: ExportStyle, rng: random.Random) -> int:
    objs = [json.dumps(_json_obj(rec, st, rng), ensure_ascii=False) for rec in recs]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        if st.fmt == "json":
            handle.write("[\n" + ",\n".join(objs) + "\n]\n")
        else:
            for o in objs:
                handle.write(o + "\n")
    return len(recs)


def _write_xlsx(
    path: Path, recs: list[dict], st: ExportStyle, rng: random.Random, title: tuple[str, str, str], stamp: datetime
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
        text = text_row(rec, replace(st, nfd_rows=0.0), rng)
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


# --------------------------------------------------------------------------------------------------


@dataclass
class _Extraction:
    t: datetime
    name_has_time: bool
    full: bool
    style: ExportStyle
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


def _schedule(world: DossierSimulator, rng: random.Random, partial_share: float) -> list[_Extraction]:
    ex: list[_Extraction] = []
    full_formats = {3: "xlsx", 6: "txt", 9: "csv_semicolon", 11: "json", 14: "csv_semicolon", 16: "xlsx", 20: "jsonl"}
    for i, end in enumerate(_month_ends(FIRST_DAY, LAST_EXTRACTION)):
        fmt = full_formats.get(i, "csv")
        date_only = i % 2 == 0 and fmt not in ("xlsx",)
        if date_only:
            t = datetime(end.year, end.month, end.day, 23, 59, 59)
        else:
            nxt = end + timedelta(days=1)
            t = datetime(nxt.year, nxt.month, nxt.day, choice(rng, (1, 2, 6)), choice(rng, (0, 30)), 0)
        st = _full_style(i, fmt, date_only)
        ex.append(_Extraction(t, not date_only, True, st))
    # the last extraction: a full one
    ex.append(
        _Extraction(
            LAST_EXTRACTION,
            True,
            True,
            ExportStyle("csv", dt="%d/%m/%Y %H:%M:%S", status="label", channel="label", extra=True),
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
                choice(rng, (17, 18, 19, 21, 22)),
                choice(rng, (0, 30, 45)),
                choice(rng, (0, 0, 15)),
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
        ex.append(_Extraction(t, True, False, ExportStyle("csv"), reject=kind))
    ex.sort(key=lambda e: e.t)
    return ex


def _full_style(i: int, fmt: str, date_only: bool) -> ExportStyle:
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
    st = ExportStyle(fmt, **variants[i % len(variants)])
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


def _partial_style(n: int, fmt: str, rng: random.Random) -> ExportStyle:
    dts = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"]
    st = ExportStyle(
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


def _simulate_all(world: DossierSimulator, n_total: int) -> list[Dossier]:
    days, weights = day_weights(world, FIRST_DAY, LAST_EXTRACTION.date())
    counts = spread(n_total, weights)
    dossiers: list[Dossier] = []
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
    world = DossierSimulator(Path(reference_dir) if reference_dir else DEFAULT_REFERENCE_DIR, rng)
    n_total = max(1, round(DOSSIERS_AT_SCALE_1 * scale))
    dossiers = _simulate_all(world, n_total)
    _assign_codes(dossiers)
    report = SampleReport(dossiers=len(dossiers))
    world.add_transfers(dossiers)

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
    corruptor = Corruptor(world, rng)
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
                chosen.append(record(d, s))
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
                    chosen.append(record(d, d.state(T)))
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
            out.insert(randint(rng, pos + 1, len(out)), dup)
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
    st = ExportStyle("csv", dt="%d/%m/%Y %H:%M")
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
