# The project image: the CLI, the DAGs and Airflow (every Airflow component of docker-compose.yml runs it).
# The install is the README's: `python3 dev.py install` = `uv sync --frozen` from uv.lock (here with the
# production group, Celery, and without the developers' tools). dbt's state is not in the image (.dockerignore):
# each warehouse's parse is kept under REFORMWH_HOME (reformwh.settings.Settings.dbt_target_dir).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    REFORMWH_HOME=/data/home \
    REFORMWH_LANDING_DIR=/data/landing \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/reformwh/dags \
    PATH=/opt/reformwh/.venv/bin:$PATH

# LibreOffice turns the report into the PDF that is signed (README, "The periodic report"); Liberation 2 stands in
# for Times New Roman with every Vietnamese letter.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libreoffice-writer-nogui \
       fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
    && mkdir -p /opt/reformwh /data/home /data/landing /opt/airflow/logs /opt/airflow/auth \
    && chown -R 50000:0 /opt/reformwh /data /opt/airflow

WORKDIR /opt/reformwh
COPY --chown=50000:0 . .
USER 50000
RUN python3 dev.py install --group production --no-dev

CMD ["reformwh", "--help"]
