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

    @property
    def raw_table(self) -> str:
        return f"raw.{self.source}__{self.entity}"

    @property
    def required_headers(self) -> list[Field]:
        return [f for f in self.fields if f.required]

    def by_name(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


DOSSIERS = Contract(
    source="one_stop_shop",
    entity="dossiers",
    key=("dossier_code",),
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

CONTRACTS = {"one_stop_shop": [DOSSIERS]}
