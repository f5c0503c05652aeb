"""Superset settings for `reformwh bi` and the docker-compose service, from the environment; no secret here.

SUPERSET_SECRET_KEY: made once per install by `reformwh bi` (REFORMWH_HOME/superset/secret_key), or .env.
SUPERSET_DATABASE_URI: Superset's own metadata database (`reformwh bi`: a database `superset` beside the
warehouse); docker-compose gives SUPERSET_DB_PASSWORD instead and the server `postgres`.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI") or (
    f"postgresql+psycopg2://superset:{os.environ.get('SUPERSET_DB_PASSWORD', '')}@postgres:5432/superset"
)

# Vietnamese number formats: 14.000 and 50,02% (d3-format locale of every chart)
D3_FORMAT = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]}
D3_TIME_FORMAT = {
    "dateTime": "%d/%m/%Y %H:%M:%S",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [f"Tháng {m}" for m in range(1, 13)],
    "shortMonths": [f"Th{m}" for m in range(1, 13)],
}

# a laptop or a 2-core VM, no outside network: no example data, no usage pixel, no thumbnails
SCARF_ANALYTICS = False
FEATURE_FLAGS = {"THUMBNAILS": False, "ALERT_REPORTS": False}
ROW_LIMIT = 10000
SUPERSET_WEBSERVER_TIMEOUT = 120
# the dashboards are imported from the repository (bi/assets) on every start; nobody needs the welcome tour
ENABLE_PROXY_FIX = False
