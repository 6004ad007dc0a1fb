"""Budgets of Slack calls shared through the store, on real SQLite and real PostgreSQL: every
replica takes its turns of one budget, and no turn is taken twice."""

from __future__ import annotations

import threading

from bot.core.budget import Rate
from bot.store import Store
from bot.store.tables import SendBudget

UPDATES = "chat.update"
T = 1_800_000_000.0  # seconds since the epoch


def test_two_processes_share_one_budget(store: Store) -> None:
    other = Store(store.url)
    try:
        rate = Rate(1.0, 2)
        assert store.take_turn(UPDATES, rate, T, max_wait=0).taken
        assert other.take_turn(UPDATES, rate, T, max_wait=0).taken
        refused = [s.take_turn(UPDATES, rate, T + 0.25, max_wait=0) for s in (store, other)]
        assert [r.taken for r in refused] == [False, False]
        assert refused[0].wait == refused[1].wait == 0.75
        assert other.take_turn(UPDATES, rate, T + 1.0, max_wait=0).taken
        assert not store.take_turn(UPDATES, rate, T + 1.0, max_wait=0).taken
    finally:
        other.dispose()


def test_budgets_are_kept_apart_by_name(store: Store) -> None:
    rate = Rate(1.0, 1)
    assert store.take_turn(UPDATES, rate, T, max_wait=0).taken
    assert store.take_turn("something.else", rate, T, max_wait=0).taken
    assert not store.take_turn(UPDATES, rate, T, max_wait=0).taken


def test_a_near_turn_is_taken_with_its_wait(store: Store) -> None:
    rate = Rate(50 / 60, 1)
    assert store.take_turn(UPDATES, rate, T, max_wait=0).taken
    got = store.take_turn(UPDATES, rate, T + 1.0, max_wait=0.5)
    assert got.taken and abs(got.wait - 0.2) < 1e-3


def test_no_limit_keeps_no_row(store: Store) -> None:
    assert all(store.take_turn(UPDATES, Rate(0), T, max_wait=0).taken for _ in range(100))
    with store.session() as s:
        assert s.get(SendBudget, UPDATES) is None


def test_racing_processes_take_each_turn_once(store: Store) -> None:
    stores = [Store(store.url) for _ in range(4)]
    rate = Rate(1.0, 10)  # ten turns at once, then none for a second
    taken: list[bool] = []
    lock = threading.Lock()

    def work(s: Store) -> None:
        for _ in range(10):
            got = s.take_turn(UPDATES, rate, T, max_wait=0)
            with lock:
                taken.append(got.taken)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for s in stores:
        s.dispose()
    assert taken.count(True) <= 10
    # Whoever lost a race read the row again; only what was truly spent is refused.
    assert taken.count(True) >= 10 - len(stores)


def test_a_retry_after_holds_every_process(store: Store) -> None:
    other = Store(store.url)
    try:
        rate = Rate(1.0, 3)
        store.hold_turns(UPDATES, rate, T + 30)
        assert not other.take_turn(UPDATES, rate, T + 29, max_wait=0).taken
        assert other.take_turn(UPDATES, rate, T + 30, max_wait=0).taken
        store.hold_turns(UPDATES, rate, T + 10)  # an earlier hold changes nothing
        assert not other.take_turn(UPDATES, rate, T + 30, max_wait=0).taken
        assert other.take_turn(UPDATES, rate, T + 31, max_wait=0).taken
    finally:
        other.dispose()
