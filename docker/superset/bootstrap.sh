#!/bin/bash
# One-shot: Superset's metadata, its admin, and the warehouse registered as the database "reformwh warehouse",
# connected as the BI role reformwh_bi (marts only). Idempotent: every `docker compose up` may run it again.
set -euo pipefail
superset db upgrade
superset fab create-admin --username admin --firstname Superset --lastname Admin \
  --email "${SUPERSET_ADMIN_EMAIL:-admin@localhost}" --password "$SUPERSET_ADMIN_PASSWORD" || true
superset init
superset set-database-uri --database_name "reformwh warehouse" \
  --uri "postgresql+psycopg2://reformwh_bi:${REFORMWH_BI_PASSWORD}@postgres:5432/reformwh"
