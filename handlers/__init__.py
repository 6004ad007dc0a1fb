"""Slack listeners, split by surface. Each module wires its own listeners in `register`.

A listener acks, calls one use case and answers with what it got back. It imports the app
layer (and Slack IDs), never the store, sources or adapters.
"""

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from handlers import actions, commands, home, membership, unknown, views


def register_listeners(app: AsyncApp, cases: UseCases) -> None:
    actions.register(app, cases)
    commands.register(app, cases)
    views.register(app, cases)
    home.register(app, cases)
    membership.register(app, cases)


def register_fallbacks(app: AsyncApp, cases: UseCases) -> None:
    """What answers requests no other listener takes: registered once every other listener
    is, since Bolt asks listeners in the order they were registered."""
    unknown.register(app, cases)
