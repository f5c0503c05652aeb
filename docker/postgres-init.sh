#!/bin/bash
# First start of the PostgreSQL container: the warehouse database and its pipeline owner, Airflow's and
# Superset's metadata databases, and the BI login. Passwords come from the environment (.env), never from here.
# Grants on the marts are made by the pipeline itself (`reformwh build` prepares roles and grants).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v reformwh_password="$REFORMWH_DB_PASSWORD" -v airflow_password="$AIRFLOW_DB_PASSWORD" \
  -v superset_password="$SUPERSET_DB_PASSWORD" -v bi_password="$REFORMWH_BI_PASSWORD" <<'SQL'
-- the pipeline's login (no superuser): owns the warehouse, creates the roles of spec/warehouse.md
create role reformwh login createrole password :'reformwh_password';
create database reformwh owner reformwh encoding 'UTF8' template template0;
create role airflow login password :'airflow_password';
create database airflow owner airflow;
create role superset login password :'superset_password';
create database superset owner superset;
-- the BI tools' login: reads marts only (grants by the pipeline), no personal data, no writes; created as
-- the pipeline's role so that the pipeline administers it
set role reformwh;
create role reformwh_bi login password :'bi_password';
reset role;
SQL
