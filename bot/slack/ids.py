"""Slack action, view and command IDs: defined once here, looked up everywhere else.

An action's value carries the alert's ID only; everything else is read from the store.
"""

from typing import Final

ACTION_RERUN: Final = "alert.rerun"
ACTION_TICKET: Final = "alert.ticket"
ACTION_ACK: Final = "alert.ack"
ACTION_SNOOZE: Final = "alert.snooze"
ACTION_TICKET_AGAIN: Final = "alert.ticket_again"
ACTION_HOME_REFRESH: Final = "home.refresh"
# A storm digest's picker: its value is the chosen alert's ID.
ACTION_DIGEST_PICK: Final = "digest.pick"

VIEW_TICKET: Final = "ticket.submit"

SNOOZE_CHOICES: Final = ("1h", "4h", "tomorrow")

COMMAND: Final = "/eadm"

# `/eadm rerun` asks first; its button carries the tenant's name, not an alert.
ACTION_RERUN_TENANT: Final = "tenant.rerun"
