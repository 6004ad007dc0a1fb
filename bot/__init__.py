"""eadm-bot: watches the eAdm synchronization cycle and tells Slack when a step is in trouble."""

__version__ = "0.1.0"
