"""Rendering: what the bot says in Slack, as Block Kit built with slack_sdk's models. Pure.

One module per surface, and one they all share:

- `formatting`: Slack's limits, the icons, `SlackMessage`, durations, times, truncation, step
  names, titles and mentions, and the one escaping of outside text for mrkdwn (`escape`,
  `code`, `link`, `outside`);
- `cycle`: a cycle's steps as the eAdm cycle view lists them, the sync task's row, a cycle's
  outcome;
- `alert`: the alert message, its advice and buttons (`AlertFacts` is what it shows);
- `status`: `/eadm status`, `/eadm history` and the App Home (`StatusFacts`, `AlertLink`);
- `ticket`: the support ticket's text and the modal that edits it;
- `replies`: thread replies under an alert, and an escalation's message elsewhere;
- `events`: what Event Viewer says, in an alert's thread and as its ticket's attachment;
- `digest`: the storm digest;
- `windows`: the notice when maintenance windows begin and the summary when they end;
- `questions`: private questions with one button.

Everything a person reads comes from the message catalogue (`bot.core.i18n`) and the playbook.
No module here does I/O: no Slack client, no store session, no clock (callers pass `now`).
The modules import each other directly; callers import from the package, which names here
what they may use.
"""

from bot.slack.render.alert import AlertFacts, portal_line, render_alert, rerun_button
from bot.slack.render.cycle import cycle_lines, outcome
from bot.slack.render.digest import render_digest
from bot.slack.render.events import events_file, render_events_reply
from bot.slack.render.formatting import (
    SlackMessage,
    code,
    escape,
    fmt_duration,
    fmt_span,
    fmt_time,
    fmt_until,
    link,
    mention_markup,
    one_line,
    outside,
    said_text,
    said_words,
    step_name,
    title,
    truncate,
)
from bot.slack.render.questions import (
    notice_modal,
    render_question,
    ticket_again_question,
    ticket_offer,
)
from bot.slack.render.replies import render_escalation, render_reply
from bot.slack.render.status import (
    AlertLink,
    StatusFacts,
    history_lines,
    render_history,
    render_home,
    render_status,
)
from bot.slack.render.ticket import render_ticket, render_ticket_modal
from bot.slack.render.windows import (
    Came,
    CameAndWent,
    WindowTold,
    window_began,
    window_summary,
)

__all__ = [
    "AlertFacts",
    "AlertLink",
    "Came",
    "CameAndWent",
    "SlackMessage",
    "StatusFacts",
    "WindowTold",
    "code",
    "cycle_lines",
    "escape",
    "events_file",
    "fmt_duration",
    "fmt_span",
    "fmt_time",
    "fmt_until",
    "history_lines",
    "link",
    "mention_markup",
    "notice_modal",
    "one_line",
    "outcome",
    "outside",
    "portal_line",
    "render_alert",
    "render_digest",
    "render_escalation",
    "render_events_reply",
    "render_history",
    "render_home",
    "render_question",
    "render_reply",
    "render_status",
    "render_ticket",
    "render_ticket_modal",
    "rerun_button",
    "said_text",
    "said_words",
    "step_name",
    "ticket_again_question",
    "ticket_offer",
    "title",
    "truncate",
    "window_began",
    "window_summary",
]
