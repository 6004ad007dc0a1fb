"""What a channel reads about maintenance windows and escalation, row by row and in both
languages: the notice when windows begin, the summary when they end, the status lines, and the
escalation's line in a thread and its message in the escalation channel. at(0) is Tuesday
2026-11-24 22:00 in Oslo."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.core.domain import Condition
from bot.slack.render import (
    Came,
    CameAndWent,
    WindowTold,
    fmt_span,
    fmt_until,
    render_escalation,
    render_reply,
    render_status,
    window_began,
    window_summary,
)
from bot.slack.render.status import StatusFacts
from bot.slack.render.windows import SUMMARY_LINES
from tests.cycles import at

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("ends", "lang", "text"),
    [
        (
            [("bergen", at(240))],
            "en",
            ":wrench: Maintenance window for bergen until 02:00: alerts are held until it ends. "
            "Findings are still recorded; a summary follows, and what is still wrong is posted "
            "then.",
        ),
        (
            [("bergen", at(240)), ("voss", at(240))],
            "nb",
            ":wrench: Vedlikeholdsvindu for bergen, voss til 02:00: varsler holdes tilbake til det "
            "er over. Funn registreres fortsatt; en oppsummering kommer, og det som fortsatt er "
            "galt, varsles da.",
        ),
        (
            [("bergen", at(240)), ("voss", at(120)), ("ulvik", at(240))],
            "en",
            ":wrench: Maintenance windows have begun: alerts are held until each ends. Findings "
            "are still recorded; a summary follows, and what is still wrong is posted then.\n"
            "• bergen, ulvik until 02:00\n• voss until 00:00",
        ),
    ],
)
def test_the_notice_when_windows_begin(ends, lang: str, text: str) -> None:
    assert window_began(ends, lang, tz=OSLO, now=at(0)) == text
    assert "<!" not in text and "<@" not in text, "quiet: it mentions nobody"


FAILED = CameAndWent(at(10), "Import AD", Condition.FAILED, Came.OPEN)
RECOVERED = CameAndWent(at(20), "Export AD", Condition.FAILED, Came.RESOLVED)
CHANGED = CameAndWent(at(-30), "Synchronization", Condition.STUCK, Came.CHANGED)


def test_one_tenants_summary_lists_what_came_and_went() -> None:
    told = [WindowTold("bergen", at(0), at(240), [FAILED, RECOVERED, CHANGED])]
    assert window_summary(told, "en", tz=OSLO, now=at(241)).splitlines() == [
        ":bell: The maintenance window for bergen is over (24.11 22:00–02:00).",
        "3 problems were recorded while it lasted:",
        "• 24.11 22:10 Import AD failed (still open; its alert follows)",
        "• 24.11 22:20 Export AD failed (resolved)",
        "• 24.11 21:30 Synchronization is not completing (changed while it lasted; its message "
        "shows it now)",
    ]
    nothing = [WindowTold("bergen", at(0), at(240), [])]
    assert window_summary(nothing, "nb", tz=OSLO, now=at(241)).splitlines() == [
        ":bell: Vedlikeholdsvinduet for bergen er over (24.11 22:00–02:00).",
        "Ingenting gikk galt mens det varte.",
    ]


def test_a_channels_summary_for_several_tenants_is_one_message() -> None:
    told = [
        WindowTold("alna", at(0), at(240), []),
        WindowTold("bergen", at(0), at(240), [FAILED]),
        WindowTold("voss", at(0), at(240), []),
    ]
    assert window_summary(told, "en", tz=OSLO, now=at(241)).splitlines() == [
        ":bell: The maintenance window is over for 3 tenants (24.11 22:00–02:00).",
        "Nothing went wrong for alna, voss.",
        "*bergen*: 1 problem was recorded while it lasted:",
        "• 24.11 22:10 Import AD failed (still open; its alert follows)",
    ]


def test_a_long_summary_counts_what_it_does_not_list() -> None:
    many = [
        WindowTold(f"t{n:03}", at(0), at(240), [FAILED, RECOVERED]) for n in range(SUMMARY_LINES)
    ]
    lines = window_summary(many, "en", tz=OSLO, now=at(241)).splitlines()
    assert sum(line.startswith("• ") for line in lines) == SUMMARY_LINES
    assert lines[-1] == "… and 2 more."


@pytest.mark.parametrize(
    ("facts", "now", "lines"),
    [
        (
            {"window_until": at(240), "next_window": (at(7 * 1440), at(7 * 1440 + 240))},
            at(30),
            [
                ":wrench: In a maintenance window until 02:00; alerts are held until it ends.",
                "Next maintenance window: 01.12 22:00–02:00.",
            ],
        ),
        (
            {
                "silenced_since": at(600),
                "silenced_until": at(660),
                "silenced_by": "U0KARI",
                "silence_reason": "flytting",
            },
            at(30),
            [
                ":calendar: Alerts are to be silenced 25.11 08:00–09:00, planned by <@U0KARI> "
                "(flytting)."
            ],
        ),
        (
            {"silenced_since": at(0), "silenced_until": at(60), "silenced_by": "U0KARI"},
            at(30),
            [":zipper_mouth_face: Silenced until 23:00 by <@U0KARI>."],
        ),
    ],
)
def test_status_shows_the_window_the_silence_and_the_next(facts, now, lines) -> None:
    message = render_status(StatusFacts("bergen", None, **facts), "en", tz=OSLO, now=now)
    first = message.blocks[1]["text"]["text"]
    assert first.splitlines() == lines


def test_times_of_a_window() -> None:
    assert fmt_until(at(240), OSLO, at(0)) == "02:00", "tonight's end needs no date"
    assert fmt_until(at(2 * 1440), OSLO, at(0)) == "26.11 22:00"
    assert fmt_span(at(0), at(240), OSLO, at(-600)) == "22:00–02:00"
    assert fmt_span(at(1440), at(3 * 1440), OSLO, at(0)) == "25.11 22:00–27.11 22:00"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        (
            "en",
            ":rotating_light: <!subteam^S0ONCALL> *Import AD failed · bergen* has waited 2 h 0 "
            "min and nobody has acknowledged it.",
        ),
        (
            "nb",
            ":rotating_light: <!subteam^S0ONCALL> *Importer AD feilet · bergen* har ventet i 2 t "
            "0 min uten at noen har kvittert.",
        ),
    ],
)
def test_an_escalation_calls_the_next_people_and_says_how_long_it_waited(
    lang: str, text: str
) -> None:
    about = "Import AD failed · bergen" if lang == "en" else "Importer AD feilet · bergen"
    params = {"to": "S0ONCALL", "seconds": 7200}
    found = render_reply("reply.escalated", params, lang, tz=OSLO, now=at(0), about=about)
    assert found == text


def test_the_escalation_channel_gets_a_link_to_the_alert() -> None:
    found = render_escalation(
        {"to": "U0KARI", "seconds": 4000},
        "en",
        tz=OSLO,
        now=at(0),
        about="Export AD failed · voss",
        link="https://x.slack.com/archives/C1/p1",
    )
    assert found == (
        ":rotating_light: <@U0KARI> *Export AD failed · voss* has waited 1 h 6 min and nobody "
        "has acknowledged it: <https://x.slack.com/archives/C1/p1|open the alert>."
    )
