"""The playbook against the guide: one row per step x condition the guide names."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core import playbook as playbook_module
from bot.core.domain import CORE_STEPS, EXPORT_AD, GUIDE_STEPS, Condition
from bot.core.errors import ConfigError
from bot.core.i18n import LANGUAGES, catalogue
from bot.core.playbook import Playbook, load_playbook, parse_entries, rerun_disagreements
from bot.core.rerun_guard import can_allow_rerun

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
    ("Import HR", NS, True, True, True),  # the cycle did not start: run the sync script
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
    ("Import AD Results", NS, False, True, False),  # the log folder and support, no Rerun
    ("Other Integrations", NS, True, True, True),
    ("Other Integrations", F, False, True, False),
    (None, Condition.NO_NEW_CYCLE, True, True, True),  # the guide's Import HR row
    # The sync task: run it again where the guide says run the sync script; never over a
    # running one; a disabled task is enabled by hand, not rerun.
    ("Sync task", F, True, True, True),
    ("Sync task", ST, False, True, False),
    (None, Condition.DISABLED, False, False, True),
    # A failed start a new start cannot mend: fix the cause, no Rerun.
    (None, Condition.CANNOT_START, False, True, True),
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


def test_the_entries_of_their_own_are_exactly_the_guide() -> None:
    # A step's own entry answers for it; every other pair falls back to a general one.
    own = {(s, c) for s in GUIDE_STEPS for c in Condition if PLAYBOOK.entry(s, c).step == s}
    assert sorted(own) == sorted((s, c) for s, c, *_ in GUIDE if s)


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
    assert PLAYBOOK.entry("Import HR", Condition.STUCK).step == "*"


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


# -- the playbook and the rerun guard: a Rerun button exactly where a rerun can go through ----

PACKAGED = (Path(__file__).parents[2] / "bot" / "core" / "data" / "playbook.toml").read_text(
    encoding="utf-8"
)


@pytest.mark.parametrize("condition", list(Condition))
@pytest.mark.parametrize("step", [*GUIDE_STEPS, None])
def test_the_shipped_playbook_offers_rerun_where_the_guard_allows_one(
    step: str | None, condition: Condition
) -> None:
    assert (RERUN in PLAYBOOK.entry(step, condition).actions) is can_allow_rerun(step, condition)


def test_the_shipped_playbook_has_no_disagreement() -> None:
    assert rerun_disagreements(PLAYBOOK) == []


Change = Callable[[dict[str, Any]], None] | None  # None: leave the entry out


def doctored(changes: dict[tuple[str, str], Change]) -> Any:
    """The packaged entries with some entries' actions changed, or left out."""
    entries = []
    for raw in tomllib.loads(PACKAGED)["entry"]:
        key = (raw["step"], raw["condition"])
        if key in changes:
            change = changes[key]
            if change is None:
                continue
            change(raw)
        entries.append(raw)
    return {"entry": entries}


def with_rerun(raw: dict[str, Any]) -> None:
    raw["actions"] = [RERUN, *raw["actions"]]


def without_rerun(raw: dict[str, Any]) -> None:
    """No Rerun button, and so no text pointing at one (loading refuses that on its own)."""
    raw["actions"] = [a for a in raw["actions"] if a != RERUN]
    for lang in LANGUAGES:
        raw[lang]["steps"] = [line.replace("{rerun}", "") for line in raw[lang]["steps"]]
        raw[lang]["meaning"] = raw[lang]["meaning"].replace("{rerun}", "")


@pytest.mark.parametrize(
    ("step", "condition", "change", "words"),
    [
        (
            "Import AD",
            "failed",
            with_rerun,
            """playbook entry 'Import AD' x 'failed': its actions offer "rerun", but the rerun """
            "guard never lets a rerun through there, so the Rerun button would always be "
            'refused; take "rerun" out of its actions',
        ),
        (
            "Synchronization",
            "safety_threshold",
            with_rerun,
            "playbook entry 'Synchronization' x 'safety_threshold': its actions offer",
        ),
        ("Sync task", "stuck", with_rerun, "playbook entry 'Sync task' x 'stuck': its actions"),
        (
            "Export AD",
            "failed",
            without_rerun,
            "playbook entry 'Export AD' x 'failed': the rerun guard lets a rerun through there, "
            'but its actions have no "rerun", so the alert would not offer it; add "rerun" to '
            "its actions",
        ),
        (
            "Import HR Future",
            "not_started",
            None,
            "playbook entry '*' x 'not_started' (the advice for Import HR Future): its actions "
            'offer "rerun"',
        ),
        (
            "*",
            "no_new_cycle",
            without_rerun,
            "playbook entry '*' x 'no_new_cycle' (the advice for Import HR, Import HR Future, ",
        ),
        (
            "*",
            "failed",
            with_rerun,
            "playbook entry '*' x 'failed' (the advice for the cycle as a whole): its actions",
        ),
    ],
)
def test_a_rerun_the_guard_disagrees_with_stops_loading_and_names_the_entry(
    step: str, condition: str, change: Change, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Playbook(parse_entries(doctored({(step, condition): change})))
    (problem,) = caught.value.problems
    assert problem.startswith(words), problem
    assert "can_allow_rerun in bot/core/rerun_guard.py" in problem, "where the rule lives"


def test_a_general_entry_wrong_for_one_step_asks_for_an_entry_of_its_own() -> None:
    with pytest.raises(ConfigError) as caught:
        Playbook(parse_entries(doctored({("Import HR Future", "not_started"): None})))
    assert 'give Import HR Future an entry of its own without "rerun"' in str(caught.value)


def test_every_disagreement_is_named_at_once() -> None:
    both = doctored({("Import AD", "failed"): with_rerun, ("Export AD", "failed"): without_rerun})
    with pytest.raises(ConfigError) as caught:
        Playbook(parse_entries(both))
    assert sorted(p.split(":")[0] for p in caught.value.problems) == [
        "playbook entry 'Export AD' x 'failed'",
        "playbook entry 'Import AD' x 'failed'",
    ]


def test_the_admins_extra_lines_go_through_the_same_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text('[[extra]]\nen = "Runbook: https://wiki.example.no/eadm"\n')
    assert load_playbook(extra).entry(EXPORT_AD, F).advice("en").extra
    # Were the guard to stop rerunning a failed Export AD, the same file would stop start-up.
    monkeypatch.setattr(
        playbook_module,
        "can_allow_rerun",
        lambda step, condition: (
            (step, condition) != (EXPORT_AD, F) and can_allow_rerun(step, condition)
        ),
    )
    with pytest.raises(ConfigError, match=r"^playbook entry 'Export AD' x 'failed': its actions"):
        load_playbook(extra)


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
    for match in re.finditer(r"Oppgaveplanlegging\b", text):
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


def norwegian_texts() -> list[tuple[str, str]]:
    """Every Bokmål text the bot has: the catalogue's and the playbook's, with where it is."""
    found = [(f"messages.toml nb.{key}", text) for key, text in catalogue()["nb"].items()]
    for raw in tomllib.loads(TEXTS["playbook.toml"])["entry"]:
        where = f"playbook.toml {raw['step']} x {raw['condition']}"
        found.append((where, raw["nb"]["meaning"]))
        found += [(where, line) for line in raw["nb"]["steps"]]
    return found


# Windows' own Norwegian words for its UI, and the English ones beside them in parentheses:
# Norwegian first, as "Oppgaveplanlegging (Task Scheduler)" always was. Longest first.
WINDOWS_WORDS = [
    ("Oppgaveplanleggingsbibliotek", "Task Scheduler Library"),
    ("«Aktiver logg for alle oppgaver»", "Enable All Tasks History"),
    ("Oppgaveplanlegging", "Task Scheduler"),
    ("Hendelsesliste", "Event Viewer"),
    ("Kjør", "Run"),
    ("Aktiver", "Enable"),
    ("Utløsere", "Triggers"),
]


@pytest.mark.parametrize(("norwegian", "english"), WINDOWS_WORDS)
def test_bokmal_names_windows_ui_in_its_norwegian_words_first(norwegian: str, english: str) -> None:
    longer = [en for _, en in WINDOWS_WORDS if english in en and en != english]
    for where, text in norwegian_texts():
        for other in longer:
            text = text.replace(other, "")
        for match in re.finditer(rf"(?<![/\w]){re.escape(english)}\b", text):
            before = text[: match.start()]
            assert before.endswith(f"{norwegian} ("), (
                f"{where}: {text[max(0, match.start() - 40) : match.end() + 10]!r}"
            )


# What the Bokmål texts once said and no longer may: English-first UI words, calques, the
# English "tenant", a storm, "(er)" plurals, a duration labelled as an error.
NOT_BOKMAL = [
    "Run (Kjør)",
    "Enable (Aktiver)",
    "Triggers (Utløsere)",
    "over en som kjører",
    "oppå en",
    "kom seg",
    "Kom seg",
    "tøm det",
    "tenanten",
    "stormen",
    "(er)",
]


@pytest.mark.parametrize("words", NOT_BOKMAL)
def test_bokmal_wording(words: str) -> None:
    for where, text in norwegian_texts():
        assert words not in text, f"{where}: {text!r}"
    assert catalogue()["nb"]["ticket.for"] != "Feil i"


def test_bokmal_has_no_parentheses_inside_parentheses() -> None:
    for where, text in norwegian_texts():
        depth = 0
        for char in text:
            depth += {"(": 1, ")": -1}.get(char, 0)
            assert depth <= 1, f"{where}: {text!r}"
