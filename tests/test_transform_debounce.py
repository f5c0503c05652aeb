"""The transformation's debounce (reformwh.orchestration.wait_for_loads_to_settle): it waits until no file load
has finished for the quiet period, never longer than its limit. Time passes here by moving the loads' finish
times back instead of sleeping."""

from __future__ import annotations

from datetime import timedelta

from reformwh import pipeline
from reformwh.orchestration import wait_for_loads_to_settle
from tests.conftest import SAMPLES, execute, query


def _time_passes(settings, pauses: list[float]):
    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        execute(settings, "update audit.file_loads set finished_at = finished_at - make_interval(secs => %s)",
                [seconds])

    return sleep


def test_the_build_waits_for_the_loads_to_settle_and_never_past_its_limit(settings):
    assert wait_for_loads_to_settle(settings, quiet_seconds=60) == 0  # nothing ever loaded: no wait
    pipeline.ingest(settings, "one_stop_shop", [SAMPLES / "one_stop_shop"])
    (since_last,) = query(settings, "select extract(epoch from now() - max(finished_at))::float8"
                                    " from audit.file_loads")[0]
    assert since_last < 30

    pauses: list[float] = []
    waited = wait_for_loads_to_settle(settings, quiet_seconds=60, sleep=_time_passes(settings, pauses))
    assert len(pauses) == 1 and 60 - since_last - 5 < waited <= 60  # one pause, up to a minute after the load
    assert wait_for_loads_to_settle(settings, quiet_seconds=60, sleep=_time_passes(settings, [])) == 0

    # a load that keeps finishing (time never passes for it): the limit ends the wait
    pauses.clear()
    waited = wait_for_loads_to_settle(settings, quiet_seconds=3600, limit=timedelta(minutes=15),
                                      sleep=pauses.append)
    assert waited == 900 and sum(pauses) == 900
    assert wait_for_loads_to_settle(settings, quiet_seconds=0, sleep=pauses.append) == 0
