"""What tests and benchmarks share to run eadm-bot for real: the bot (or the agent) as a child
process between the Slack double and simulated eAdm installations, waits on its metrics, signed
requests to it, and the world an end-to-end test stands up and takes down again.

Beside the package, never in it: pyproject's package list names only bot and handlers, so the
wheel ships none of this, and nothing under bot/ or handlers/ may import it. pytest and
`python -m bench.<name>` import it from the repository's root.
"""
