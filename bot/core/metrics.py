"""Prometheus metrics: defined once here, moved where things happen, served at /metrics.

A scrape every 15 s reads every series, so a series per tenant costs a thousand series at a
thousand tenants: per tenant there are only the polls, the failed polls and the last good
poll (what an alert on one tenant needs); how long polls take is one histogram for all. No
`_created` series beside each counter and histogram: nothing reads them, and they doubled the
per-tenant ones.
"""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()

POLLS = Counter("eadm_bot_polls_total", "Polls of the eAdm status, by tenant", ["tenant"])
POLL_ERRORS = Counter(
    "eadm_bot_poll_errors_total", "Polls that could not read the eAdm status", ["tenant"]
)
POLL_LATENCY = Histogram(
    "eadm_bot_poll_seconds", "Time to read one tenant's eAdm status, all tenants together"
)
LAST_POLL = Gauge(
    "eadm_bot_last_success_timestamp_seconds", "When the status last read well", ["tenant"]
)
FINDINGS = Counter(
    "eadm_bot_findings_total", "Findings by condition (every poll that sees them)", ["condition"]
)
ALERTS = Counter(
    "eadm_bot_alerts_total", "Alert lifecycle events, by condition", ["condition", "event"]
)
OUTBOX_DEPTH = Gauge("eadm_bot_outbox_depth", "Messages owed to Slack and not yet accepted")
OUTBOX_AGE = Histogram(
    "eadm_bot_outbox_delay_seconds",
    "From a message being owed to Slack accepting it",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
DELIVERY_LATENCY = Histogram("eadm_bot_slack_send_seconds", "Time of one successful send")
SLACK_CALLS = Counter(
    "eadm_bot_slack_calls_total", "Slack Web API calls that succeeded", ["method"]
)
SLACK_ERRORS = Counter(
    "eadm_bot_slack_errors_total",
    "Slack Web API calls that failed, by Slack's error code (or 'unreachable')",
    ["method", "error"],
)
RATE_LIMIT_WAITS = Counter(
    "eadm_bot_slack_rate_limited_total",
    "Times Slack asked us to wait (Retry-After): in the call, or in the outbox",
)
ESCALATIONS = Counter(
    "eadm_bot_escalations_total",
    "Alerts nobody acknowledged in time, escalated (each at most once), by tenant",
    ["tenant"],
)
WINDOWS = Counter(
    "eadm_bot_maintenance_windows_total",
    "Stretches of quiet (maintenance windows and silences) begun and ended, by event",
    ["event"],
)
ACTIONS = Counter("eadm_bot_actions_total", "Clicks and commands", ["action", "outcome"])
REFUSED = Counter(
    "eadm_bot_refused_requests_total",
    "Requests refused before any work (a bad signature, a body or field Slack would not send)",
    ["reason"],
)
