"""The input contract of each export (spec/sources.md): canonical column names, the headers and portal
field names that carry them, which are required, and how each value is parsed.

The raw table of an entity is derived from its contract: lineage columns, one verbatim text column per
field (same name), and one `<field>_parsed` column per field whose kind is not plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Parser kinds (see ingestion/parsing.py); the SQL type each parsed value is stored as.
PARSED_SQL_TYPE = {
    "receipt_time": "timestamp",  # a date alone means 00:00
    "event_time": "timestamp",  # a date alone means 23:59:59
    "date": "date",
    "channel": "smallint",
    "service_level": "text",
    "dossier_status": "smallint",
    "yes_no": "boolean",
    "payment": "smallint",
    "amount": "bigint",
    "count": "integer",
    "rating": "text",
    "register": "text",
    "document_form": "text",
    "decimal": "numeric",
}


@dataclass(frozen=True)
class Field:
    name: str
    header: str
    portal: str | None = None
    kind: str = "text"
    # "file": the header must be present and the value non-empty; "header": the header must be present
    # but the value may be empty where a rule allows it (checked by the entity's row rules).
    required: str | None = None
    personal: bool = False

    @property
    def parsed(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Contract:
    source: str
    entity: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    file_prefixes: tuple[str, ...] = field(default=())
    # columns the incremental models look raw rows up by: a B-tree on every month partition of raw
    raw_lookup: tuple[str, ...] = field(default=())

    @property
    def raw_table(self) -> str:
        return f"raw.{self.source}__{self.entity}"

    @property
    def key_indexes(self) -> list[int]:
        """Where the key's fields stand among the contract's fields."""
        names = [f.name for f in self.fields]
        return [names.index(k) for k in self.key]

    def by_name(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


DOSSIERS = Contract(
    source="one_stop_shop",
    entity="dossiers",
    key=("dossier_code",),
    raw_lookup=("dossier_code",),  # every version of the day's dossiers (int_dossier_versions_compared)
    fields=(
        Field("dossier_code", "Mã hồ sơ", "MaHoSo", required="file"),
        Field("procedure_code", "Mã TTHC", "MaTTHC", required="file"),
        Field("procedure_name", "Tên TTHC", "TenTTHC"),
        Field("field_code", "Mã lĩnh vực", "MaLinhVuc"),
        Field("field_name", "Tên lĩnh vực", "TenLinhVuc"),
        Field("unit_code", "Mã đơn vị", "DonViXuLy", required="file"),
        Field("channel", "Kênh thực hiện", "KenhThucHien", kind="channel", required="file"),
        Field("service_level", "Mức độ DVC", "MucDo", kind="service_level"),
        Field("applicant_name", "Chủ hồ sơ", "ChuHoSo", personal=True),
        Field("applicant_id_number", "Số giấy tờ", "SoGiayToChuHoSo", personal=True),
        Field("applicant_phone", "Số điện thoại", "SoDienThoai", personal=True),
        Field("applicant_email", "Email", "Email", personal=True),
        Field("received_at", "Ngày tiếp nhận", "NgayTiepNhan", kind="receipt_time", required="header"),
        Field("due_at", "Ngày hẹn trả", "NgayHenTra", kind="event_time", required="header"),
        Field("finished_at", "Ngày kết thúc xử lý", "NgayKetThucXuLy", kind="event_time"),
        Field("returned_at", "Ngày trả kết quả", "NgayTra", kind="event_time"),
        Field("refused_at", "Ngày từ chối", "NgayTuChoi", kind="event_time"),
        Field("status", "Trạng thái", "TrangThaiHoSo", kind="dossier_status", required="file"),
        Field("digitized", "Số hóa thành phần", "HoSoCoThanhPhanSoHoa", kind="yes_no"),
        Field("online_payment", "Thanh toán trực tuyến", "DuocThanhToanTrucTuyen", kind="payment"),
        Field("fee_amount", "Lệ phí", "DanhSachLePhi", kind="amount"),
        Field("supplement_count", "Số lần bổ sung", "DanhSachHoSoBoSung", kind="count"),
        Field("apology_issued", "Phiếu xin lỗi", "CoPhieuXinLoi", kind="yes_no"),
        Field("rating", "Mức độ hài lòng", "MucDoHaiLong", kind="rating"),
    ),
)

# Document management (sources.md §2): two exports, told apart by file name prefix, else by their headers.
DOCUMENTS = Contract(
    source="document_management",
    entity="documents",
    key=("document_id",),
    file_prefixes=("van_ban", "so_van_ban", "documents"),
    fields=(
        Field("document_id", "Mã văn bản", required="file"),
        Field("document_number", "Số ký hiệu", required="file"),
        Field("document_date", "Ngày văn bản", kind="date", required="file"),
        Field("document_type", "Loại văn bản"),
        Field("subject", "Trích yếu"),
        Field("unit_code", "Mã đơn vị", required="file"),
        Field("register", "Sổ", kind="register", required="file"),
        Field("form", "Hình thức", kind="document_form", required="file"),
        Field("digitally_signed", "Ký số", kind="yes_no"),
        Field("signer_name", "Người ký", personal=True),
        Field("signer_title", "Chức vụ người ký"),
    ),
)

TASKS = Contract(
    source="document_management",
    entity="tasks",
    key=("task_id", "unit_code"),  # one task assigned to several units appears once per unit
    file_prefixes=("nhiem_vu", "tasks"),
    fields=(
        Field("task_id", "Mã nhiệm vụ", required="file"),
        Field("assigning_document_number", "Số ký hiệu văn bản giao"),
        Field("assigned_by", "Cơ quan giao"),
        Field("unit_code", "Mã đơn vị thực hiện", required="file"),
        Field("content", "Nội dung"),
        Field("assigned_at", "Ngày giao", kind="receipt_time", required="file"),
        Field("deadline_at", "Hạn hoàn thành", kind="event_time"),
        Field("original_deadline_at", "Hạn ban đầu", kind="event_time"),
        Field("completed_at", "Ngày hoàn thành", kind="event_time"),
    ),
)

# Unit self-reports (sources.md §3): one submission (ZIP or folder) per unit and period, a workbook of
# several sheets plus evidence files. Every row carries its submission (the package's SHA-256) and the
# unit and period the submission is for, from the sheet "Thông tin".
_SUBMISSION_FIELDS = (
    Field("submission_id", "submission_id"),
    Field("unit_code", "Mã đơn vị"),
    Field("period_key", "Kỳ báo cáo"),
)

SUBMISSIONS = Contract(
    source="self_reports",
    entity="submissions",
    key=("submission_id",),
    fields=(
        *_SUBMISSION_FIELDS,
        Field("sent_at", "Ngày gửi", kind="event_time", required="file"),
        Field("signer_name", "Người ký", personal=True),
        Field("package_name", "package_name"),
        Field("package_format", "package_format"),
        Field("package_bytes", "package_bytes", kind="count"),
        Field("workbook_name", "workbook_name"),
    ),
)

SCORES = Contract(
    source="self_reports",
    entity="scores",
    key=("submission_id", "criterion_code"),
    file_prefixes=("Tự chấm điểm",),  # the sheet
    fields=(
        *_SUBMISSION_FIELDS,
        Field("criterion_code", "Mã tiêu chí", required="file"),
        Field("criterion_name", "Nội dung"),
        Field("max_points", "Điểm tối đa", kind="decimal"),
        Field("self_score", "Điểm tự chấm", kind="decimal", required="file"),
        Field("explanation", "Giải trình"),
    ),
)

FIGURES = Contract(
    source="self_reports",
    entity="figures",
    key=("submission_id", "indicator_code"),
    file_prefixes=("Số liệu",),
    fields=(
        *_SUBMISSION_FIELDS,
        Field("indicator_code", "Mã chỉ tiêu", required="file"),
        Field("indicator_name", "Tên chỉ tiêu"),
        Field("value", "Giá trị", kind="decimal", required="file"),
    ),
)

EVIDENCE_ITEMS = Contract(
    source="self_reports",
    entity="evidence_items",
    # Several items per criterion are normal; an item is its whole row.
    key=("submission_id", "code", "document_number", "document_date", "file_name", "location"),
    file_prefixes=("Tài liệu kiểm chứng",),
    fields=(
        *_SUBMISSION_FIELDS,
        Field("code", "Mã tiêu chí / chỉ tiêu", required="file"),
        Field("document_number", "Số ký hiệu văn bản"),
        Field("document_date", "Ngày văn bản", kind="date"),
        Field("file_name", "Tên tệp"),
        Field("location", "Trang / mục"),
    ),
)

EVIDENCE_FILES = Contract(
    source="self_reports",
    entity="evidence_files",
    key=("submission_id", "file_path"),
    fields=(
        *_SUBMISSION_FIELDS,
        Field("file_path", "file_path", required="file"),
        Field("file_name", "file_name", required="file"),
        Field("file_bytes", "file_bytes", kind="count", required="file"),
        Field("file_sha256", "file_sha256", required="file"),
    ),
)

CONTRACTS = {
    "one_stop_shop": [DOSSIERS],
    "document_management": [DOCUMENTS, TASKS],
    "self_reports": [SUBMISSIONS, SCORES, FIGURES, EVIDENCE_ITEMS, EVIDENCE_FILES],
}
