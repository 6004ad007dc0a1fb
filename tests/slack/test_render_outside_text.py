"""Outside text on every surface, table by table: eAdm's step names and messages, source and
runner errors, silence reasons, ticket references, tenant names and what people type, from
nothing to 50,000 characters, full of mrkdwn, mentions, links, control characters and
right-to-left marks. Each surface must stay valid Block Kit (slack_sdk's models check it, as
Slack would), show the text as written (escaped, never a live link, mention or broken code
span) and cut it to Slack's limits with a note that it was cut."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core.domain import EXPORT_AD, Condition, Snapshot, StepRun, StepState, snapshot_to_dict
from bot.core.i18n import t
from bot.core.lifecycle import AlertState
from bot.core.playbook import load_playbook
from bot.core.storm import Member, summarize
from bot.slack import ids
from bot.slack.render import (
    AlertFacts,
    AlertLink,
    StatusFacts,
    code,
    escape,
    link,
    notice_modal,
    outside,
    render_alert,
    render_digest,
    render_history,
    render_home,
    render_question,
    render_reply,
    render_status,
    render_ticket,
    render_ticket_modal,
    rerun_button,
    ticket_again_question,
    truncate,
)
from tests.cycles import T0

OSLO = ZoneInfo("Europe/Oslo")
NOW = T0 + timedelta(minutes=30)
PLAYBOOK = load_playbook()

# What a careless or hostile neighbour writes: every mrkdwn construct, Slack's mentions and
# links, entities, control characters, right-to-left overrides and marks, other scripts.
NASTY = (
    "503 <https://evil.example|Session expired: log in again> <!here> <!channel> "
    "<@U0BOSS> <!subteam^S0ADMINS> <#C0SECRET> &amp; &lt;b&gt; *bold* _it_ ~gone~ "
    "`tick` ```fence``` > quote\n\x00\x07\x1b[31m\u202eexe.txt\u202c \u200f עברית العربية 🙂 "
)
LIVE = re.compile(r"<(!|@|#|https?:)")  # markup Slack would act on, were it let through
SIZES = (0, 1, 150, 151, 3000, 3001, 50_000)


def text_of(size: int) -> str:
    return (NASTY * (size // len(NASTY) + 1))[:size]


TEXTS = [pytest.param(text_of(size), id=f"{size}") for size in SIZES]


def validated_blocks(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()  # raises SlackObjectFormationError past Slack's limits


def validated_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100


def strings(node: Any, *, mrkdwn: bool = False) -> list[str]:
    """Every string in a payload: what Slack reads (with `mrkdwn`, only what it reads as
    mrkdwn: not plain text, not a button's value)."""
    if isinstance(node, dict):
        if mrkdwn and node.get("type") == "plain_text":
            return []
        skip = {"value", "action_id", "block_id", "callback_id", "private_metadata"}
        return [
            s
            for key, value in node.items()
            if not (mrkdwn and key in skip)
            for s in strings(value, mrkdwn=mrkdwn)
        ]
    if isinstance(node, list):
        return [s for value in node for s in strings(value, mrkdwn=mrkdwn)]
    return [node] if isinstance(node, str) else []


def nothing_live(payload: Any, *, ours: tuple[str, ...] = ()) -> None:
    """No mention, channel ping or link from the outside text survives, and no hidden
    character; `ours` are markup the surface itself writes."""
    for text in strings(payload):
        assert "\x00" not in text and "\u202e" not in text and "\x1b" not in text
    for text in strings(payload, mrkdwn=True):
        for known in ours:
            text = text.replace(known, "")
        # The bot's own links: to Slack's permalinks, to a helpdesk's plain address.
        text = re.sub(r"<https://(slack|helpdesk)\.example/[^<>|\s]*(\|[^<>]*)?>", "", text)
        assert not LIVE.search(text), text[:300]


def snapshot(words: str) -> Snapshot:
    return Snapshot(
        tenant=words,
        cycle_id=words,
        started_at=T0,
        finished_at=None,
        steps=(
            StepRun("Import HR", StepState.COMPLETED, T0, T0 + timedelta(minutes=3)),
            StepRun(EXPORT_AD, StepState.FAILED, T0, T0 + timedelta(minutes=5), words),
            StepRun(words or "Export Azure", StepState.STOPPED, T0, None, words),
        ),
        fetched_at=NOW,
    )


# -- the surfaces ------------------------------------------------------------------------------


@pytest.mark.parametrize("words", TEXTS)
@pytest.mark.parametrize("condition", [Condition.FAILED, Condition.SOURCE_UNREACHABLE])
def test_the_alert(words: str, condition: Condition) -> None:
    facts = AlertFacts(
        id=7,
        tenant=words,
        step=words or EXPORT_AD,
        condition=condition,
        error=words,
        since=T0,
        state=AlertState.OPEN,
        cycle=snapshot_to_dict(snapshot(words)),
        ticket_ref=words or None,
        ticket_url=f"https://helpdesk.example/{words}" if words else None,  # not linkable
        rerun_target=words or "schtasks",
    )
    entry = PLAYBOOK.entry(EXPORT_AD, Condition.FAILED)
    ours = "<!subteam^S0OURS>"  # the mention the bot itself leads a new alert with
    message = render_alert(facts, entry, "en", tz=OSLO, now=NOW, mention=ours)
    validated_blocks(message.blocks)
    assert len(message.text) <= 3000
    nothing_live([message.blocks, message.text], ours=(ours,))
    if len(words) > 2000:
        assert "more characters cut]" in json.dumps(message.blocks)
    if words:
        # The error's code block cannot be ended from inside it.
        label = f"*{t('en', 'said.eadm')}*\n```"
        (error,) = [
            b for b in message.blocks if b.get("text", {}).get("text", "").startswith(label)
        ]
        assert error["text"]["text"].count("```") == 2 and error["text"]["text"].endswith("```")


@pytest.mark.parametrize("words", TEXTS)
def test_thread_replies(words: str) -> None:
    params = {"user": "U0ADMIN", "ref": words, "url": words}
    text = render_reply("reply.ticket", params, "en", tz=OSLO, now=NOW)
    nothing_live(text, ours=("<@U0ADMIN>",))
    assert len(text) < 1000
    linked = render_reply(
        "reply.ticket",
        {"user": "U0ADMIN", "ref": "INC-7", "url": "https://helpdesk.example/t/7?a=1&b=2"},
        "en",
        tz=OSLO,
        now=NOW,
    )
    assert "<https://helpdesk.example/t/7?a=1&amp;b=2>" in linked


def status_facts(words: str) -> StatusFacts:
    return StatusFacts(
        tenant=words,
        snapshot=snapshot(words),
        last_success=T0 - timedelta(hours=1),
        alerts=(
            AlertLink(
                words or EXPORT_AD, Condition.FAILED, "https://slack.example/p1", AlertState.OPEN
            ),
            AlertLink(words, Condition.STUCK, words or None, AlertState.SNOOZED),
        ),
        source_error=words or None,
        failing_since=T0,
        silenced_until=NOW + timedelta(hours=1),
        silenced_by=words or "U0ADMIN",
        silence_reason=words or None,
    )


@pytest.mark.parametrize("words", TEXTS)
@pytest.mark.parametrize("lang", ["en", "nb"])
def test_status(words: str, lang: str) -> None:
    message = render_status(status_facts(words), lang, tz=OSLO, now=NOW)
    validated_blocks(message.blocks)
    assert len(message.text) <= 3000
    nothing_live([message.blocks, message.text], ours=("<@U0ADMIN>", "<@?>"))


@pytest.mark.parametrize("words", TEXTS)
def test_history(words: str) -> None:
    message = render_history(words, [snapshot(words)] * 50, "en", tz=OSLO, now=NOW)
    validated_blocks(message.blocks)
    nothing_live([message.blocks, message.text])


@pytest.mark.parametrize("words", TEXTS)
def test_the_app_home(words: str) -> None:
    parts = [(status_facts(words), [snapshot(words)] * 5) for _ in range(20)]
    view = render_home(parts, "en", tz=OSLO, now=NOW)
    validated_view(view)
    nothing_live(view, ours=("<@U0ADMIN>", "<@?>"))


def test_a_home_part_that_cannot_be_drawn_leaves_the_others() -> None:
    broken = StatusFacts(tenant="broken", snapshot=snapshot("x"), alerts=(None,))  # type: ignore[arg-type]
    told: list[tuple[str, str]] = []
    parts = [(status_facts("alpha"), []), (broken, []), (status_facts("gamma"), [])]
    view = render_home(
        parts, "en", tz=OSLO, now=NOW, failed=lambda t, e: told.append((t, type(e).__name__))
    )
    validated_view(view)
    texts = "\n".join(strings(view))
    assert "*alpha*" in texts and "*gamma*" in texts
    assert "*broken*\nThis part cannot be shown right now" in texts
    assert told == [("broken", "AttributeError")]


@pytest.mark.parametrize("words", TEXTS)
def test_the_ticket_form(words: str) -> None:
    facts = AlertFacts(
        id=7,
        tenant=words,
        step=words or EXPORT_AD,
        condition=Condition.FAILED,
        error=words,
        since=T0,
        state=AlertState.OPEN,
        cycle=snapshot_to_dict(snapshot(words)),
    )
    subject, description = render_ticket(
        facts, requester=words, requester_email=None, lang="en", tz=OSLO, now=NOW
    )
    goes_to = f"The ticket goes to {outside(words, 500, 'en')}."
    view = render_ticket_modal(7, subject, description, goes_to=goes_to, lang="en")
    validated_view(view)
    fields = [b["element"]["initial_value"] for b in view["blocks"] if b["type"] == "input"]
    assert len(fields[0]) <= 150 and len(fields[1]) <= 3000
    if len(description) > 3000:
        assert fields[1].endswith("more characters cut]")
    nothing_live(view["blocks"][0])  # the mrkdwn part; the fields are plain text


@pytest.mark.parametrize("words", TEXTS)
def test_the_digest(words: str) -> None:
    members = [
        Member(n, f"{words}{n}", words or EXPORT_AD, Condition.FAILED, AlertState.OPEN)
        for n in range(1, 130)
    ]
    message = render_digest(summarize(members), "en")
    validated_blocks(message.blocks)
    assert len(message.text) <= 3000
    nothing_live([message.blocks, message.text])


@pytest.mark.parametrize("words", TEXTS)
def test_confirmations_and_questions(words: str) -> None:
    button = rerun_button(ids.ACTION_RERUN, "7", words or "schtasks", "en")
    question = render_question(f"Start the eAdm sync for *{escape(words)}* now?", button, "en")
    validated_blocks(question.blocks)
    nothing_live(question.blocks)
    again = ticket_again_question(7, words, "nb")
    validated_blocks(again.blocks)
    nothing_live(again.blocks)
    modal = notice_modal(outside(words, 2000, "en"), "en")
    validated_view(modal)
    nothing_live(modal)


# -- the helpers themselves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!here>", "&lt;!here&gt;"),
        ("<https://evil|log in>", "&lt;https://evil|log in&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt; already", "&amp;lt; already"),  # shown as written, not as "<"
        ("exe.\u202etxt", "exe.txt"),
        ("", ""),
    ],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_a_code_span_cannot_be_broken_out_of() -> None:
    assert "`" not in code("a ` b ``` c")
    assert code("<!here>") == "&lt;!here&gt;"


@pytest.mark.parametrize(
    ("url", "label", "expected"),
    [
        ("https://x.no/t/7", "INC-7", "<https://x.no/t/7|INC-7>"),
        ("https://x.no/?a=1&b=2", None, "<https://x.no/?a=1&amp;b=2>"),
        ("https://x.no/|<!here>", "INC", "INC (https://x.no/|&lt;!here&gt;)"),
        ("javascript:alert(1)", "INC", "INC (javascript:alert(1))"),
        ("https://x.no/a b", None, "https://x.no/a b"),
        ("https://x.no/", "<!here>", "<https://x.no/|&lt;!here&gt;>"),
        (None, "INC", "INC"),
    ],
)
def test_only_a_plain_address_is_linked(url: str | None, label: str | None, expected: str) -> None:
    assert link(url, label) == expected


@pytest.mark.parametrize("limit", range(30, 60))
def test_a_cut_never_splits_an_entity_or_a_link(limit: int) -> None:
    text = escape("<" * 40) + " <https://x.no|ours> " + "&" * 40
    cut = truncate(text, limit, "en")
    assert len(cut) <= limit or limit < 30
    body = cut.rsplit("…", 1)[0]
    assert re.fullmatch(r"(&lt;|&gt;|&amp;|<https://x\.no\|ours>|[^&<>])*", body), body


def test_the_bots_words_escape_what_came_from_outside_in_them() -> None:
    """A source error is the bot's sentence with a server's answer in it: the sentence stays,
    the answer is shown as written, in the alert, in /eadm status and in a rerun's refusal."""
    from bot.core.errors import SourceError
    from bot.core.said import Said, Voice
    from bot.slack.render import said_text, said_words

    error = SourceError("source.api.status", url="https://e.example/api", status=NASTY)
    facts = AlertFacts(
        id=7,
        tenant="t",
        step=None,
        condition=Condition.SOURCE_UNREACHABLE,
        error=Said.words(Voice.BOT, error.words),
        since=T0,
        state=AlertState.OPEN,
    )
    entry = PLAYBOOK.entry(None, Condition.SOURCE_UNREACHABLE)
    message = render_alert(facts, entry, "nb", tz=OSLO, now=NOW)
    validated_blocks(message.blocks)
    nothing_live(message.blocks)
    shown = json.dumps(message.blocks, ensure_ascii=False)
    assert "&lt;!here&gt;" in shown and "https://e.example/api" in shown
    status = render_status(
        StatusFacts(tenant="t", snapshot=None, source_error=Said.words(Voice.BOT, error.words)),
        "en",
        tz=OSLO,
        now=NOW,
    )
    nothing_live(status.blocks)
    assert "&lt;!here&gt;" in said_words(error.words, "en")
    assert said_text(Said.quote(Voice.EADM, "<!here>"), "en") == "&lt;!here&gt;"
