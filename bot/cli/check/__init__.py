"""`eadm-bot check`: validate the settings and reach every configured endpoint, one verdict per
line, each failure with what to do about it.

Nothing here changes anything: the database is read, not migrated; Slack is asked, not posted
to; eAdm's status is read; rerun runners and ticket targets are probed, never fired. One module
per job: `verdict` (a verdict and its line), `command` (the run, in order, and the summary),
and the checks themselves: `database`, `slack`, `eadm` (the status API and the sync task),
`events` (Event Viewer, through the events command), `adapters` (rerun runners and ticket
targets) and `windows` (each tenant's next maintenance window, and whether the people an alert
escalates to are in its channel).
"""

from bot.cli.check.adapters import check_rerun, check_ticket
from bot.cli.check.command import check_all, run_check
from bot.cli.check.database import check_database
from bot.cli.check.eadm import check_task
from bot.cli.check.events import check_events
from bot.cli.check.slack import REQUIRED_SCOPES
from bot.cli.check.verdict import Verdict

__all__ = [
    "REQUIRED_SCOPES",
    "Verdict",
    "check_all",
    "check_database",
    "check_events",
    "check_rerun",
    "check_task",
    "check_ticket",
    "run_check",
]
