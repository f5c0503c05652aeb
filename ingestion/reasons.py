"""Quarantine reasons for staff: a stable code and a Vietnamese text beside each reason the loader writes.

The loader's reasons (quarantine.rows.reasons) stay as written — English, naming the column by its Vietnamese
header and quoting the value — because tests, the DAG logs and re-processing rely on them. The view
quarantine.rows_explained adds, reason by reason, `reason_codes` (for machines and filters) and `reasons_vi`
(for staff): the header, the Vietnamese text of the kind, and the quoted value. A reason of a kind not listed
here gets the code OTHER and its English text.
"""

from __future__ import annotations

# (code, regular expression on the English reason, Vietnamese text), first match wins.
KINDS: list[tuple[str, str, str]] = [
    ("REQUIRED_EMPTY", r": required value is empty", "thiếu giá trị bắt buộc"),
    ("DUPLICATE_IN_FILE", r"appears more than once in the file with different content",
     "mã lặp lại trong cùng tệp với nội dung khác nhau"),
    ("END_DATE_MISSING", r"terminal status \d+ without an end date",
     "trạng thái đã kết thúc nhưng không có ngày kết thúc"),
    ("UNIT_UNKNOWN", r"is not in the units registry", "mã đơn vị không có trong danh mục đơn vị"),
    ("UNIT_NOT_VALID", r"is not valid on", "đơn vị không còn hiệu lực vào ngày này"),
    ("DATE_INVALID", r"is not a (valid date|date in an accepted form)",
     "không phải ngày hợp lệ (dd/mm/yyyy [HH:MM[:SS]])"),
    ("DATE_ORDER", r"is before", "ngày sớm hơn ngày phải có trước nó"),
    ("AFTER_EXTRACTION", r"is after the file's extraction time", "sau thời điểm trích xuất của tệp"),
    ("AMOUNT_INVALID", r"is not an amount in VND",
     "không phải số tiền VND (số nguyên, hàng nghìn ngăn cách bằng '.', ',' hoặc khoảng trắng)"),
    ("INTEGER_INVALID", r"is not a whole number", "không phải số nguyên"),
    ("NUMBER_INVALID", r"is not a number", "không phải số"),
    ("CODE_UNKNOWN", r"is not a known", "mã không có trong danh mục"),
    ("NOT_IN_CATALOG", r"catalog for \w+ units", "mã không có trong bộ tiêu chí / chỉ tiêu của năm và cấp đơn vị"),
    ("SCORE_OUT_OF_RANGE", r"is outside the criterion's range", "điểm ngoài khung điểm của tiêu chí"),
]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_ddl() -> str:
    codes = "\n".join(f"            when r.reason ~ {_literal(pattern)} then {_literal(code)}"
                      for code, pattern, _ in KINDS)
    texts = "\n".join(f"            when r.reason ~ {_literal(pattern)} then {_literal(text)}"
                      for _, pattern, text in KINDS)
    return f"""
-- dropped, not replaced: q.* gains a column whenever quarantine.rows does
drop view if exists quarantine.rows_explained;
create view quarantine.rows_explained as
select q.*, e.reason_codes, e.reasons_vi
from quarantine.rows q
cross join lateral (
    select array_agg(k.code order by r.n) as reason_codes,
           array_agg(case when k.text_vi is null then r.reason
                          else concat_ws(': ', substring(r.reason from '^([^:]+): '), k.text_vi)
                               || coalesce(' (' || substring(r.reason from '''([^'']*)''') || ')', '')
                     end order by r.n) as reasons_vi
    from unnest(q.reasons) with ordinality as r(reason, n)
    cross join lateral (
        select case
{codes}
            else 'OTHER' end as code,
        case
{texts}
        end as text_vi
    ) as k
) as e;
comment on view quarantine.rows_explained is
    'quarantine.rows with, reason by reason, a stable code (reason_codes) and the Vietnamese text (reasons_vi).';
"""
