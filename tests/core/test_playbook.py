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
    ("Import HR Future", NS, False, True, False),  # "you cannot resolve this yourself"
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
    # The sync task: run it again where the guide says run the sync script; never over a
    # running one; a disabled task is enabled by hand, not rerun.
    ("Sync task", F, True, True, True),
    ("Sync task", ST, False, True, False),
    (None, Condition.DISABLED, False, False, True),
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


def test_a_rerun_mark_needs_a_rerun_action() -> None:
    raw = {
        "step": "*",
        "condition": "failed",
        "admin_can_fix": False,
        "actions": ["ticket", "ack", "snooze"],
        "en": {"meaning": "m", "steps": ["Run it. {rerun}"]},
        "nb": {"meaning": "m", "steps": ["Kjør den."]},
    }
    with pytest.raises(ValueError, match=r"entry 1 .*\[en\] points at the Rerun button"):
        parse_entries({"entry": [raw]})


# -- the words: one name for each thing, in each language ---------------------------------

DATA = Path(__file__).parents[2] / "bot" / "core" / "data"
TEXTS = {
    name: (DATA / name).read_text(encoding="utf-8") for name in ("playbook.toml", "messages.toml")
}
DOCS = Path(__file__).parents[2]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_bokmal_says_ny_kjoring_and_one_word_for_event_viewer(name: str) -> None:
    text = TEXTS[name]
    assert "omkjøring" not in text.lower()
    assert "Hendelseslogg" not in text
    # Event Viewer in a Norwegian text always beside its Norwegian name, and the other way round.
    for match in re.finditer(r"Hendelsesliste|Event Viewer", text):
        line = text[text.rfind("\n", 0, match.start()) : text.find("\n", match.end())]
        if any(word in line for word in ("Hendelsesliste", "feil", "Se ", "Starter")):
            assert "Hendelsesliste (Event Viewer)" in line, line
    for match in re.finditer(r"Oppgaveplanlegging", text):
        assert text[match.end() :].startswith(" (Task Scheduler)"), text[match.start() :][:80]


def test_every_norwegian_advice_names_event_viewer_the_same_way() -> None:
    for step in GUIDE_STEPS:
        for condition in Condition:
            nb = " ".join(PLAYBOOK.entry(step, condition).advice("nb").steps_to_take)
            if "Event Viewer" in nb or "Hendelsesliste" in nb:
                assert nb.count("Hendelsesliste (Event Viewer)") == nb.count("Event Viewer")


def test_the_task_runs_on_the_eadm_client_server() -> None:
    paths = [DATA / "playbook.toml", DATA / "messages.toml", DOCS / "README.md"]
    paths += sorted((DOCS / "deploy").rglob("*.md")) + sorted((DOCS / "deploy").rglob("*.xml"))
    paths += sorted((DOCS / "docs").rglob("*.md"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"eAdm server|eAdm-serveren|eadm-server", text), path.name


@pytest.mark.parametrize("step", ["Import HR", "Synchronization"])  # the general one, its own
def test_the_threshold_names_the_portals_resume_button(step: str) -> None:
    entry = PLAYBOOK.entry(step, T)
    assert "«Gjenoppta synkroniseringssyklus»" in " ".join(entry.advice("nb").steps_to_take)
    assert '"Resume synchronization cycle"' in " ".join(entry.advice("en").steps_to_take)


@pytest.mark.parametrize("condition", [F, NS])
def test_other_integrations_use_eadms_own_step_names(condition: Condition) -> None:
    entry = PLAYBOOK.entry("Other Integrations", condition)
    for lang in LANGUAGES:
        meaning = entry.advice(lang).meaning
        for word in ("Export Azure", "Entra ID", "Export eFeide", "Feide"):
            assert word in meaning, (lang, word)
