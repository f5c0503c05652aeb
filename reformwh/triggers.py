"""The triggerer's watch on the landing folders: an ingestion DAG runs when files land, not only on its cron.

Runs in Airflow's triggerer (asyncio, no task process): one directory listing per folder every 30 s.
Imported by the DAG files through reformwh.orchestration.landing_asset, and by the triggerer by class path."""

from __future__ import annotations

import asyncio
from pathlib import Path

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from reformwh.orchestration import new_landing_files


class LandingTrigger(BaseEventTrigger):
    """Fires when a landing folder holds a file it has not fired for, unchanged for `settle` seconds (a file
    still being copied, or the rest of a delivery, waits a little); what it fired for is remembered in the
    folder's `.watched`, so a file waiting for its run does not fire again."""

    def __init__(self, folder: str, poke_interval: float = 30.0, settle: float = 60.0):
        super().__init__()
        self.folder, self.poke_interval, self.settle = folder, poke_interval, settle

    def serialize(self):
        return ("reformwh.triggers.LandingTrigger",
                {"folder": self.folder, "poke_interval": self.poke_interval, "settle": self.settle})

    async def run(self):
        while True:
            fresh = await asyncio.to_thread(new_landing_files, Path(self.folder), self.settle)
            if fresh:
                self.log.info("new files in %s: %s", self.folder, ", ".join(fresh))
                yield TriggerEvent({"folder": self.folder, "files": fresh})
                return
            await asyncio.sleep(self.poke_interval)
