"""`eadm-bot demo --web` as its own process, as an admin starts it: it prints the page's
address and serves the page there, on a free port when the one asked for is taken."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx

from testkit.e2e import eadm_bot_running


def _demo_web(tmp_path: Path, web_port: int) -> list[str]:
    """Run `eadm-bot demo --web` until it prints the page's address; check the page is served
    there, and return what the demo printed up to that line."""
    args = ["demo", "--web", "--web-port", str(web_port), "--duration", "20", "--speed", "600"]
    with eadm_bot_running(*args, cwd=tmp_path) as demo:
        assert demo.stdout is not None
        printed: list[str] = []
        while not printed or "in a browser" not in printed[-1]:
            line = demo.stdout.readline()  # blocks until the demo says more, or ends
            assert line, printed
            printed.append(line)
        found = re.search(r"open (http://127\.0\.0\.1:\d+/) in a browser", printed[-1])
        assert found, printed
        page = httpx.get(found.group(1), timeout=10)
        assert page.status_code == 200 and "/static/app.js" in page.text
        state = httpx.get(found.group(1) + "api/state", timeout=10).json()
        assert state["channel"]["name"] == "eadm-alerts"
    assert list(tmp_path.iterdir()) == [], "the demo leaves the working folder as it was"
    return printed


def test_eadm_bot_demo_web_prints_the_page_and_serves_it(tmp_path: Path) -> None:
    (line,) = _demo_web(tmp_path, 0)
    assert line.startswith("eadm-bot demo: open http://127.0.0.1:")


def test_a_taken_port_gives_the_page_a_free_one(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        printed = _demo_web(tmp_path, port)
    assert printed[0].startswith(f"eadm-bot demo: port {port} is taken")
    assert f"127.0.0.1:{port}/" not in printed[-1]
