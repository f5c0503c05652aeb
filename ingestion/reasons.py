"""Quarantine reasons and file rejections for staff: a stable code and a Vietnamese text beside each reason the
loader writes.

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

# A rejected file's message (audit.file_loads.message, English, naming the file and where): its kind, first match
# wins; the view audit.file_loads_explained adds rejection_code and rejection_vi for staff.
REJECTION_KINDS: list[tuple[str, str, str]] = [
    # first: the file's own name may hold words the patterns below look for (ingestion/partitions.py)
    ("MONTH_ARCHIVED", r"a month archived from raw",
     "tháng trích xuất của tệp đã được lưu trữ ra tệp (archive-raw): cần khôi phục (restore-raw) rồi nạp lại"),
    ("HEADER_MISSING_COLUMNS", r"missing from the header row", "thiếu cột bắt buộc ở dòng tiêu đề"),
    ("HEADER_REPEATED", r"header '.*' repeats", "một tiêu đề cột xuất hiện hai lần"),
    ("FILE_EMPTY", r"the file is empty", "tệp rỗng (không có dòng tiêu đề hoặc bản ghi)"),
    ("NOT_UTF8", r"not valid (UTF|CP|WINDOWS|ASCII)", "tệp không đúng bảng mã (cần UTF-8)"),
    ("NUL_CHARACTER", r"NUL character", "tệp chứa ký tự NUL (U+0000)"),
    ("LINE_ENDINGS", r"carriage return alone", "tệp dùng ký tự xuống dòng CR kiểu cũ"),
    ("NOT_A_WORKBOOK", r"not a readable \.xlsx? workbook", "không phải tệp Excel đọc được"),
    ("SHEET_MISSING", r"(has no sheet|sheet '.*' is missing)", "thiếu trang tính (sheet) bắt buộc"),
    ("FILE_KIND", r"is not an accepted kind of file", "loại tệp không được chấp nhận (.csv, .json, .xlsx…)"),
    ("TOO_LARGE", r"(more than [0-9,]+ rows|beyond the|larger than the limit|decompresses|longer than)",
     "tệp vượt quá giới hạn dung lượng hoặc số dòng"),
    ("JSON_NOT_ARRAY", r"(not an array of records|ends inside the array|between records|closing '\]')",
     "tệp JSON không phải một mảng bản ghi hoàn chỉnh"),
    ("UNKNOWN_EXPORT", r"cannot tell which export this is", "không xác định được loại tệp xuất (đặt tên theo mẫu)"),
    ("ARCHIVE_REFUSED", r"(archives are not|archive inside|a '.*' archive|nested deeper)",
     "tệp nén không được chấp nhận ở đây"),
    ("UNSAFE_ENTRY", r"(outside the submission|absolute path|a link;|hard link|encrypted)",
     "gói hồ sơ chứa mục không an toàn (đường dẫn ra ngoài, liên kết hoặc mã hóa)"),
    ("NOT_A_ZIP", r"not a readable ZIP", "không phải tệp ZIP đọc được"),
    ("SUBMISSION_NAME", r"(not named <unit code>|differs from the submission's name|is not a submission)",
     "tên gói báo cáo không đúng mẫu <mã đơn vị>_<kỳ báo cáo>"),
    ("WORKBOOK_MISSING", r"(the workbook .* is missing|second workbook)",
     "thiếu hoặc thừa tệp Excel báo cáo trong gói"),
    ("SUBMISSION_FIELD", r"(is missing or empty|Mã đơn vị '|Ngày gửi ')",
     "thông tin chung của báo cáo (đơn vị, kỳ, ngày gửi) thiếu hoặc sai"),
    ("UNREADABLE", r"(near line|within the first|after record|record \d+:|damaged)",
     "tệp hỏng hoặc sai định dạng, không đọc được"),
]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _whens(column: str, kinds: list[tuple[str, str, str]], part: int) -> str:
    """A CASE's WHEN lines: the column matched against each kind's pattern, giving its code (part 0) or text (2)."""
    return "\n".join(f"            when {column} ~ {_literal(kind[1])} then {_literal(kind[part])}" for kind in kinds)


def view_ddl() -> str:
    codes, texts = _whens("r.reason", KINDS, 0), _whens("r.reason", KINDS, 2)
    rejection_codes, rejection_texts = _whens("f.message", REJECTION_KINDS, 0), _whens("f.message", REJECTION_KINDS, 2)
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
create or replace view audit.file_loads_explained as
select f.*,
       case when f.status <> 'rejected' then null
{rejection_codes}
            else 'OTHER' end as rejection_code,
       case when f.status <> 'rejected' then null
{rejection_texts}
            else f.message end as rejection_vi
from audit.file_loads f;
comment on view audit.file_loads_explained is
    'audit.file_loads with, for a rejected file, a stable code (rejection_code) and the Vietnamese text '
    '(rejection_vi) of why; message keeps the English details (file, line).';
"""
