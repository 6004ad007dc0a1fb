"""The playbook against the guide: one row per step x condition the guide names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.domain import CORE_STEPS, GUIDE_STEPS, Condition
from bot.core.i18n import LANGUAGES
from bot.core.playbook import load_playbook, parse_entries

PLAYBOOK = load_playbook()
F, T, NS, ST = (
    Condition.FAILED,
    Condition.SAFETY_THRESHOLD,
    Condition.NOT_STARTED,
    Condition.STUCK,
)
RERUN, TICKET = "rerun", "ticket"

# (step, condition, rerun offered, ticket offered, admin can fix) — as the guide says.
GUIDE = [
    ("Import HR", F, False, True, False),
    ("Import HR Future", F, False, True, False),
    ("Import Hierarchy", NS, True, True, True),
    ("Import Hierarchy", F, False, True, False),
    ("Import AD", NS, True, True, True),
    ("Import AD", F, False, True, False),
    ("Synchronization", T, False, True, True),
    ("Synchronization", NS, True, True, True),
    ("Synchronization", ST, False, True, False),
    ("Synchronization", F, False, True, False),
    ("Export AD", F, True, True, True),
    ("Import AD Results", F, False, True, False),
    ("Other Integrations", NS, True, True, True),
    ("Other Integrations", F, False, True, False),
    (None, Condition.NO_NEW_CYCLE, True, True, True),  # the guide's Import HR row
]


@pytest.mark.parametrize("step,condition,rerun,ticket,can_fix", GUIDE)
def test_every_guide_row_has_its_entry_and_buttons(
    step: str | None, condition: Condition, rerun: bool, ticket: bool, can_fix: bool
) -> None:
    entry = PLAYBOOK.entry(step, condition)
    assert entry.step == (step or "*")
    assert (RERUN in entry.actions, TICKET in entry.actions) == (rerun, ticket)
    assert {"ack", "snooze"} <= set(entry.actions)
    assert entry.admin_can_fix is can_fix
    for lang in LANGUAGES:
        advice = entry.advice(lang)
        assert advice.meaning and advice.steps_to_take


def test_covered_is_exactly_the_guide() -> None:
    assert sorted(PLAYBOOK.covered()) == sorted((s, c) for s, c, *_ in GUIDE if s)


@pytest.mark.parametrize("step", GUIDE_STEPS)
def test_never_a_rerun_for_the_safety_threshold_or_a_running_step(step: str) -> None:
    for condition in (Condition.SAFETY_THRESHOLD, Condition.STUCK):
        assert RERUN not in PLAYBOOK.entry(step, condition).actions


@pytest.mark.parametrize("step", GUIDE_STEPS)
@pytest.mark.parametrize("condition", list(Condition))
def test_every_step_and_condition_gets_advice_in_both_languages(
    step: str, condition: Condition
) -> None:
    entry = PLAYBOOK.entry(step, condition)
    for lang in LANGUAGES:
        assert entry.advice(lang).steps_to_take


def test_integrations_are_advised_as_other_integrations() -> None:
    assert PLAYBOOK.entry("Export Azure", Condition.NOT_STARTED).step == "Other Integrations"
    assert PLAYBOOK.entry("Export eFeide", Condition.FAILED).step == "Other Integrations"
    assert PLAYBOOK.entry("Synkronisering", Condition.SAFETY_THRESHOLD).step == "Synchronization"


def test_unknown_or_silent_rows_fall_back_to_the_general_entry() -> None:
    assert PLAYBOOK.entry("Import HR Future", Condition.STUCK).step == "*"
    assert PLAYBOOK.entry("Import HR", Condition.NOT_STARTED).step == "*"


def test_safety_threshold_carries_the_review_and_resume_procedure() -> None:
    entry = PLAYBOOK.entry("Synchronization", Condition.SAFETY_THRESHOLD)
    en = " ".join(entry.advice("en").steps_to_take)
    nb = " ".join(entry.advice("nb").steps_to_take)
    for word in ("Import History", "add", "edit", "delete", "Resume synchronization cycle"):
        assert word in en
    for word in ("Importhistorikk", "Gjenoppta synkroniseringssyklus", "Synkroniseringsstatus"):
        assert word in nb
    assert entry.links == ("status", "import_history")


def test_rerun_advice_names_the_task_and_the_logs() -> None:
    for step, condition, rerun, *_ in GUIDE:
        if not rerun:
            continue
        entry = PLAYBOOK.entry(step, condition)
        en, nb = (" ".join(entry.advice(lang).steps_to_take) for lang in LANGUAGES)
        assert "Task Scheduler" in en and "eAdm synkronisering" in en
        assert "Oppgaveplanlegging" in nb and "eAdm synkronisering" in nb
        assert "c:/eadm/logg" in en and "c:/eadm/logg" in nb
        assert "Event Viewer" in en and "Hendelsesliste" in nb


@pytest.mark.parametrize("step", [s for s in CORE_STEPS if s != "Import HR Future"])
def test_support_entries_say_contact_support(step: str) -> None:
    entry = PLAYBOOK.entry(step, Condition.FAILED)
    assert "support" in " ".join(entry.advice("en").steps_to_take).lower()


def test_import_ad_results_points_at_the_logs() -> None:
    advice = PLAYBOOK.entry("Import AD Results", Condition.FAILED).advice("en")
    assert "c:/eadm/logg" in " ".join(advice.steps_to_take)


def test_extra_lines_are_appended(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[[extra]]\nstep = "*"\ncondition = "failed"\nen = "Call 55 55 55 55"\nnb = "Ring 55"\n'
        '[[extra]]\nen = "Runbook: https://wiki.example.no/eadm"\n'
    )
    playbook = load_playbook(extra)
    failed = playbook.entry("Import AD", Condition.FAILED)
    assert failed.advice("en").extra == (
        "Call 55 55 55 55",
        "Runbook: https://wiki.example.no/eadm",
    )
    assert failed.advice("nb").extra[0] == "Ring 55"
    stuck = playbook.entry("Synchronization", Condition.STUCK)
    assert stuck.advice("en").extra == ("Runbook: https://wiki.example.no/eadm",)
    assert load_playbook().entry("Import AD", Condition.FAILED).advice("en").extra == ()


@pytest.mark.parametrize(
    "text,words",
    [
        ('[[extra]]\nstep = "Import XY"\nen = "x"\n', "unknown step"),
        ('[[extra]]\ncondition = "broken"\nen = "x"\n', "unknown condition"),
        ('[[extra]]\nstep = "*"\n', "en ="),
        ("[[extra]\n", "not valid TOML"),
    ],
)
def test_a_broken_extra_file_says_what_is_wrong(tmp_path: Path, text: str, words: str) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(text)
    with pytest.raises(ValueError, match=re.escape(words)):
        load_playbook(extra)


def test_a_broken_entry_is_named() -> None:
    with pytest.raises(ValueError, match=r"entry 1 .*unknown action"):
        parse_entries({"entry": [{"step": "*", "condition": "failed", "actions": ["reboot"]}]})
