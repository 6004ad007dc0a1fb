"""The reruns awaiting their cycle, read once a tick for every poll: on a real SQLite store,
its statements counted."""

from __future__ import annotations

from pathlib import Path

from bot.app.awaiting import AwaitingReruns
from bot.core.rerun_status import RerunStatus
from bot.store import Store
from tests.app.pollworld import statements
from tests.cycles import T0


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_one_read_a_tick_for_every_poll_and_again_after_a_change(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.migrate()
    clock = Ticking()
    awaiting = AwaitingReruns(store, every=60, clock=clock)
    try:
        with statements(store) as seen:
            for _ in range(100):
                assert await awaiting.get() == []
        assert len(seen) == 1
        rerun = store.record_rerun(
            "t1", alert_id=None, user_id="U1", runner="r", cycle_before="c1", now=T0, grace=600
        )
        assert rerun is not None and rerun.id is not None
        store.move_rerun(rerun.id, RerunStatus.STARTED)
        assert await awaiting.get() == []  # another process's rerun: seen at the next tick
        awaiting.changed()  # started here
        assert [r.id for r in await awaiting.get()] == [rerun.id]
        store.move_rerun(rerun.id, RerunStatus.CONFIRMED, new_cycle_id="c2")
        clock.now = 60
        assert await awaiting.get() == []  # the next tick reads again
        assert await awaiting.get(fresh=True) == []
    finally:
        store.dispose()
