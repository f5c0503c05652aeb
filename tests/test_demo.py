"""`reformwh demo` twice on the same warehouse: the second run loads, builds, checks and records nothing new,
and says so; the summary's counts agree with marts.evidence_gaps."""

from __future__ import annotations

import re

import pytest

from reformwh import demo
from tests.conftest import fresh_database, query

COUNTED = ("select (select count(*) from audit.file_loads), (select count(*) from audit.quality_runs), "
           "(select count(*) from reports.report_runs), (select count(*) from raw.one_stop_shop__dossiers)")


@pytest.fixture(scope="module")
def runs(server_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    return fresh_database(server_url, tmp / "home"), tmp / "out"


@pytest.mark.slow
def test_a_second_demo_does_only_what_changed(runs, capsys, monkeypatch):
    settings, out = runs
    # the demo sets the variable for its process; setenv first, so that it is removed again after this test
    monkeypatch.setenv("REFORMWH_REPORT_STATUS_AS_OF", "")
    monkeypatch.delenv("REFORMWH_REPORT_STATUS_AS_OF")
    assert demo.run(settings, out, scale=0.02) == 0
    first = capsys.readouterr().out
    counts = query(settings, COUNTED)
    assert "running: no earlier demo build" in first
    # judged as of the sample world's end (20/12/2025): no report is missing before collection starts (2024)
    # or for a deadline after that day
    assert query(settings, """
        select count(*) from marts.evidence_gaps g
        join reference.reporting_calendar c on c.period_key = g.period_key
        join marts.dim_unit u on u.unit_code = g.unit_code and u.unit_level = c.unit_level
        where g.gap_type = 'REPORT_MISSING' and (c.period_key < '2024' or c.submission_deadline > '2025-12-20')
        """) == [(0,)]
    assert query(settings, "select count(*) from marts.evidence_gaps where gap_type = 'REPORT_MISSING'")[0][0] > 0

    assert demo.run(settings, out, scale=0.02) == 0
    second = capsys.readouterr().out
    assert query(settings, COUNTED) == counts  # no audit row, quality run, report run or raw row added
    assert "not written again" in second
    assert "rejected before with the same content, not recorded again" in second
    assert "not run: nothing new was loaded" in second
    assert "not run: the data has not changed since check run" in second
    assert "not generated: the data has not changed since run" in second
    assert second.rstrip().splitlines()[-1].startswith("connect (read-only, as BI tools do): ")

    # the flagged units: "N trên M", and each unit's gap rows add up to its rows in marts.evidence_gaps
    heads = re.findall(r"^(\d{4}-\w+): (\d+) đơn vị bị gắn cờ .*?; (\d+) trên (\d+) đơn vị", second, flags=re.M)
    assert heads
    for _period, flagged, shown, of in heads:
        assert flagged == of and int(shown) == min(int(of), demo.SHOWN_PER_PERIOD)
    period, checked = None, 0
    for line in second.splitlines():
        if head := re.match(r"^(\d{4}-\w+): \d+ đơn vị bị gắn cờ", line):
            period = head.group(1)
        elif period and (unit := re.match(r"^    (\S+)  .*? (\d+) dòng: (.*?)(?:; [\d,]+ điểm|$)", line)):
            code, total, types = unit.groups()
            assert sum(int(n) for n in re.findall(r"\) (\d+)", types)) == int(total), line
            assert query(settings, "select count(*) from marts.evidence_gaps where unit_code = %s "
                                   "and period_key = %s", [code, period]) == [(int(total),)], line
            checked += 1
    assert checked > 0
