"""What the bot says about a finding: parts with their voices, the bot's own words rendered in
the reader's language, outside text as it came, kept as JSON by the store."""

from __future__ import annotations

import pytest

from bot.core.errors import NotStatusContract, SourceError
from bot.core.said import Part, Said, Voice, Words, as_said, kept
from bot.core.task_rules import result_words

FAILED_RUN = Words.of("task.failed", task="eAdm synkronisering", result=result_words(0x41306))
TOLD = (
    Said.words(Voice.TASK_SCHEDULER, FAILED_RUN)
    + Said.words(Voice.LOG, Words.of("log.newest"))
    + Said.quote(Voice.LOG, "2026-11-24 22:14:07 ERROR Kunne ikke koble til AD")
)


def test_the_bots_words_are_rendered_in_each_language_and_quotes_as_they_came() -> None:
    en, nb = TOLD.text("en"), TOLD.text("nb")
    assert en.startswith('Task Scheduler task "eAdm synkronisering": last run result 0x41306')
    assert "the last run was stopped" in en
    assert nb.startswith("Oppgaven «eAdm synkronisering» i Oppgaveplanlegging (Task Scheduler)")
    assert "siste kjøring ble stoppet" in nb
    for text in (en, nb):
        assert text.endswith("2026-11-24 22:14:07 ERROR Kunne ikke koble til AD")
    assert TOLD.english == en
    assert TOLD.quotes() == ("2026-11-24 22:14:07 ERROR Kunne ikke koble til AD",)


def test_parts_of_one_voice_in_a_row_go_together() -> None:
    assert [(voice, len(parts)) for voice, parts in TOLD.groups()] == [
        (Voice.TASK_SCHEDULER, 1),
        (Voice.LOG, 2),
    ]
    assert TOLD.text("en").count("\n\n") == 1, "voices apart, a voice's parts line by line"


def test_what_the_store_keeps_reads_back_the_same() -> None:
    assert Said.from_json(TOLD.to_json()) == TOLD
    assert Said.from_json(None) is None
    assert Words.from_json(FAILED_RUN.to_json()) == FAILED_RUN


def test_rows_from_before_the_parts_were_kept_read_as_plain_text() -> None:
    assert kept(None, "LDAP error 52") == Said.quote(Voice.EADM, "LDAP error 52")
    assert kept(None, "503", Voice.BOT) == Said.quote(Voice.BOT, "503")
    assert kept(TOLD.to_json(), "whatever the text said") == TOLD
    assert kept(None, None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("Object reference not set", Said((Part(Voice.EADM, quote="Object reference not set"),))),
        (Said(), None),
        (TOLD, TOLD),
    ],
)
def test_plain_text_is_taken_as_eadms_message(value: Said | str | None, expected: Said) -> None:
    assert as_said(value) == expected


def test_a_source_error_carries_its_words_and_says_english_in_logs() -> None:
    inner = NotStatusContract("source.api.no_steps", cycle="c1")
    outer = SourceError("source.task.output", problem=inner.words)
    assert str(inner) == "cycle c1 has no list of steps"
    assert str(outer) == "EADM_TASK_COMMAND's output: cycle c1 has no list of steps"
    assert (
        outer.words.text("nb")
        == "utdata fra EADM_TASK_COMMAND: syklus c1 har ingen liste over steg"
    )
