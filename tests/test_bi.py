"""`reformwh bi` for real: Superset started on a test warehouse built from sample exports, logged in through
its API; every chart's saved query run through the chart-data API with the dashboard's filters and its figures
compared with the marts; the BI connection shown unable to read raw or quarantine; every dashboard opened in a
headless Chromium, its charts checked as rendered, and a screenshot saved under the test's output
(tests/output/bi/, kept after the run for a person to look at).

One Superset start serves the whole module (the slow part: install once, then about a minute)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
import yaml

from reformwh import bi, pipeline
from reformwh.settings import DEFAULT_HEADER_ALIASES, DEFAULT_REFERENCE_DIR, Settings
from tests.conftest import query

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parent / "output" / "bi"
DASHBOARDS = {"tong-quan-tinh": "Tổng quan tỉnh", "don-vi": "Đơn vị", "xep-hang": "Xếp hạng",
              "minh-chung": "Minh chứng"}
AS_WAS = "Như đã báo cáo"
# a mart stores a rate rounded to 4 places (dbt macro rate_type); a chart's metric divides the summed counts of
# the rows its filters select, unrounded: the same figure once printed (50,02%), within half the 4th place
RATE_TOLERANCE = 0.5e-4


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def superset(server_url, tmp_path_factory):
    """Superset on a warehouse of its own: sample exports (small scale) of every source, ingested and built while
    Superset prepares its metadata (migrations, roles, the bundle's import need none of the marts' rows), so the
    two slow parts overlap; logged in through the API."""
    from reformwh.samples import write_samples

    name = "bi_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
        conn.execute(f'create database "{name}_superset"')
    tmp = tmp_path_factory.mktemp("bi")
    base = server_url.rsplit("/", 1)[0]
    settings = Settings(tmp / "home", f"{base}/{name}", DEFAULT_REFERENCE_DIR, DEFAULT_HEADER_ALIASES)
    with pytest.MonkeyPatch.context() as env:
        # a shared server (not the embedded one of REFORMWH_HOME): the BI role's password comes from the environment
        env.setenv("REFORMWH_BI_PASSWORD", "bi-test-" + uuid.uuid4().hex[:8])
        env.setenv("SUPERSET_DATABASE_URI", f"{base}/{name}_superset".replace("postgresql://", "postgresql+psycopg2://"))
        # the small sample has few dossiers per unit and quarter: rank those with 3 (the report's rule, lowered)
        env.setenv("REFORMWH_REPORT_MIN_DOSSIERS", "3")
        port = _free_port()
        process, login = bi.start(settings, port, progress=lambda _: None)
        try:
            write_samples(tmp / "samples", scale=0.02)
            for source in ("one_stop_shop", "document_management", "self_reports"):
                pipeline.ingest(settings, source, [tmp / "samples" / source])
            assert pipeline.build(settings, progress=lambda _: None, quiet=True)
            assert bi.wait_until_ready(port, process, timeout=900), Path(login["log"]).read_text()[-3000:]
            # started again on the built marts, as after a first `reformwh bi` on an empty warehouse: the bundle
            # now opens Đơn vị on the busiest department, so it is imported again
            bi.stop(process)
            process, login = bi.start(settings, port, progress=lambda _: None)
            assert bi.wait_until_ready(port, process, timeout=900), Path(login["log"]).read_text()[-3000:]
            session = requests.Session()
            response = session.post(f"{login['url']}/api/v1/security/login", json={
                "username": login["user"], "password": login["password"], "provider": "db", "refresh": True})
            response.raise_for_status()
            session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
            # SQL Lab's endpoints want a CSRF token besides the bearer token (the chart-data API does not)
            session.headers["X-CSRFToken"] = _get(session, login, "/api/v1/security/csrf_token/")["result"]
            session.headers["Referer"] = login["url"]
            yield settings, login, session
        finally:
            bi.stop(process)


def _get(session, login, path, **params):
    response = session.get(f"{login['url']}{path}", params=params)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def _dashboards(session, login) -> dict[str, dict]:
    found = _get(session, login, "/api/v1/dashboard/", q="(page_size:100)")["result"]
    return {d["slug"]: d for d in found}


def _charts(session, login, slug) -> dict[str, dict]:
    """{chart title: chart} of a dashboard, with its saved query context."""
    charts = _get(session, login, f"/api/v1/dashboard/{slug}/charts")["result"]
    out = {}
    for chart in charts:
        full = _get(session, login, f"/api/v1/chart/{chart['id']}")["result"]
        out[full["slice_name"]] = full
    return out


def _default_filters(session, login, slug, chart_id: int | None = None) -> list[dict]:
    """The dashboard's filters with their default values; with `chart_id`, only those whose scope holds that chart
    (a filter on a column that a chart's dataset lacks is scoped away from it in bi/assets)."""
    metadata = json.loads(_get(session, login, f"/api/v1/dashboard/{slug}")["result"]["json_metadata"])
    filters = []
    for native in metadata["native_filter_configuration"]:
        if chart_id is None or chart_id not in native.get("scope", {}).get("excluded", []):
            filters += native.get("defaultDataMask", {}).get("extraFormData", {}).get("filters", [])
    return filters


def _data(session, login, chart: dict, filters=()) -> list[dict]:
    """The chart's saved query through the chart-data API, with the dashboard's filters added as a dashboard
    adds them (extra filters), and how long it took."""
    context = json.loads(chart["query_context"])
    for q in context["queries"]:
        q["filters"] = [*q.get("filters", []), *filters]
    started = time.monotonic()
    response = session.post(f"{login['url']}/api/v1/chart/data", json=context)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, f"{chart['slice_name']}: {response.text[:500]}"
    result = response.json()["result"][0]
    assert not result.get("error"), result["error"]
    TIMINGS.append((chart["slice_name"], elapsed, result["rowcount"]))
    if result.get("rejected_filters"):  # a filter in scope that the dataset cannot take: figures not filtered
        REJECTED.append((chart["slice_name"], result["rejected_filters"]))
    return result["data"]


TASK_STATUS_NAMES = {"done_on_time": "Hoàn thành đúng hạn", "done_late": "Hoàn thành quá hạn",
                     "overdue": "Quá hạn, chưa hoàn thành", "open": "Đang thực hiện, còn hạn",
                     "no_deadline": "Không có thời hạn (thường xuyên)"}
TIMINGS: list[tuple[str, float, int]] = []
REJECTED: list[tuple[str, list]] = []


def test_the_four_dashboards_are_there_in_vietnamese(superset):
    settings, login, session = superset
    dashboards = _dashboards(session, login)
    assert {slug: dashboards[slug]["dashboard_title"] for slug in DASHBOARDS} == DASHBOARDS
    database = _get(session, login, "/api/v1/database/", q="(page_size:100)")["result"]
    assert [d["database_name"] for d in database] == ["reformwh warehouse"]


def test_every_chart_of_every_dashboard_answers_through_the_chart_data_api(superset):
    settings, login, session = superset
    count = 0
    for slug in DASHBOARDS:
        charts = _charts(session, login, slug)
        assert len(charts) >= 4, slug
        for chart in charts.values():
            _data(session, login, chart, _default_filters(session, login, slug, chart["id"]))
            count += 1
    assert count == len(TIMINGS) >= 20
    (SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "chart_data_timings.txt").write_text(
        "".join(f"{seconds:.3f} s  {rows:>5} rows  {name}\n" for name, seconds, rows in TIMINGS), encoding="utf-8")
    assert not REJECTED, REJECTED


def test_province_overview_figures_are_the_marts(superset):
    settings, login, session = superset
    charts = _charts(session, login, "tong-quan-tinh")
    filters = _default_filters(session, login, "tong-quan-tinh")
    assert {f["col"]: f["val"] for f in filters} == {"loai_ky": ["Quý"], "cach_tinh": [AS_WAS], "cap": ["Toàn tỉnh"]}
    marts = query(settings, """
        select period_key, received_total, resolved_total, late_total, on_time_rate, online_rate, online_full_rate,
               digitization_rate, satisfaction_rate
        from marts.reform_province where calendar = 'official' and period_type = 'quarter' and period_end >= (
            select min(period_start) from marts.reform_province where received_total > 0)
        order by period_key""")
    assert len(marts) >= 6
    rows = _data(session, login, charts["Các kỳ báo cáo chính thức"], filters)
    got = [(r["period_key"], r["tiep_nhan"], r["da_giai_quyet"], r["tre_han"], r["ty_le_dung_han"],
            r["ty_le_truc_tuyen"], r["ty_le_toan_trinh"], r["ty_le_so_hoa"], r["ty_le_hai_long"]) for r in rows]
    assert [g[:4] for g in got] == [m[:4] for m in marts]
    for g, m in zip(got, marts, strict=True):
        for a, b in zip(g[4:], m[4:], strict=True):
            assert (a is None and b is None) or a == pytest.approx(float(b), abs=RATE_TOLERANCE), (g, m)
    total = _data(session, login, charts["Hồ sơ tiếp nhận (các kỳ đang lọc)"], filters)
    assert total == [{"tiep_nhan": sum(m[1] for m in marts)}]
    line = _data(session, login, charts["Các tỷ lệ theo kỳ, so với mục tiêu 2030"], filters)
    assert {r["muc_tieu_toan_trinh"] for r in line} == {0.9} and {r["muc_tieu_so_hoa"] for r in line} == {1.0}
    # a level instead of the province: the communes' rows summed, as the marts hold them
    communes = [f for f in filters if f["col"] != "cap"] + [{"col": "cap", "op": "IN", "val": ["Cấp xã"]}]
    rows = _data(session, login, charts["Các kỳ báo cáo chính thức"], communes)
    expected = query(settings, """
        select r.period_key, sum(r.received_total)::int from marts.reform_quarter r
        join marts.dim_unit u on u.unit_code = r.unit_code and u.is_current_version
        where r.calendar = 'official' and u.unit_level = 'commune' and r.period_end >= (
            select min(period_start) from marts.reform_province where received_total > 0)
        group by 1 order by 1""")
    assert [(r["period_key"], r["tiep_nhan"]) for r in rows] == expected


def test_unit_ranking_and_evidence_figures_are_the_marts(superset):
    settings, login, session = superset
    unit_code, unit_name = query(settings, """
        select u.unit_code, u.unit_name from marts.reform_quarter r join marts.dim_unit u using (unit_code)
        where u.is_current_version and u.unit_level = 'department'
        group by 1, 2 order by sum(r.received_total) desc nulls last limit 1""")[0]
    label = f"{unit_name} ({unit_code})"
    unit = [{"col": "don_vi", "op": "IN", "val": [label]}, {"col": "loai_ky", "op": "IN", "val": ["Quý"]},
            {"col": "cach_tinh", "op": "IN", "val": [AS_WAS]}]
    charts = _charts(session, login, "don-vi")
    # the dashboard opens on this unit, the busiest department (reformwh/bi.py default_unit): Superset was
    # started before the build, on units.csv's first department, and imported the changed bundle at its restart
    assert [f["val"] for f in _default_filters(session, login, "don-vi") if f["col"] == "don_vi"] == [[label]]
    rows = _data(session, login, charts["Kết quả của đơn vị theo kỳ"], unit)
    assert [(r["period_key"], r["tiep_nhan"], r["tre_han"]) for r in rows] == query(settings, """
        select period_key, received_total, late_total from marts.reform_quarter
        where unit_code = %s and calendar = 'official' and period_end >= (
            select min(period_start) from marts.reform_province where received_total > 0)
        order by period_key""", [unit_code])
    late = _data(session, login, charts["Hồ sơ trễ hạn theo thủ tục"], unit[:1])
    assert sorted((r["procedure_name"], r["tre_han"]) for r in late) == sorted(query(settings, """
        select procedure_name, count(*)::int from marts.fct_dossier where unit_code = %s and outcome = 'late'
        group by 1""", [unit_code]))
    # tasks and documents named in Vietnamese, not by the marts' codes
    tasks = _data(session, login, charts["Nhiệm vụ theo tình trạng"], unit[:1])
    assert sorted((r["tinh_trang"], r["so_luong"]) for r in tasks) == sorted(
        (TASK_STATUS_NAMES[status], n) for status, n in query(
            settings, "select task_status, count(*)::int from marts.fct_task where unit_code = %s group by 1",
            [unit_code]))
    documents = _data(session, login, charts["Văn bản theo sổ"], unit[:1])
    assert sorted((r["so_van_ban"], r["so_luong"]) for r in documents) == sorted(
        ({"outgoing": "Sổ văn bản đi", "incoming": "Sổ văn bản đến"}[register], n) for register, n in query(
            settings, "select register, count(*)::int from marts.fct_document where unit_code = %s group by 1",
            [unit_code]))
    assert tasks and documents

    from reporting.config import load_config

    minimum = load_config().min_dossiers
    # the official quarter in which the most departments reach the minimum number of dossiers
    period = query(settings, """
        select r.period_key from marts.reform_quarter r
        join marts.dim_unit u on u.unit_code = r.unit_code and u.is_current_version
        where r.calendar = 'official' and u.unit_level in ('province', 'department') and r.received_total >= %s
        group by 1 order by count(*) desc, 1 desc limit 1""", [minimum])[0][0]
    charts = _charts(session, login, "xep-hang")
    ranking = [{"col": "period_key", "op": "IN", "val": [period]}, {"col": "cach_tinh", "op": "IN", "val": [AS_WAS]}]
    best = _data(session, login, charts["Sở, ban, ngành: tốt nhất theo tỷ lệ đúng hạn"], ranking)
    expected = query(settings, """
        select u.unit_name || ' (' || u.unit_code || ')', r.on_time_rate, r.received_total from marts.reform_quarter r
        join marts.dim_unit u on u.unit_code = r.unit_code and u.is_current_version
        where r.period_key = %s and u.unit_level in ('province', 'department') and r.received_total >= %s
        order by r.on_time_rate desc limit 10""", [period, minimum])
    assert expected, "no department reaches the minimum number of dossiers in the sample"
    assert [r["ty_le_dung_han"] for r in best] == pytest.approx([float(e[1]) for e in expected], abs=RATE_TOLERANCE)
    assert all(r["tiep_nhan"] >= minimum for r in best)

    charts = _charts(session, login, "minh-chung")
    by_type = _data(session, login, charts["Thiếu sót theo loại"])
    from reporting.content import GAP_LABELS

    named = {code: label[0].upper() + label[1:] for code, label in GAP_LABELS.items()}  # in the report's words
    counted = query(settings, "select gap_type, count(*)::int from marts.evidence_gaps group by 1")
    assert sorted((r["loai_thieu_sot"], r["so_luong"]) for r in by_type) == sorted((named[c], n) for c, n in counted)
    flagged = _data(session, login, charts["Đơn vị bị đánh dấu"])
    assert flagged == [{"don_vi_bi_danh_dau": query(
        settings, "select count(distinct unit_code)::int from marts.evidence_gaps where flags_unit")[0][0]}]
    at_risk = _data(session, login, charts["Điểm có nguy cơ bị trừ"])
    assert at_risk[0]["diem_rui_ro"] == pytest.approx(float(query(
        settings, "select coalesce(sum(points_at_risk), 0) from marts.par_area_scores")[0][0]))


def test_dataset_columns_carry_the_dbt_descriptions(superset):
    settings, login, session = superset
    manifest = json.loads((bi.PROJECT_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    documented = next(n for n in manifest["nodes"].values() if n.get("name") == "evidence_gaps")["columns"]
    found = _get(session, login, "/api/v1/dataset/", q="(filters:!((col:table_name,opr:eq,value:evidence_gaps_units)))")
    dataset = _get(session, login, f"/api/v1/dataset/{found['result'][0]['id']}")["result"]
    descriptions = {c["column_name"]: c["description"] for c in dataset["columns"]}
    assert descriptions["gap_type"] == documented["gap_type"]["description"]
    assert descriptions["flags_unit"] == documented["flags_unit"]["description"]


def test_the_bi_connection_cannot_read_raw_or_quarantine(superset):
    settings, login, session = superset
    database_id = _get(session, login, "/api/v1/database/")["result"][0]["id"]

    def run(sql):
        response = session.post(f"{login['url']}/api/v1/sqllab/execute/", json={
            "database_id": database_id, "sql": sql, "runAsync": False, "schema": "marts", "tab": "test",
            "client_id": uuid.uuid4().hex[:10]})
        return response.status_code, response.text

    status, text = run("select count(*) as n from marts.reform_province")
    assert status == 200, text
    for table in ("raw.one_stop_shop", "quarantine.one_stop_shop", "reports.report_runs", "audit.file_loads"):
        status, text = run(f"select * from {table} limit 1")
        assert status != 200 and "permission denied" in text, (table, status, text[:300])


def _marts_read(sql_or_table: str) -> set[str]:
    return set(re.findall(r"\bmarts\.(\w+)", sql_or_table)) or {sql_or_table}


def test_exposures_name_every_mart_the_dashboards_and_the_report_read():
    """Lineage tells the truth: each dashboard's exposure lists exactly the marts its charts' and filters'
    datasets read (bi/assets), and the report's lists every mart reporting/ queries."""
    exposures = {e["name"]: {d.split("'")[1] for d in e["depends_on"]} for e in yaml.safe_load(
        (bi.PROJECT_ROOT / "dbt_project" / "models" / "marts" / "_exposures.yml").read_text())["exposures"]}
    datasets = {}
    for path in (bi.ASSETS / "datasets").rglob("*.yaml"):
        dataset = yaml.safe_load(path.read_text())
        datasets[dataset["uuid"]] = _marts_read(dataset.get("sql") or dataset["table_name"])
    charts = {c["uuid"]: c["dataset_uuid"] for c in map(yaml.safe_load, map(Path.read_text,
                                                                              (bi.ASSETS / "charts").rglob("*.yaml")))}
    for path in (bi.ASSETS / "dashboards").glob("*.yaml"):
        dashboard = yaml.safe_load(path.read_text())
        used = {charts[node["meta"]["uuid"]] for node in dashboard["position"].values()
                if isinstance(node, dict) and node.get("type") == "CHART"}
        used |= {target["datasetUuid"] for native in dashboard["metadata"]["native_filter_configuration"]
                 for target in native.get("targets", []) if "datasetUuid" in target}
        read = set().union(*(datasets[uuid] for uuid in used))
        assert exposures["dashboard_" + dashboard["slug"].replace("-", "_")] == read, dashboard["slug"]

    code = "\n".join(path.read_text() for path in (bi.PROJECT_ROOT / "reporting").glob("*.py"))
    from reporting.data import PERIOD_MARTS

    read = set(re.findall(r"\bmarts\.([a-z_]+)\b", code)) | set(PERIOD_MARTS.values()) | {
        f"{mart}_restated" for mart in PERIOD_MARTS.values()}
    assert exposures["periodic_report"] == read


async def _cdp_screenshot(debug_port: int, url: str, cookies: list[dict], out: Path) -> dict:
    """Open `url` in the running headless Chromium through the DevTools protocol, with the session cookie, wait
    until every chart has finished loading, check them, and save a full-page screenshot."""
    import websockets

    target = requests.put(f"http://127.0.0.1:{debug_port}/json/new?about:blank", timeout=10).json()
    async with websockets.connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024) as ws:
        counter = iter(range(1, 10**6))

        async def call(method, **params):
            message_id = next(counter)
            await ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == message_id:
                    return reply.get("result", {})

        await call("Network.enable")
        for cookie in cookies:
            await call("Network.setCookie", **cookie)
        # tall enough for every dashboard at once: charts outside the viewport are not rendered
        await call("Emulation.setDeviceMetricsOverride", width=1600, height=2400, deviceScaleFactor=1,
                   mobile=False)
        await call("Page.enable")
        await call("Page.navigate", url=url)
        probe = """(() => {
            const charts = document.querySelectorAll('.dashboard-component-chart-holder');
            const loading = document.querySelectorAll(
                '.dashboard-component-chart-holder .loading, [aria-label="Loading"]');
            const errors = [...document.querySelectorAll(
                '.ant-alert-error, [data-test="error-tooltip"], .error-alert, [role="alert"]')]
                .map(e => e.innerText.slice(0, 200));
            const canvases = [...document.querySelectorAll('.dashboard-component-chart-holder canvas')].map(c => {
                const g = c.getContext('2d'); if (!g || !c.width || !c.height) return 0;
                const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
                for (let i = 3; i < d.length; i += 16) if (d[i] > 0) n++;
                return n; });
            const tables = [...document.querySelectorAll('.dashboard-component-chart-holder table tbody tr')].length;
            const bigNumbers = [...document.querySelectorAll('.header-line')].map(e => e.innerText);
            const empty = [...document.querySelectorAll('.dashboard-component-chart-holder')]
                .filter(h => /No results were returned|Không có kết quả/.test(h.innerText)).length;
            // enabled while a filter's shown value is not applied to the charts
            const apply = [...document.querySelectorAll('button')].find(b => /Apply filters/.test(b.innerText));
            return JSON.stringify({charts: charts.length, loading: loading.length, errors, canvases, tables,
                                   bigNumbers, empty, title: document.title, applyPending: !!apply && !apply.disabled,
                                   header: (document.querySelector('[data-test="editable-title-input"]') || {}).value});
        })()"""
        state = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            await asyncio.sleep(2)
            result = await call("Runtime.evaluate", expression=probe, returnByValue=True)
            state = json.loads(result.get("result", {}).get("value") or "{}")
            if state.get("charts") and not state.get("loading"):
                await asyncio.sleep(3)  # ECharts animates its first frame
                result = await call("Runtime.evaluate", expression=probe, returnByValue=True)
                state = json.loads(result["result"]["value"])
                break
        shot = await call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))
    requests.get(f"http://127.0.0.1:{debug_port}/json/close/{target['id']}", timeout=10)
    return state


@pytest.mark.skipif(not _chromium(), reason="Chromium is not installed (Debian: apt-get install chromium; "
                    ".ci/run installs it)")
def test_every_dashboard_renders_in_chromium(superset):
    settings, login, session = superset
    # a browser's login: the form, its CSRF token, the session cookie
    browser = requests.Session()
    page = browser.get(f"{login['url']}/login/").text
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0] if \
        'name="csrf_token"' in page else None
    response = browser.post(f"{login['url']}/login/", data={"username": login["user"], "password": login["password"],
                                                           **({"csrf_token": token} if token else {})})
    assert response.status_code == 200 and "/login" not in response.url, response.url
    cookies = [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": "/"} for c in browser.cookies]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    debug_port = _free_port()
    profile = tempfile.mkdtemp(prefix="reformwh-chromium-")
    chromium = subprocess.Popen([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                 "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
                                 f"--remote-debugging-port={debug_port}", "--lang=vi-VN", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(60):
            try:
                requests.get(f"http://127.0.0.1:{debug_port}/json/version", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.5)
        states = {}
        for slug in DASHBOARDS:
            states[slug] = asyncio.run(_cdp_screenshot(debug_port, f"{login['url']}/superset/dashboard/{slug}/",
                                                       cookies, SCREENSHOTS / f"{slug}.png"))
    finally:
        chromium.terminate()
        chromium.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)
    (SCREENSHOTS / "render_states.json").write_text(json.dumps(states, ensure_ascii=False, indent=1))
    # Đơn vị opens on one unit: its late-dossier chart says "no results" when that unit had no late dossier
    [[label]] = [f["val"] for f in _default_filters(session, login, "don-vi") if f["col"] == "don_vi"]
    unit_code = label.rsplit("(", 1)[1].rstrip(")")
    no_late = query(settings, "select count(*) = 0 from marts.fct_dossier where unit_code = %s and outcome = 'late'",
                    [unit_code])[0][0]
    expected_empty = {"don-vi": int(no_late)}
    for slug, state in states.items():
        assert state.get("charts", 0) >= 4 and not state["loading"], (slug, state)
        assert not state["errors"], (slug, state["errors"])
        assert state["empty"] == expected_empty.get(slug, 0), (slug, state)
        assert not state["applyPending"], (slug, "the charts do not show the filters' default values")
        if slug in ("tong-quan-tinh", "don-vi", "xep-hang", "minh-chung"):
            assert state["canvases"] and all(n > 100 for n in state["canvases"]), (slug, state["canvases"])
        assert state["tables"] > 0, (slug, state)
        assert (SCREENSHOTS / f"{slug}.png").stat().st_size > 20_000
