"""Every test in this folder runs eadm-bot (or a browser) as a process of its own: each is
marked `e2e` here, so `pytest -m "not e2e"` (`make test-fast`) leaves the whole folder out and
a new module cannot forget its mark."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)
