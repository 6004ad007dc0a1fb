"""The alert message: its header, status line, error, advice and buttons in each state;
no text points at a button the alert does not show; the portal line; the mention."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.core.domain import (
    EXPORT_AD,
    GUIDE_STEPS,
    SYNCHRONIZATION,
    TASK_STEP,
    Condition,
    StepState,
    TaskInfo,
    TaskState,
    snapshot_from_dict,
    snapshot_to_dict,
)
from bot.core.i18n import LANGUAGES, t
from bot.core.lifecycle import AlertState
from bot.core.playbook import load_playbook
from bot.core.said import Said, Voice, Words
from bot.core.task_rules import failure_words, task_snapshot
from bot.slack import ids
from bot.slack.render import AlertFacts, cycle_lines, mention_markup, portal_line, render_alert
from tests.cycles import at, cycle

OSLO = ZoneInfo("Europe/Oslo")
PLAYBOOK = load_playbook()


def facts(**overrides: Any) -> AlertFacts:
    snap = cycle({EXPORT_AD: StepState.FAILED}, upto=5, message="Client did not answer")
    base: dict[str, Any] = {
        "id": 7,
        "tenant": "demo-kommune",
        "step": EXPORT_AD,
        "condition": Condition.FAILED,
        "error": "Client did not answer",
        "since": at(16),
        "state": AlertState.OPEN,
        "cycle": snapshot_to_dict(snap),
        "rerun_target": 'schtasks /Run /TN "eAdm synkronisering"',
    }
    base.update(overrides)
    return AlertFacts(**base)


def render(
    lang: str = "en",
    *,
    portal_url: str | None = "https://p.no",
    portal_pages: dict[str, str] | None = None,
    mention: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    alert = facts(**overrides)
    entry = PLAYBOOK.entry(alert.step, alert.condition)
    message = render_alert(
        alert,
        entry,
        lang,
        tz=OSLO,
        now=at(30),
        portal_url=portal_url,
        portal_pages=portal_pages,
        mention=mention,
    )
    return {"text": message.text, "blocks": message.blocks}


def actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_alert_reads_like_the_cycle_view() -> None:
    msg = render()
    blocks = msg["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Export AD failed · demo-kommune"
    body = str(blocks)
    assert "Client did not answer" in body
    assert ":white_check_mark: *Import HR*" in body and ":x: *Export AD*" in body
    assert (
        "In the eAdm portal at <https://p.no|p.no>: Synchronization > Synchronization Status"
        in (body)
    )
    assert msg["text"].startswith(":x: Export AD failed (demo-kommune)")
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk checks Slack's own limits


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_the_notification_names_tenant_step_and_condition_never_the_error(lang: str) -> None:
    """The fallback text is what a locked phone shows: eAdm's error may name an employee."""
    error = "Bruker Kari Nordmann (kari@kommune.no) mangler i AD"
    msg = render(lang, error=error, mention="<!here>")
    assert error in str(msg["blocks"]), "the message itself shows the error"
    headline = "Export AD failed" if lang == "en" else "Export AD feilet"
    assert msg["text"] == f"<!here> :x: {headline} (demo-kommune)"
    assert "Kari" not in msg["text"]


def test_every_value_carries_the_alert_id_only() -> None:
    elements = actions(render()["blocks"])
    assert {e["action_id"] for e in elements} == {
        ids.ACTION_RERUN,
        ids.ACTION_TICKET,
        ids.ACTION_ACK,
        ids.ACTION_SNOOZE,
    }
    for element in elements:
        if element["type"] == "button":
            assert element["value"] == "7"
        else:
            assert [o["value"] for o in element["options"]] == ["7:1h", "7:4h", "7:tomorrow"]


def test_rerun_asks_slacks_confirmation_naming_the_task() -> None:
    (rerun,) = [e for e in actions(render()["blocks"]) if e["action_id"] == ids.ACTION_RERUN]
    assert "eAdm synkronisering" in rerun["confirm"]["text"]["text"]


def test_no_rerun_button_without_a_runner() -> None:
    ids_ = {e["action_id"] for e in actions(render(rerun_target=None)["blocks"])}
    assert ids.ACTION_RERUN not in ids_ and ids.ACTION_TICKET in ids_


def test_the_safety_threshold_never_offers_a_rerun() -> None:
    msg = render(step=SYNCHRONIZATION, condition=Condition.SAFETY_THRESHOLD)
    assert ids.ACTION_RERUN not in {e["action_id"] for e in actions(msg["blocks"])}
    assert "Import History" in str(msg["blocks"])


def test_a_long_error_is_cut_with_a_note_and_stays_within_limits() -> None:
    msg = render(error="x" * 10_000)
    body = str(msg["blocks"])
    assert "more characters cut]" in body
    for block in msg["blocks"]:
        Block.parse(block).validate_json()
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert len(msg["text"]) <= 3000


def test_acknowledged_and_ticketed_alert_says_who_and_drops_the_ack_button() -> None:
    msg = render(
        state=AlertState.ACKNOWLEDGED,
        acked_by="<@U1>",
        acked_at=at(20),
        ticket_ref="#35436",
        ticket_url="https://h.zendesk.com/agent/tickets/35436",
    )
    body = str(msg["blocks"])
    assert "<@U1>" in body and "<https://h.zendesk.com/agent/tickets/35436|#35436>" in body
    assert ids.ACTION_ACK not in {e["action_id"] for e in actions(msg["blocks"])}


def test_a_resolved_alert_keeps_the_facts_and_loses_the_buttons() -> None:
    msg = render(state=AlertState.RESOLVED, resolved_at=at(40), resolution="recovered")
    assert msg["blocks"][0]["text"]["text"].startswith("Resolved: ")
    assert actions(msg["blocks"]) == []
    assert "24 min" in str(msg["blocks"])


# Each state of an alert, as its status line and its buttons show it.
ALL_BUTTONS = {ids.ACTION_RERUN, ids.ACTION_TICKET, ids.ACTION_ACK, ids.ACTION_SNOOZE}


@pytest.mark.parametrize(
    ("state", "extra", "status", "buttons"),
    [
        (AlertState.OPEN, {}, ":x: Since 22:16 (14 min)", ALL_BUTTONS),
        (
            AlertState.ACKNOWLEDGED,
            {"acked_by": "<@U1>", "acked_at": at(20)},
            ":x: Since 22:16 (14 min) · <@U1> is on it (since 22:20)",
            ALL_BUTTONS - {ids.ACTION_ACK},
        ),
        (
            AlertState.SNOOZED,
            {"snoozed_by": "<@U2>", "snoozed_until": at(90)},
            ":x: Since 22:16 (14 min) · snoozed by <@U2> until 23:30",
            ALL_BUTTONS,
        ),
        (
            AlertState.RESOLVED,
            {"resolved_at": at(40), "resolution": "passed_later"},
            ":white_check_mark: Resolved: a later cycle got through this step, 24 min after",
            set(),
        ),
    ],
)
def test_each_alert_state_has_its_status_line_and_buttons(
    state: AlertState, extra: dict[str, Any], status: str, buttons: set[str]
) -> None:
    msg = render(state=state, **extra)
    assert msg["blocks"][1]["text"]["text"].startswith(status)
    assert {e["action_id"] for e in actions(msg["blocks"])} == buttons


def test_norwegian() -> None:
    msg = render("nb")
    assert msg["blocks"][0]["text"]["text"] == "Export AD feilet · demo-kommune"
    assert "Kvitter" in str(msg["blocks"])


# -- what the texts promise, against what the alert shows ------------------------------------


# Words by which a text points at a button, per language: the button's own label, and the
# phrases the advice uses for it.
POINTERS = {
    "rerun": {lang: [t(lang, "button.rerun")] for lang in LANGUAGES},
    "ticket": {
        "en": [t("en", "button.ticket"), "ticket button", "ticket here"],
        "nb": [t("nb", "button.ticket"), "knappen for supportsak", "saken her"],
    },
}
ACTION_IDS = {"rerun": ids.ACTION_RERUN, "ticket": ids.ACTION_TICKET}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("runner", [True, False], ids=["runner", "no-runner"])
@pytest.mark.parametrize("step", [*GUIDE_STEPS, None])
@pytest.mark.parametrize("condition", list(Condition))
def test_no_text_offers_a_button_the_alert_does_not_show(
    condition: Condition, step: str | None, runner: bool, lang: str
) -> None:
    target = 'schtasks /Run /TN "eAdm synkronisering"' if runner else None
    msg = render(lang, step=step, condition=condition, rerun_target=target, error=None)
    shown = {e["action_id"] for e in actions(msg["blocks"])}
    sections = [b for b in msg["blocks"] if b["type"] in ("section", "context")]
    text = "\n".join(str(b) for b in sections[1:])  # the status line names no button
    for action, words in POINTERS.items():
        pointed = [w for w in words[lang] if w.lower() in text.lower()]
        if ACTION_IDS[action] not in shown:
            assert not pointed, f"{step} x {condition}, {lang}: {pointed} without the button"
    if ids.ACTION_RERUN in shown:
        assert t(lang, "button.rerun") in text, "the button is there: the advice says so"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_without_a_runner_the_advice_is_the_manual_task_scheduler_route(lang: str) -> None:
    msg = render(lang, step="Import AD", condition=Condition.NOT_STARTED, rerun_target=None)
    body = str(msg["blocks"])
    assert "Task Scheduler" in body and "eAdm synkronisering" in body
    assert t(lang, "button.rerun") not in body
    assert "{rerun}" not in body and "  " not in body.replace("\n", " ")


def test_with_a_runner_the_advice_points_at_the_button_once() -> None:
    msg = render(step="Import AD", condition=Condition.NOT_STARTED)
    advice = next(b for b in msg["blocks"] if "What to do" in str(b))["text"]["text"]
    assert advice.count("Or press *Rerun sync* here") == 1
    assert "1. Run the eAdm sync task from Task Scheduler on the eAdm client server" in advice


def test_import_hr_future_that_does_not_start_is_for_support() -> None:
    msg = render(step="Import HR Future", condition=Condition.NOT_STARTED)
    body = str(msg["blocks"])
    assert "Identum support has to help" in body and "fix this yourself" not in body
    shown = [e["action_id"] for e in actions(msg["blocks"])]
    assert shown[0] == ids.ACTION_TICKET and ids.ACTION_RERUN not in shown


# -- the portal: its address, and pages by menu path -----------------------------------------

SYNC = ("status", "import_history")


def test_the_portal_is_linked_and_pages_named_by_their_menu_path() -> None:
    line = portal_line(SYNC, "en", "https://bergen.eadm.no/", {})
    assert line == (
        "In the eAdm portal at <https://bergen.eadm.no/|bergen.eadm.no>: "
        "Synchronization > Synchronization Status · Synchronization > Import History"
    )


def test_pages_with_an_address_of_their_own_are_linked() -> None:
    pages = {"import_history": "https://bergen.eadm.no/#/import/history"}
    line = portal_line(SYNC, "nb", "https://bergen.eadm.no", pages)
    # Inside a link's label a ">" would end the link: it is written as Slack's entity.
    assert line == (
        "I eAdm-portalen på <https://bergen.eadm.no|bergen.eadm.no>: "
        "Synkronisering > Synkroniseringsstatus · "
        "<https://bergen.eadm.no/#/import/history|Synkronisering &gt; Importhistorikk>"
    )


def test_page_addresses_alone_are_enough() -> None:
    line = portal_line(("status",), "en", None, {"status": "https://p.no/s"})
    assert (
        line == "In the eAdm portal: <https://p.no/s|Synchronization &gt; Synchronization Status>"
    )


def test_no_portal_address_no_portal_line_and_no_invented_paths() -> None:
    assert portal_line(SYNC, "en", None, {}) is None
    assert render(portal_url=None)["blocks"][-2]["type"] != "context"
    threshold = str(render(step=SYNCHRONIZATION, condition=Condition.SAFETY_THRESHOLD)["blocks"])
    assert "<https://p.no|p.no>" in threshold and "https://p.no/" not in threshold


# -- the mention on a new alert --------------------------------------------------------------


@pytest.mark.parametrize(
    "value,markup",
    [
        ("S0123ABCD", "<!subteam^S0123ABCD>"),
        ("U0123ABCD", "<@U0123ABCD>"),
        ("W0123ABCD", "<@W0123ABCD>"),
        ("here", "<!here>"),
        ("channel", "<!channel>"),
        ("none", None),
        (None, None),
    ],
)
def test_mention_markup(value: str | None, markup: str | None) -> None:
    assert mention_markup(value) == markup


def test_a_mention_leads_the_new_alerts_text_and_first_section() -> None:
    msg = render(mention="<!subteam^S0123ABCD>")
    assert msg["text"].startswith("<!subteam^S0123ABCD> :x: Export AD failed")
    assert msg["blocks"][1]["text"]["text"].startswith("<!subteam^S0123ABCD> :x: ")


def test_no_mention_without_one_or_on_a_resolved_alert() -> None:
    assert "subteam" not in str(render())
    resolved = render(
        mention="<!here>", state=AlertState.RESOLVED, resolved_at=at(40), resolution="recovered"
    )
    assert "<!here>" not in str(resolved)


# -- a status without eAdm's steps: the bot says what it cannot see ---------------------------


def task_only(state: TaskState = TaskState.READY, **fields: Any) -> dict[str, Any]:
    """The cycle as the task and exporter sources (and an agent) give it: the task's row."""
    info = TaskInfo("eAdm synkronisering", state, last_run_at=at(0), **fields)
    return snapshot_to_dict(task_snapshot("demo-kommune", info, at(0)))


def confirm_text(blocks: list[dict[str, Any]]) -> str:
    (button,) = [e for e in actions(blocks) if e["action_id"] == ids.ACTION_RERUN]
    return str(button["confirm"]["text"]["text"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_without_eadms_steps_the_confirmation_asks_for_the_portal_check_and_promises_none(
    lang: str,
) -> None:
    blind = render(lang, step=None, condition=Condition.NO_NEW_CYCLE, cycle=task_only())
    seeing = render(lang, step=None, condition=Condition.NO_NEW_CYCLE)
    assert confirm_text(blind["blocks"]) == t(
        lang, "confirm.rerun.text_blind", target='schtasks /Run /TN "eAdm synkronisering"'
    )
    portal = t(lang, "link.status").split(" > ")[1]  # Synchronization Status
    assert portal in confirm_text(blind["blocks"])
    for promise in ("import filter", "importfilteret", "failed", "feilet"):
        assert promise not in confirm_text(blind["blocks"]), "a check the bot cannot make"
    assert confirm_text(seeing["blocks"]) == t(
        lang, "confirm.rerun.text", target='schtasks /Run /TN "eAdm synkronisering"'
    )


@pytest.mark.parametrize("rerun_target", ['schtasks /Run /TN "eAdm synkronisering"', None])
@pytest.mark.parametrize(
    ("step", "condition", "task"),
    [
        (None, Condition.NO_NEW_CYCLE, {}),
        (TASK_STEP, Condition.FAILED, {"last_ok": False, "last_result": 1}),
    ],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_without_eadms_steps_the_advice_starts_with_the_vendors_pre_check(
    lang: str,
    step: str | None,
    condition: Condition,
    task: dict[str, Any],
    rerun_target: str | None,
) -> None:
    msg = render(
        lang, step=step, condition=condition, cycle=task_only(**task), rerun_target=rerun_target
    )
    advice = next(b["text"]["text"] for b in msg["blocks"] if t(lang, "alert.what_to_do") in str(b))
    first = advice.split("\n1. ", 1)[1]
    assert first.startswith(t(lang, "alert.precheck"))


def test_with_eadms_steps_the_advice_has_no_portal_pre_check() -> None:
    for lang in LANGUAGES:
        msg = render(lang, step=None, condition=Condition.NO_NEW_CYCLE)
        assert t(lang, "alert.precheck") not in str(msg["blocks"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_task_schedulers_queued_is_the_task_waiting_to_start(lang: str) -> None:
    snapshot = snapshot_from_dict(task_only(TaskState.QUEUED))
    (line,) = cycle_lines(snapshot, lang, OSLO, at(30))
    assert t(lang, "cycle.task_queued") in line
    assert f" {t(lang, 'state.queued')} " not in f" {line} "
    # An eAdm step queued in the cycle keeps its own word.
    steps = cycle({SYNCHRONIZATION: StepState.QUEUED}, upto=4)
    assert t(lang, "state.queued") in cycle_lines(steps, lang, OSLO, at(30))[4]


# -- who says what: "eAdm says" only over eAdm's own words -----------------------------------


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_eadms_own_message_is_under_eadm_says(lang: str) -> None:
    body = sections(render(lang)["blocks"])
    assert f"*{t(lang, 'said.eadm')}*\n```Client did not answer```" in body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_task_schedulers_report_and_the_log_lines_are_under_their_own_labels(lang: str) -> None:
    info = TaskInfo("eAdm synkronisering", TaskState.READY, last_run_at=at(0))
    report = Said.words(Voice.TASK_SCHEDULER, failure_words(replace(info, last_result=0x41306)))
    lines = Said.words(Voice.LOG, Words.of("log.newest")) + Said.quote(
        Voice.LOG, "22:14:07 ERROR Kunne ikke koble til AD"
    )
    msg = render(
        lang,
        step=TASK_STEP,
        condition=Condition.FAILED,
        error=report + lines,
        cycle=task_only(last_ok=False, last_result=0x41306),
    )
    body = sections(msg["blocks"])
    assert t(lang, "said.eadm") not in str(body), "Task Scheduler's words are not eAdm's"
    (reported,) = [s for s in body if s.startswith(f"*{t(lang, 'said.task_scheduler')}*")]
    assert t(lang, "result.x41306") in reported
    (logged,) = [s for s in body if s.startswith(f"*{t(lang, 'said.log')}*")]
    assert t(lang, "log.newest") in logged and "```22:14:07 ERROR" in logged


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_bots_own_words_are_under_its_label(lang: str) -> None:
    said = Said.words(Voice.BOT, Words.of("source.api.not_json"))
    msg = render(lang, step=None, condition=Condition.SOURCE_UNREACHABLE, error=said, cycle=None)
    body = sections(msg["blocks"])
    assert f"*{t(lang, 'said.bot')}*\n{t(lang, 'source.api.not_json')}" in body
    assert t(lang, "said.eadm") not in str(body)
