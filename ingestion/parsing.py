"""Value parsers of the input contract (spec/sources.md): codes, yes/no, amounts, numbers; dates are
ingestion/dates.py's.

Each parser takes a stripped NFC string (never empty: empty means NULL and is handled by the caller)
and returns the value to store, or raises ValueError with a short reason.
"""

from __future__ import annotations

import re

from ingestion.dates import event_time, plain_date, receipt_time


def _label_parser(name: str, labels: dict[str, object]):
    table = {k.casefold(): v for k, v in labels.items()}
    accepted = ", ".join(sorted({k for k in labels if not k.isdigit()})) or ", ".join(labels)

    def parse(text: str):
        try:
            return table[text.casefold()]
        except KeyError:
            raise ValueError(f"is not a known {name} (expected a code or one of: {accepted})") from None

    return parse


channel = _label_parser(
    "channel", {"1": 1, "2": 2, "3": 3, "Trực tiếp": 1, "Trực tuyến": 2, "Bưu chính công ích": 3, "Bưu chính": 3}
)
service_level = _label_parser("service level", {"Toàn trình": "full", "Một phần": "partial"})
DOSSIER_STATUS_LABELS = {
    "Mới đăng ký": 1,
    "Được tiếp nhận": 2,
    "Không được tiếp nhận": 3,
    "Đang xử lý": 4,
    "Yêu cầu bổ sung giấy tờ": 5,
    "Yêu cầu thực hiện nghĩa vụ tài chính": 6,
    "Công dân yêu cầu rút hồ sơ": 7,
    "Dừng xử lý": 8,
    "Đã xử lý xong": 9,
    "Đã trả kết quả": 10,
}
dossier_status = _label_parser(
    "dossier status", {**{str(v): v for v in DOSSIER_STATUS_LABELS.values()}, **DOSSIER_STATUS_LABELS}
)
yes_no = _label_parser(
    "yes/no value",
    {"có": True, "không": False, "x": True, "1": True, "0": False, "true": True, "false": False,
     "yes": True, "no": False},
)
payment = _label_parser("online payment code (0, 1 or 2)", {"0": 0, "1": 1, "2": 2})
rating = _label_parser(
    "rating", {"Rất hài lòng": "very_satisfied", "Hài lòng": "satisfied", "Không hài lòng": "unsatisfied"}
)

register = _label_parser("register (Sổ)", {"Đi": "outgoing", "Đến": "incoming"})
document_form = _label_parser(
    "form (Hình thức)", {"Điện tử": "electronic", "Giấy": "paper", "Điện tử và giấy": "electronic_and_paper"}
)

# re.ASCII: \d is 0-9 only. Python's int() would read fullwidth or Arabic-Indic digits, and a look-alike must
# not load as an amount or a count.
_AMOUNT = re.compile(r"\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+", re.ASCII)
MAX_AMOUNT = 2**63 - 1  # bigint
MAX_COUNT = 2**31 - 1  # integer


def amount(text: str) -> int:
    if len(text) > 40 or not _AMOUNT.fullmatch(text):
        raise ValueError("is not an amount in VND (an integer, thousands separated by '.', ',' or space)")
    value = int(re.sub(r"[., ]", "", text))
    if value > MAX_AMOUNT:
        raise ValueError("is too large for an amount in VND")
    return value


_COUNT = re.compile(r"\d+", re.ASCII)


def count(text: str) -> int:
    if not _COUNT.fullmatch(text):
        raise ValueError("is not a whole number")
    if len(text) > 10 or int(text) > MAX_COUNT:
        raise ValueError("is too large a number")
    return int(text)


_DECIMAL = re.compile(r"-?(\d+)(?:[.,](\d+))?", re.ASCII)


def decimal(text: str) -> str:
    """A score or figure: '2.5' or '2,5' (Vietnamese decimal comma); kept as exact text for numeric."""
    m = _DECIMAL.fullmatch(text)
    if not m:
        raise ValueError("is not a number")
    if len(m[1]) > 15 or len(m[2] or "") > 20:  # no score or figure has more; numeric has a limit too
        raise ValueError("has too many digits (at most 15 before the decimal point and 20 after)")
    return text.replace(",", ".")


PARSERS = {
    "receipt_time": receipt_time,
    "event_time": event_time,
    "date": plain_date,
    "channel": channel,
    "service_level": service_level,
    "dossier_status": dossier_status,
    "yes_no": yes_no,
    "payment": payment,
    "amount": amount,
    "count": count,
    "rating": rating,
    "register": register,
    "document_form": document_form,
    "decimal": decimal,
}
