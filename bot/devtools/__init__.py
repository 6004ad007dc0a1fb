"""Local stand-ins for what the bot talks to, for the demo and the tests: a Slack Web API
double and helpers that sign requests the way Slack does."""
