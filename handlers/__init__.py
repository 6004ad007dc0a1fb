"""Slack listeners, split by surface. Each module wires its own listeners in `register`."""

from slack_bolt.async_app import AsyncApp

from bot.app.services import Services
from handlers import actions, commands, home, views


def register_listeners(app: AsyncApp, services: Services) -> None:
    actions.register(app, services)
    commands.register(app, services)
    views.register(app, services)
    home.register(app, services)
