"""`eadm-bot demo --web` in a real browser: Debian's Chromium driven by Playwright.

The demo runs in this process as `eadm-bot demo --web` runs it: simulator, Slack stand-in,
the bot on its real HTTP endpoint, and the page. Every click goes to the bot signed as Slack
signs it; every message the page shows must be one the Slack stand-in received, drawn without
falling back to raw JSON. The screenshots in docs/img/ (used by the README) are taken here, so
they show the messages as they are today; docs/img/shown.json keeps what each one showed.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.cli.demo import PEOPLE, DemoStack, demo_page, slack_double
from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.slack import SlackDouble
from bot.sim.web import DemoPage
from testkit.e2e import eventually

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright's Python package is not installed (pip .[dev])"
)
async_playwright = playwright_api.async_playwright
expect = playwright_api.expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="no Chromium installed: `apt-get install chromium` (make test does, as root)",
    ),
]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
ADMIN, COLLEAGUE = PEOPLE[0], PEOPLE[1]
WAIT = 30_000  # ms: generous for a loaded machine; the conditions usually hold in seconds
# One cycle whose Export AD fails about two seconds after it starts, and no cycle after it
# (a rerun starts a clean one), so the alert stays open while the test clicks.
SPEED = 300.0
EXPORT_AD_FAILS = Scenario("Export AD fails once", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Demo:
    double: SlackDouble
    page: DemoPage
    browser_page: Any


@pytest_asyncio.fixture
async def demo() -> AsyncIterator[Demo]:
    workdir = Path(tempfile.mkdtemp(prefix="eadm-web-demo-"))
    profile = Path(tempfile.mkdtemp(prefix="eadm-chromium-"))
    double = slack_double()
    stack = DemoStack(double, language="en", port=0, workdir=workdir)
    page = demo_page(double, stack, "fail:export-ad", SPEED)
    await double.start()
    await stack.start(EXPORT_AD_FAILS, SPEED)
    await page.start()
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1200, "height": 900},
                locale="en-GB",
                timezone_id="Europe/Oslo",  # the bot's own clock in its texts
            )
            try:
                browser_page = context.pages[0] if context.pages else await context.new_page()
                await browser_page.goto(page.url)
                yield Demo(double, page, browser_page)
            finally:
                await context.close()
    finally:
        await page.stop()
        await stack.stop()
        await double.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


async def alert(demo: Demo) -> Any:
    """The Export AD alert, once it is on the page with its buttons."""
    message = demo.browser_page.locator(
        "#messages > .msg:not(.ephemeral)", has_text="Export AD"
    ).first
    await expect(message.get_by_role("button", name="Rerun sync")).to_be_visible(timeout=WAIT)
    return message


async def all_from_slack(demo: Demo) -> None:
    """Every message on the page is one the Slack stand-in holds, drawn from Block Kit the
    page knows (no raw-JSON fallback)."""
    shown = await demo.browser_page.locator(".msg[data-ts]").evaluate_all(
        "els => els.map(e => e.dataset.ts)"
    )
    held = {m["ts"] for ms in demo.double.channels.values() for m in ms}
    held |= {m["ts"] for m in demo.double.ephemeral}
    assert shown and set(shown) <= held, set(shown) - held
    assert await demo.browser_page.locator(".raw-json").count() == 0


async def shoot(locator: Any, name: str) -> None:
    """The README's picture `name`, taken again when what it shows has changed. Times and
    durations differ in every run, so they are left out of the comparison: a picture that
    differs only in them is kept, and the working tree stays clean."""
    shown = re.sub(r"\d", "0", await locator.inner_text())
    index = IMG / "shown.json"
    known = json.loads(index.read_text(encoding="utf-8")) if index.exists() else {}
    if known.get(name) == shown and (IMG / name).exists():
        return
    IMG.mkdir(parents=True, exist_ok=True)
    await locator.screenshot(path=str(IMG / name), animations="disabled")
    known[name] = shown
    index.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n", encoding="utf-8")


async def test_rerun_sync_from_the_alert_after_its_confirmation(demo: Demo) -> None:
    page = demo.browser_page
    message = await alert(demo)
    await expect(message.locator("select")).to_be_visible()  # Snooze, with its choices
    await expect(message.get_by_role("button", name="Open support ticket")).to_be_visible()
    await shoot(message, "alert.png")

    await message.get_by_role("button", name="Rerun sync").click()
    confirm = page.locator(".dialog.confirm")
    await expect(confirm).to_contain_text("Start the eAdm sync?")
    await confirm.get_by_role("button", name="Start the sync").click()

    thread = message.locator(".thread")
    await expect(thread).to_contain_text(f"@{ADMIN.name} started the sync", timeout=WAIT)
    rerun = [c for c in demo.double.calls("chat.postMessage") if c.params.get("thread_ts")]
    assert rerun, "the thread reply came from the bot through chat.postMessage"
    await all_from_slack(demo)


async def test_support_ticket_modal_is_prefilled_and_sent(demo: Demo) -> None:
    page = demo.browser_page
    message = await alert(demo)
    await message.get_by_role("button", name="Open support ticket").click()
    modal = page.locator(".dialog.modal")
    await expect(modal).to_contain_text("Support ticket", timeout=WAIT)
    subject = modal.get_by_label("Subject")
    await expect(subject).to_have_value("eAdm demo-kommune: Export AD failed")
    await shoot(modal, "ticket-modal.png")

    await modal.get_by_label("Description").fill("Tried once by hand; same error.")
    await modal.get_by_role("button", name="Send").click()
    await expect(modal).to_be_hidden(timeout=WAIT)
    answer = page.locator(".msg.ephemeral", has_text="ticket")
    await expect(answer.first).to_contain_text("Only visible to you", timeout=WAIT)
    submitted = demo.double.calls("chat.postEphemeral")
    assert submitted and submitted[-1].params["user"] == ADMIN.id
    await all_from_slack(demo)


async def test_status_command_app_home_and_a_colleagues_refusal(demo: Demo) -> None:
    page = demo.browser_page
    message = await alert(demo)  # the cycle has come to rest: the status reads the same each run
    await page.get_by_label("Message").fill("/eadm status")
    await page.get_by_label("Message").press("Enter")
    status = page.locator(".msg.ephemeral", has_text="eAdm status")
    await expect(status).to_contain_text("Only visible to you", timeout=WAIT)
    await expect(status).to_contain_text("Import HR")
    await shoot(status, "status.png")

    await page.locator("#nav-home").click()
    home = page.locator("#home")
    await expect(home.locator(".header").first).to_be_visible(timeout=WAIT)
    await expect(home).to_contain_text("demo-kommune")
    await shoot(page.locator("#home-pane"), "app-home.png")
    published = len(demo.double.calls("views.publish"))
    await home.get_by_role("button", name="Refresh").click()  # a click inside a view
    await eventually(
        lambda: len(demo.double.calls("views.publish")) > published, timeout=WAIT / 1000
    )
    await page.locator("#nav-channel").click()
    await page.get_by_label("Who am I").select_option(COLLEAGUE.id)
    await expect(status).to_have_count(0)  # another person sees none of Kari's answers
    await message.get_by_role("button", name="Rerun sync").click()
    await page.locator(".dialog.confirm").get_by_role("button", name="Start the sync").click()
    refusal = page.locator(".msg.ephemeral", has_text="Only eAdm admins may do this")
    await expect(refusal).to_be_visible(timeout=WAIT)
    assert not demo.double.calls("chat.postMessage") or all(
        "started the sync" not in str(c.params.get("text")) for c in demo.double.calls()
    )
    await all_from_slack(demo)


async def test_block_kit_the_page_does_not_know_shows_as_raw_json(demo: Demo) -> None:
    unknown = {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": []}]}
    demo.double.channels.setdefault(demo.page.channel_id, []).append(
        {
            "type": "message",
            "bot_id": "B0BOT",
            "ts": "1764000999.000100",
            "text": "future",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*known*"}}, unknown],
        }
    )
    demo.double.touch()
    message = demo.browser_page.locator('.msg[data-ts="1764000999.000100"]')
    await expect(message.locator(".section b")).to_have_text("known", timeout=WAIT)
    await expect(message.locator(".raw-json")).to_contain_text('"rich_text_section"')


async def test_snooze_with_its_choices_and_acknowledge(demo: Demo) -> None:
    message = await alert(demo)
    await message.locator("select").select_option(label="1 hour")
    thread = message.locator(".thread")
    await expect(thread).to_contain_text(f"@{ADMIN.name} snoozed this until", timeout=WAIT)
    await message.get_by_role("button", name="Acknowledge").click()
    await expect(thread).to_contain_text(f"@{ADMIN.name} acknowledged this", timeout=WAIT)
    await all_from_slack(demo)
