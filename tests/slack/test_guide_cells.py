"""Every advice cell that once said what the guide does not, rendered as an admin reads it
(the alert, with the project's own renderer) in English and Bokmål, against what
`eadm-sync-troubleshooting.txt` and the vendor's notes say. One test per corrected cell."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from bot.core.domain import (
    EXPORT_AD,
    IMPORT_AD,
    IMPORT_AD_RESULTS,
    IMPORT_HIERARCHY,
    IMPORT_HR,
    IMPORT_HR_FUTURE,
    OTHER_INTEGRATIONS,
    SYNCHRONIZATION,
    TASK_STEP,
    Condition,
    StepState,
    snapshot_to_dict,
)
from bot.core.i18n import LANGUAGES, t
from bot.core.lifecycle import AlertState
from bot.core.playbook import load_playbook
from bot.core.rerun_guard import GO, RerunFacts, judge
from bot.slack.render import AlertFacts, render_alert
from tests.cycles import at, cycle

OSLO = ZoneInfo("Europe/Oslo")
PLAYBOOK = load_playbook()
RUNNER = 'schtasks /Run /TN "eAdm synkronisering"'
# The cache note's own words, in each language.
CACHE = {"en": "Clear cache", "nb": "Tøm hurtigbuffer"}
EVENT_VIEWER = {"en": "Event Viewer", "nb": "Hendelsesliste (Event Viewer)"}


def advice(step: str | None, condition: Condition, lang: str, runner: str | None = RUNNER) -> str:
    """The alert's "What it means" and "What to do", as rendered."""
    alert = AlertFacts(
        id=1,
        tenant="demo-kommune",
        step=step,
        condition=condition,
        error=None,
        since=at(20),
        state=AlertState.OPEN,
        cycle=snapshot_to_dict(cycle()),
        rerun_target=runner,
    )
    message = render_alert(
        alert, PLAYBOOK.entry(step, condition), lang, tz=OSLO, now=at(30), portal_url=None
    )
    return "\n".join(
        b["text"]["text"]
        for b in message.blocks
        if b["type"] == "section" and t(lang, "alert.what_to_do") in b["text"]["text"]
    )


def steps(text: str) -> list[str]:
    return re.findall(r"^\d+\. (.*)$", text, re.MULTILINE)


def buttons(step: str | None, condition: Condition) -> set[str]:
    return set(PLAYBOOK.entry(step, condition).actions)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_import_hr_not_started_is_a_cycle_that_did_not_start(lang: str) -> None:
    """Before: "the step before finished" (Import HR has none). The guide's Import HR row: run
    the sync script; if it does not start, Event Viewer and c:/eadm/logg, then support."""
    text = advice(IMPORT_HR, Condition.NOT_STARTED, lang)
    assert "step before" not in text and "Steget før" not in text
    assert ("did not get going" if lang == "en" else "kom ikke i gang") in text
    first, logs, support, cache = steps(text)
    assert ("choose Run" if lang == "en" else "Kjør (Run)") in first
    assert EVENT_VIEWER[lang] in logs and "c:/eadm/logg" in logs
    assert "support" in support and CACHE[lang] in cache
    assert "rerun" in buttons(IMPORT_HR, Condition.NOT_STARTED)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_import_hr_future_not_started_is_support_without_the_guides_words_for_a_failure(
    lang: str,
) -> None:
    """Before: quoted "you cannot resolve this yourself", which the guide says of a failure."""
    text = advice(IMPORT_HR_FUTURE, Condition.NOT_STARTED, lang)
    for words in ("cannot resolve", "cannot fix", "not yours", "kan du ikke rette", "ikke rette"):
        assert words not in text
    (only,) = steps(text)
    assert "Identum support" in only
    assert buttons(IMPORT_HR_FUTURE, Condition.NOT_STARTED) == {"ticket", "ack", "snooze"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_import_ad_results_not_started_is_the_log_folder_and_support_without_rerun(
    lang: str,
) -> None:
    """Before: the general not-started advice, Rerun included. The guide's only advice for the
    step: the log files in c:/eadm/logg and Identum support."""
    text = advice(IMPORT_AD_RESULTS, Condition.NOT_STARTED, lang)
    logs, support = steps(text)
    assert "c:/eadm/logg" in logs and "Identum support" in support
    assert t(lang, "button.rerun") not in text
    assert "rerun" not in buttons(IMPORT_AD_RESULTS, Condition.NOT_STARTED)


@pytest.mark.parametrize("step", [IMPORT_HIERARCHY, IMPORT_AD, SYNCHRONIZATION, OTHER_INTEGRATIONS])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_step_that_does_not_start_runs_the_sync_script_then_the_logs_then_support(
    lang: str, step: str
) -> None:
    run, logs, support, cache = steps(advice(step, Condition.NOT_STARTED, lang))
    assert ("Task Scheduler" if lang == "en" else "Oppgaveplanlegging (Task Scheduler)") in run
    assert t(lang, "alert.rerun_here", button=t(lang, "button.rerun")) in run
    assert EVENT_VIEWER[lang] in logs and "c:/eadm/logg" in logs
    assert "support" in support and CACHE[lang] in cache


@pytest.mark.parametrize("step", ["*", SYNCHRONIZATION])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_safety_threshold_names_resume_instead_of_pointing_at_a_step_by_number(
    lang: str, step: str
) -> None:
    """Before: "resume at once (last step)", which pointed at step 4 of 5."""
    text = advice(step if step != "*" else IMPORT_HR, Condition.SAFETY_THRESHOLD, lang)
    assert "last step" not in text and "siste punkt" not in text
    resume = "Resume synchronization cycle" if lang == "en" else "Gjenoppta synkroniseringssyklus"
    first, *rest = steps(text)
    assert resume in first
    (start,) = [line for line in rest if "Task Scheduler" in line]
    assert CACHE[lang] in start, "a full sync started by hand clears the cache after it"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_refused_failed_step_claims_no_warning_the_guide_contradicts_at_export_ad(
    lang: str,
) -> None:
    """Before: "the vendor warns against starting a sync over a failed one", while a failed
    Export AD is answered with exactly that."""
    text = t(lang, "rerun.failed_step", step="Import AD")
    assert "vendor" not in text and "everandøren" not in text
    assert "Identum support" in text
    export_failed = cycle({EXPORT_AD: StepState.FAILED}, upto=5)
    assert judge(RerunFacts(True, export_failed, at(60), 900)) == GO


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_disabled_task_names_no_triggers_tab(lang: str) -> None:
    """Before: "check its Triggers tab", which no document names."""
    text = advice(None, Condition.DISABLED, lang)
    assert "Triggers" not in text and "Utløsere" not in text
    enable, now, cache, _snooze = steps(text)
    assert ("choose Enable" if lang == "en" else "Aktiver (Enable)") in enable
    assert t(lang, "link.status").split(" > ")[1] in now, "the vendor's pre-check before Run"
    assert CACHE[lang] in cache


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_stuck_task_says_when_task_scheduler_refuses_a_second_start(lang: str) -> None:
    """Before: "Task Scheduler refuses a second instance anyway"; it does unless the task's
    settings allow parallel runs (0x8004131F)."""
    (first, *_) = steps(advice(TASK_STEP, Condition.STUCK, lang))
    assert "anyway" not in first and "uansett" not in first
    assert "0x8004131F" in first
    assert ("parallel runs" if lang == "en" else "parallelle kjøringer") in first


MANUAL_START = {
    "en": re.compile(r"choose Run|start a full sync|start one now|Run the eAdm sync task"),
    "nb": re.compile(r"Kjør \(Run\)|start en full synkronisering|Kjør eAdm-synkronisering"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_cache_note_follows_every_manual_start(lang: str) -> None:
    """Before: after some starts and not others. The vendor: after a sync started by hand the
    portal's cached view may be stale; clear it under the profile icon > Settings."""
    checked = 0
    for entry in {id(e): e for e in PLAYBOOK._entries.values()}.values():
        lines = list(entry.advice(lang).steps_to_take)
        starts = [i for i, line in enumerate(lines) if MANUAL_START[lang].search(line)]
        if not starts:
            continue
        checked += 1
        after = " ".join(lines[starts[0] :])
        assert CACHE[lang] in after, (entry.step, entry.condition.value, lang)
    assert checked >= 12
    for key in ("rerun.none", "rerun.confirmed"):  # the manual route, and the bot's own start
        assert CACHE[lang] in t(lang, key, tenant="t", cycle="c2", time="06:00")


def test_the_label_eadm_says_is_gone_from_where_it_stood_over_any_text() -> None:
    """Before: one label, "eAdm says", over every error text; now each voice has its own."""
    from bot.core.i18n import keys

    assert "alert.error" not in keys("en") and "ticket.error" not in keys("en")
    assert {f"said.{v}" for v in ("eadm", "task_scheduler", "log", "bot")} <= keys("nb")
